"""The axis-wise kind on the cuda backend: device arrays in and out (the last axis: a block per
row; other axes: a thread per line), where=, gradients from x and from the output, out= and
inplace=, host arrays with backend="cuda", and refused calls. Expected values are the CPU
backend's (tests/test_axiswise.py checks those against the references)."""

import numpy as np
import pytest
from numba import cuda

import fastact
from fastact.registry import AXISWISE, of_kind

SPECS = of_kind(AXISWISE)
NAMES = list(SPECS)
#: rows with inf and NaN are computed without a floating-point warning (the simulator runs the
#: kernels as Python with NumPy scalars, which would warn where a GPU stays silent)
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _x(shape, dtype, seed=0):
    x = (np.random.default_rng(seed).standard_normal(shape) * 4).astype(dtype)
    x.reshape(-1)[:3] = [np.inf, -np.inf, 100.0][:x.size]  # a NaN row, and -inf elements
    return x


def _close(got, want, dtype):
    np.testing.assert_allclose(got, want, rtol=8 * np.finfo(dtype).eps,
                               atol=8 * np.finfo(dtype).eps)


@pytest.mark.parametrize("name", NAMES)
def test_device_arrays_every_layout(name):
    spec = SPECS[name]
    fn, grad = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    for shape, axis, order, dtype in (((3, 6), -1, "C", np.float32),
                                      ((2, 3, 4), 1, "C", np.float64),
                                      ((3, 5), 0, "F", np.float32)):
        x = np.asarray(_x(shape, dtype), order=order)
        dx = cuda.to_device(x)
        y = fn(dx, axis)
        want = fn(x, axis, backend="cpu")
        _close(y.copy_to_host(), want, dtype)
        g = np.random.default_rng(1).standard_normal(np.shape(want)).astype(dtype)
        dg = cuda.to_device(np.asarray(g, order=order) if g.ndim else g.reshape(1))
        if spec.reduces:
            got = grad(cuda.to_device(g), dx, axis).copy_to_host()
        else:
            got = grad(dg, dx, axis).copy_to_host()
            _close(grad(dg, result=y, axis=axis).copy_to_host(),
                   grad(g, result=want, axis=axis, backend="cpu"), dtype)
        _close(got, grad(g, x, axis, backend="cpu"), dtype)


@pytest.mark.parametrize("name", [n for n, s in SPECS.items() if s.masks])
def test_where_on_the_device(name):
    fn, grad = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _x((4, 7), np.float64, seed=2)
    w = np.random.default_rng(3).random((4, 7)) > 0.4
    w[1] = False
    for axis in (1, 0)[:1 if name != "softmax" else 2]:
        y = fn(cuda.to_device(x), axis, where=cuda.to_device(w)).copy_to_host()
        np.testing.assert_allclose(y, fn(x, axis, where=w), rtol=1e-14)
        g = np.ones(np.shape(y))
        got = grad(cuda.to_device(g), cuda.to_device(x), axis, where=cuda.to_device(w))
        np.testing.assert_allclose(got.copy_to_host(), grad(g, x, axis, where=w), rtol=1e-13,
                                   atol=1e-15)


def test_host_arrays_with_the_cuda_backend():
    x = _x((4, 5), np.float32, seed=4)
    for name in NAMES:
        fn = getattr(fastact, name)
        np.testing.assert_allclose(fn(x, 0, backend="cuda"), fn(x, 0, backend="cpu"),
                                   rtol=1e-6, atol=1e-7)
    g = np.ones(4, np.float32)
    np.testing.assert_allclose(fastact.logsumexp_grad(g, x, 1, backend="cuda"),
                               fastact.logsumexp_grad(g, x, 1, backend="cpu"), rtol=1e-6)


def test_out_inplace_and_refusals():
    x = _x((3, 5), np.float32, seed=5)
    dx = cuda.to_device(x)
    out = cuda.device_array((3, 5), np.float32)
    assert fastact.softmax(dx, out=out) is out
    np.testing.assert_allclose(out.copy_to_host(), fastact.softmax(x), rtol=1e-6)
    dg = cuda.to_device(np.ones((3, 5), np.float32))
    assert fastact.softmax_grad(dg, result=out, inplace=True) is dg
    with pytest.raises(ValueError, match="neighbours"):
        fastact.softmax(cuda.to_device(np.zeros((2, 3, 4), np.float32)), (0, 2))
    with pytest.raises(TypeError, match="float16"):
        fastact.softmax(cuda.to_device(np.zeros(4, np.float16)))
    with pytest.raises(ValueError, match="shares memory"):
        fastact.softmax(dx, out=dx)
    np.testing.assert_array_equal(dx.copy_to_host(), x)
