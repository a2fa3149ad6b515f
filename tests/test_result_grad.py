"""Gradients from the forward output (``result=y``) and gradients written into grad_output.

Checked against the x-based gradient (the same value wherever y determines f' well) and against
PyTorch's own backward ops with ``is_result`` (ATen's path for in-place activations).
"""

import numpy as np
import pytest

import fastact
from fastact._calls import FROM_RESULT
from fastact.registry import REQUIRED

from .reference import ELEMENTWISE

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 6.0, -1.0, 1.0, 3.0, -3.0, 20.0]
#: per activation, the last parameter set of its reference (non-default values where it has
#: them), which every result_check accepts
PARAMS = {n: dict(s.reference.params[-1]) for n, s in ELEMENTWISE.items()}


def _inputs(dtype, n=4000):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(n) * 4).astype(dtype)
    x[: len(SPECIAL)] = SPECIAL
    g = rng.standard_normal(n).astype(dtype)
    return g, x


def test_the_list_of_activations_that_take_result():
    assert set(FROM_RESULT) == {n for n, s in ELEMENTWISE.items()
                                if s.result_grad is not None}


@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", FROM_RESULT)
def test_result_matches_the_x_gradient(name, dtype, backend):
    g, x = _inputs(dtype)
    p = PARAMS.get(name, {})
    f, df = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    y = f(x, **p)
    from_x = df(g, x, **p, backend=backend)
    from_y = df(g, **p, result=y, backend=backend)
    assert from_y.dtype == dtype and from_y.shape == x.shape
    if fastact.ACTIVATIONS[name].family == "piecewise-linear":
        np.testing.assert_array_equal(from_y, from_x)  # the same branch, the same product
        return
    # smooth ones: y carries f's rounding; where f' is tiny against 1 (saturated sigmoid/tanh)
    # the y-formula's cancellation (1 - y) is absolute, as in torch
    eps = np.finfo(dtype).eps
    finite = np.isfinite(x)
    np.testing.assert_allclose(from_y[finite], from_x[finite], rtol=64 * eps,
                               atol=8 * eps * np.abs(g[finite]).max())
    same_nan = np.isnan(from_y) == np.isnan(from_x)
    assert same_nan.all(), x[~same_nan]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", FROM_RESULT)
def test_result_matches_torch_is_result(name, dtype):
    torch = pytest.importorskip("torch")
    g, x = _inputs(dtype)
    p = PARAMS.get(name, {})
    spec = fastact.ACTIVATIONS[name]
    peer = spec.torch
    if peer is None or peer.result_backward is None:
        pytest.skip(f"torch has no is_result backward for {name}")
    y = getattr(fastact, name)(x, **p)
    full = {q.name: q.default for q in spec.params if q.default is not REQUIRED}
    full.update(p)
    want = peer.result_backward(torch, torch.from_numpy(g), torch.from_numpy(y), full).numpy()
    got = getattr(fastact, f"{name}_grad")(g, **p, result=y)
    keep = np.ones(x.shape, bool)
    for d in peer.deviations:
        if d.part == "result":
            keep &= ~d.at(x)
    got, want = got[keep], want[keep]
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(got, want, rtol=4 * eps, atol=4 * eps * np.abs(g).max())
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("backend", ["cpu", "parallel"])
def test_inplace_writes_grad_output(backend):
    g, x = _inputs(np.float32)
    for name in ("relu", "gelu", "sigmoid", "hardtanh"):
        df = getattr(fastact, f"{name}_grad")
        want = df(g, x, backend=backend)
        gg = g.copy()
        assert df(gg, x, inplace=True, backend=backend) is gg
        np.testing.assert_array_equal(gg, want)
    y = fastact.tanh(x)
    gg = g.copy()
    assert fastact.tanh_grad(gg, result=y, inplace=True, backend=backend) is gg
    np.testing.assert_array_equal(gg, fastact.tanh_grad(g, result=y))
    # 2-D, strided (ufunc path), and prelu (grad_weight from the original grad_output)
    g2, x2 = g[:3000].reshape(60, 50), x[:3000].reshape(60, 50)
    gs = g2.copy()[:, ::2]
    want = fastact.elu_grad(gs.copy(), x2[:, ::2], 0.5)
    fastact.elu_grad(gs, x2[:, ::2], 0.5, inplace=True, backend=backend)
    np.testing.assert_array_equal(gs, want)
    w = np.linspace(0.1, 0.5, 50).astype(np.float32)
    gi_want, gw_want = fastact.prelu_grad(g2, x2, w)
    gp = g2.copy()
    gi, gw = fastact.prelu_grad(gp, x2, w, inplace=True, backend=backend)
    assert gi is gp
    np.testing.assert_array_equal(gi, gi_want)
    np.testing.assert_allclose(gw, gw_want, rtol=1e-6)


