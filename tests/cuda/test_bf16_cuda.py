"""bfloat16 host arrays on the cuda backend: Numba's device arrays cannot hold bfloat16 (and
``__cuda_array_interface__`` has no type string for it), so a bfloat16 host array moves as
float32 and the result is rounded on the host. The values are the CPU backend's bit for bit
(tests/test_bf16.py checks those)."""

import numpy as np
import pytest

import fastact

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)


def _x(shape, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 4).astype(BF16)


def _same(got, want):
    assert got.dtype == BF16 == want.dtype
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize("name", ["relu", "gelu", "silu"])
def test_elementwise(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x, g = _x((3, 7)), _x((3, 7), 1)
    _same(f(x, backend="cuda"), f(x, backend="cpu"))
    _same(fg(g, x, backend="cuda"), fg(g, x, backend="cpu"))
    out = np.empty_like(x)
    assert f(x, out=out, backend="cuda") is out
    _same(out, f(x, backend="cpu"))


@pytest.mark.parametrize("name", ["swiglu", "geglu"])
def test_gated(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _x((4, 8))
    for axis in (0, 1):
        _same(f(x, axis=axis, backend="cuda"), f(x, axis=axis, backend="cpu"))
        g = _x(f(x, axis=axis).shape, 2)
        _same(fg(g, x, axis=axis, backend="cuda"), fg(g, x, axis=axis, backend="cpu"))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_axiswise(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _x((4, 8))
    for axis in (0, 1):
        y = f(x, axis=axis, backend="cuda")
        _same(y, f(x, axis=axis, backend="cpu"))
        g = _x(np.shape(y), 3)
        _same(fg(g, x, axis=axis, backend="cuda"), fg(g, x, axis=axis, backend="cpu"))
