"""Property-based tests (hypothesis) for every registry entry: any shape, strides, dtype,
parameter set and output mode gives the result of a plain contiguous call, bit for bit, in the
result's dtype and shape, without touching the inputs it does not write."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import fastact  # noqa: E402
from fastact.registry import ACTIVATIONS  # noqa: E402

from .reference import cases, grad_input  # noqa: E402

CASES = cases()
IDS = [f"{v}-{'-'.join(f'{k}={p[k]}' for k in p) or 'default'}" for _, v, p in CASES]
DTYPES = [np.float16, np.float32, np.float64]
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

#: values around every kink and branch the kernels have, and the IEEE specials
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 6.0, -3.0, 3.0, 20.0, -100.0]


@st.composite
def arrays(draw, dtype):
    """An array of any shape (0-d and empty included), as a view with any strides."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))
    elements = st.one_of(st.floats(-60, 60, width=16 if dtype == np.float16 else 32),
                         st.sampled_from(SPECIALS))
    base = draw(hnp.arrays(dtype, tuple(2 * s for s in shape), elements=elements))
    view = base[tuple(slice(None, None, draw(st.sampled_from([2, -2]))) for _ in shape)]
    if view.ndim >= 2 and draw(st.booleans()):
        view = view.swapaxes(0, -1)
    return view


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)




@pytest.mark.parametrize(("name", "variant", "params"), CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_forward_any_layout_dtype_and_mode(name, variant, params, data):
    f = getattr(fastact, name)
    dtype = data.draw(st.sampled_from(DTYPES))
    x = data.draw(arrays(dtype))
    want = f(x.copy(order="C"), **params)
    x0 = x.copy()
    mode = data.draw(st.sampled_from(["alloc", "out", "inplace"]))
    if mode == "inplace" and (ACTIVATIONS[name].has_weight or x.ndim == 0):
        mode = "out"
    if mode == "alloc":
        _same(f(x, **params), want)
        np.testing.assert_array_equal(x, x0)
    elif mode == "out":
        out = np.full(x.shape, 7, np.asarray(want).dtype)
        assert f(x, **params, out=out) is out
        _same(out, want)
        np.testing.assert_array_equal(x, x0)
    else:
        assert f(x, **params, inplace=True) is x
        _same(x, want)


@pytest.mark.parametrize(("name", "variant", "params"), CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_grad_any_layout_dtype_and_broadcast(name, variant, params, data):
    spec = ACTIVATIONS[name]
    fg = getattr(fastact, f"{name}_grad")
    dtype = data.draw(st.sampled_from(DTYPES))
    x = data.draw(arrays(dtype))
    # grad_output of x's shape, or one that broadcasts against it (a scalar or a trailing row)
    g_shape = data.draw(st.sampled_from([x.shape, (), x.shape[-1:]]))
    g = data.draw(hnp.arrays(dtype, g_shape, elements=st.floats(-4, 4, width=16)))
    shape = np.broadcast_shapes(g.shape, x.shape)
    want = grad_input(spec, fg(np.broadcast_to(g, shape).copy(order="C"),
                               np.broadcast_to(x, shape).copy(order="C"), **params))
    x0, g0 = x.copy(), g.copy()
    if data.draw(st.booleans()):
        out = np.full(shape, 7, np.asarray(want).dtype)
        r = fg(g, x, **params, out=out)
        assert grad_input(spec, r) is out
        _same(out, want)
    else:
        _same(grad_input(spec, fg(g, x, **params)), want)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, g0)