def test_refused_calls_change_nothing():
    g, x = _inputs(np.float32, 100)
    y = fastact.relu(x)
    before = [a.copy() for a in (g, x, y)]

    def unchanged():
        for a, b in zip((g, x, y), before, strict=True):
            np.testing.assert_array_equal(a, b)

    cases = [
        (TypeError, "x or result=, not both", lambda: fastact.relu_grad(g, x, result=y)),
        (TypeError, "needs x", lambda: fastact.relu_grad(g)),
        (ValueError, "not a function of its output", lambda: fastact.gelu_grad(g, result=y)),
        (ValueError, "result= works for: relu", lambda: fastact.silu_grad(g, result=y)),
        (ValueError, "negative_slope > 0", lambda: fastact.leaky_relu_grad(g, None, 0.0,
                                                                          result=y)),
        (ValueError, "alpha >= 0", lambda: fastact.elu_grad(g, alpha=-0.5, result=y)),
        (ValueError, "either out= or inplace", lambda: fastact.relu_grad(
            g, x, out=np.empty_like(g), inplace=True)),
        (TypeError, "NumPy array", lambda: fastact.relu_grad(list(g), x, inplace=True)),
        (TypeError, "float32", lambda: fastact.relu_grad(g, x.astype(np.float64), inplace=True)),
        (ValueError, "shape", lambda: fastact.relu_grad(g[:1], x, inplace=True)),
    ]
    ro = g.copy()
    ro.flags.writeable = False
    cases.append((ValueError, "read-only", lambda: fastact.relu_grad(ro, x, inplace=True)))
    for exc, match, call in cases:
        with pytest.raises(exc, match=match):
            call()
        unchanged()


def test_result_with_scalars_and_broadcasting():
    assert fastact.sigmoid_grad(1.0, result=0.5) == 0.25
    assert fastact.tanh_grad(2.0, result=np.float32(0.5)).dtype == np.float64
    y = fastact.relu(np.array([[-1.0, 2.0]]))
    np.testing.assert_array_equal(fastact.relu_grad(np.ones(2), result=y), [[0.0, 1.0]])
    np.testing.assert_array_equal(fastact.relu_grad(3.0, result=y), [[0.0, 3.0]])


@pytest.mark.parametrize("name", FROM_RESULT)
def test_small_array_fast_path_with_result(name):
    """Small calls with result= take the serial loop directly: the same values as the general
    path, and the same errors."""
    g, x = _inputs(np.float32, 500)
    y = getattr(fastact, name)(x)
    df = getattr(fastact, f"{name}_grad")
    np.testing.assert_array_equal(df(g, result=y), df(g, result=y, backend="cpu"))
    np.testing.assert_array_equal(df(g.reshape(20, 25), result=y.reshape(20, 25)),
                                  df(g, result=y, backend="cpu").reshape(20, 25))
    with pytest.raises(TypeError, match="not both"):
        df(g, y, result=y)
