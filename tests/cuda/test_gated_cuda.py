"""The gated kind on the cuda backend: device arrays in and out (split and two-input forms, every
axis, C and Fortran order), gradients, out= and inplace=, host arrays with backend="cuda", and
refused calls. Expected values are the CPU backend's (tests/test_gated.py checks those against
the references), compared as tests/cuda/test_cuda.py compares."""

import numpy as np
import pytest
from numba import cuda

import fastact
from fastact.backends import cuda as cuda_backend
from fastact.registry import PIECEWISE_LINEAR

from ..reference import GATED
from .test_cuda import TOL_ULP, assert_matches, host

NAMES = list(GATED)
#: (activation, params) for every variant
CASES = [(n, ({} if k == n else {s.choice.name: k[len(n) + 1:]}))
         for n, s in GATED.items() for k in s.references()]
IDS = [f"{n}-{p.get('approximate', 'default')}" for n, p in CASES]


def tol(name):
    return 0 if GATED[name].family == PIECEWISE_LINEAR else TOL_ULP


def _x(shape, dtype=np.float32, seed=0):
    x = (np.random.default_rng(seed).standard_normal(shape) * 4).astype(dtype)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, -100.0, 100.0, 1e-30]
    flat = x.reshape(-1)
    flat[:min(8, flat.size)] = special[:flat.size]
    return x


@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_split_forms_on_the_device(name, params):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    for order in ("C", "F"):
        x = np.asarray(_x((2, 4, 6)), order=order)
        d = cuda.to_device(x)
        for axis in (0, -1):
            y = f(d, axis=axis, **params)
            assert cuda_backend.is_device_array(y)
            want = f(x, axis=axis, **params, backend="cpu")
            assert_matches(host(y), want, tol(name), f"{name} {order} axis {axis}")
            g = np.asarray(_x(want.shape, seed=1), order=order)  # one layout on the device
            gx = fg(cuda.to_device(g), d, axis=axis, **params)
            assert_matches(host(gx), fg(g, x, axis=axis, **params, backend="cpu"), tol(name),
                           f"{name} {order} axis {axis} grad")


@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_two_input_form_out_and_inplace(name, params):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    a, b, g = _x((24,), seed=2), _x((24,), seed=3), _x((24,), seed=4)
    da_, db_, dg = (cuda.to_device(v) for v in (a, b, g))
    want = f(a, b, **params, backend="cpu")
    assert_matches(host(f(da_, db_, **params)), want, tol(name), f"{name} two-input")
    out = cuda.device_array(24, np.float32)
    assert f(da_, db_, **params, out=out) is out
    assert_matches(host(out), want, tol(name), f"{name} out=")
    ga, gb = fg(dg, da_, db_, **params)
    wa, wb = fg(g, a, b, **params, backend="cpu")
    assert_matches(host(ga), wa, tol(name), f"{name} grad_gate")
    assert_matches(host(gb), wb, tol(name), f"{name} grad_up")
    work_a, work_b = cuda.to_device(a), cuda.to_device(b)
    r = fg(dg, work_a, work_b, **params, inplace=True)
    assert r[0] is work_a and r[1] is work_b
    assert_matches(host(work_a), wa, tol(name), f"{name} grad in place")
    work = cuda.to_device(a)
    assert f(work, db_, **params, inplace=True) is work
    assert_matches(host(work), want, tol(name), f"{name} in place")


@pytest.mark.parametrize("name", NAMES)
def test_host_arrays_through_the_gpu(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _x((4, 12), seed=5)
    for axis in (0, 1):
        want = f(x, axis=axis, backend="cpu")
        assert_matches(f(x, axis=axis, backend="cuda"), want, tol(name), f"{name} {axis}")
        g = _x(want.shape, seed=6)
        assert_matches(fg(g, x, axis=axis, backend="cuda"),
                       fg(g, x, axis=axis, backend="cpu"), tol(name), f"{name} grad {axis}")
    work = x.copy()
    f(work, backend="cuda", inplace=True)
    assert_matches(work[:, :6], f(x, backend="cpu"), tol(name), f"{name} in place")
    np.testing.assert_array_equal(work[:, 6:], x[:, 6:])


def test_float16_and_float64_on_the_device():
    x16 = _x((4, 8)).astype(np.float16)
    y = fastact.swiglu(cuda.to_device(x16))
    assert np.dtype(y.dtype) == np.float16
    assert_matches(host(y), fastact.swiglu(x16, backend="cpu"), 1, "float16")
    x64 = _x((4, 8), np.float64)
    assert_matches(host(fastact.reglu(cuda.to_device(x64))), fastact.reglu(x64), 0, "float64")


def test_refused_on_the_device():
    d = cuda.to_device(_x((4, 6)))
    x0 = host(d)
    with pytest.raises(ValueError, match="odd"):
        fastact.swiglu(cuda.to_device(_x((4, 7))))
    with pytest.raises(ValueError, match="no broadcasting on the device"):
        fastact.swiglu(d, cuda.to_device(_x((6,))))
    with pytest.raises(TypeError, match="same dtype"):
        fastact.swiglu(cuda.to_device(_x((6,))), cuda.to_device(_x((6,), np.float64)))
    with pytest.raises(ValueError, match="out has shape"):
        fastact.swiglu(d, out=cuda.device_array((4, 6), np.float32))
    with pytest.raises(ValueError, match="overlaps an input"):
        fastact.swiglu_grad(cuda.to_device(_x((4, 3))), d, out=d)
    with pytest.raises(ValueError, match="runs on the CPU"):
        fastact.swiglu(d, backend="cpu")
    np.testing.assert_array_equal(host(d), x0)


@pytest.mark.parametrize("name", ["swiglu", "reglu"])
def test_out_in_another_order_is_refused_both_ways(name):
    """An out= in C order beside Fortran-order inputs is refused (the loop walks every operand
    in one memory order), forward and gradient alike; in the inputs' order it is filled."""
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = np.asfortranarray(_x((4, 6)))
    g = np.asfortranarray(_x((4, 3), seed=1))
    d, dg = cuda.to_device(x), cuda.to_device(g)
    with pytest.raises(ValueError, match="mix C and Fortran order"):
        f(d, out=cuda.device_array((4, 3), np.float32, order="C"))
    c_out = cuda.device_array((4, 6), np.float32, order="C")
    with pytest.raises(ValueError, match="mix C and Fortran order"):
        fg(dg, d, out=c_out)
    f_out = cuda.device_array((4, 6), np.float32, order="F")
    assert fg(dg, d, out=f_out) is f_out
    assert_matches(host(f_out), fg(g, x, backend="cpu"), tol(name), f"{name} grad out F")
