"""``bias=``: ``f(x, bias=b)`` is ``f(x + b)`` bit for bit, and ``f_grad(g, x, bias=b)`` is
``(g * f'(x + b), grad_b)`` with grad_b summed over the axes b was broadcast along.

Every element-wise kernel is checked fused (the generated loops of _bias_loops) against the two
steps; then the broadcast geometries (last axis, per channel, scalar, whole shape, two groups),
layouts (Fortran order, strided views), dtypes (float64, bfloat16, float16, integers, a Python
scalar, mixed), out=/inplace=, the backends, the gradients (from x and from the output), the
accuracy of grad_b, refused calls, dask and concurrent calls.
"""

import math
import threading

import numpy as np
import pytest

import fastact
from fastact import _bias

from .reference import first_cases

KERNELS = first_cases()
RNG = np.random.default_rng(7)


def _x(shape, dtype=np.float32, scale=3.0):
    x = (RNG.standard_normal(shape) * scale).astype(dtype)
    flat = x.reshape(-1)
    flat[:6] = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40][:flat.size]).astype(dtype)
    return x


def _sum_axes(shape, bshape):
    full = (1,) * (len(shape) - len(bshape)) + tuple(bshape)
    return tuple(i for i, (m, k) in enumerate(zip(shape, full, strict=True))
                 if k == 1 and m != 1)


def _grad_bias(gi, bshape):
    """The float64 reference of grad_bias: math.fsum over each bias element's terms."""
    shape = gi.shape
    axes = _sum_axes(shape, bshape)
    full = (1,) * (len(shape) - len(bshape)) + tuple(bshape)
    moved = np.moveaxis(gi.astype(np.float64).reshape(shape), axes, range(len(axes)))
    terms = moved.reshape(-1, math.prod(full))
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as summed
        return np.array([math.fsum(t) if np.isfinite(t).all() else t.sum()
                         for t in terms.T]).reshape(bshape)


def _fn(kernel):
    name, params = KERNELS[kernel]
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    return (lambda x, **kw: f(x, **params, **kw)), (lambda g, x, **kw: fg(g, x, **params, **kw))


#: the kernels whose fused gradient is checked too: every other one (the gradient drivers are
#: one template around each kernel's gradient loop, which tests/test_api checks unfused; the
#: fused gradients' cold compiles were a third of this file's time)
GRAD_KERNELS = frozenset(sorted(KERNELS)[::2])


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_every_kernel_fused_equals_two_steps(kernel):
    """Forward of every kernel, and gradient of every other one, fused (serial loops,
    float32): bit-identical to the activation of x + b, and grad_b the sum of grad_input."""
    f, fg = _fn(kernel)
    x, b = _x((33, 70)), _x(70, scale=1.0)
    h = x + b
    np.testing.assert_array_equal(f(x, bias=b, backend="cpu"), f(h, backend="cpu"))
    if kernel not in GRAD_KERNELS:
        return
    g = _x((33, 70), scale=1.0)
    got = fg(g, x, bias=b, backend="cpu")  # prelu: (grad_input, grad_weight, grad_bias)
    gi, gb = got[0], got[-1]
    ref = fg(g, h, backend="cpu")
    ref = ref[0] if isinstance(ref, tuple) else ref
    np.testing.assert_array_equal(gi, ref)
    np.testing.assert_allclose(gb, _grad_bias(ref, b.shape).astype(np.float32), rtol=1e-6)


GEOMETRIES = [
    ((64, 300), (300,)),            # a linear layer's bias: the last axis
    ((4, 6, 9, 11), (6, 1, 1)),     # NCHW, per channel
    ((4, 6, 9, 11), (1, 6, 1, 1)),
    ((5, 7, 3), (5, 1, 3)),         # moving, broadcast, moving: rows cut within a period
    ((300,), ()),                   # a scalar
    ((17, 19), (17, 19)),           # the whole shape: no reduction
    ((17, 19), (17, 1)),            # per row
    ((3, 9000), (3, 1)),            # per row, rows longer than a chunk
    ((3, 4, 5, 6), (3, 1, 5, 1)),   # two groups of moving axes: the unfused route
    ((2, 1, 3), (1, 3)),
    ((0, 5), (5,)),
]


@pytest.mark.parametrize("shape,bshape", GEOMETRIES)
@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_geometries(shape, bshape, backend, dtype):
    x, b, g = _x(shape, dtype), _x(bshape, dtype, 1.0), _x(shape, dtype, 1.0)
    h = x + b
    for name in ("gelu", "relu"):
        f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
        # the references on the serial backend: the backends agree bit for bit (test_parallel)
        np.testing.assert_array_equal(f(x, bias=b, backend=backend), f(h, backend="cpu"))
        gi, gb = fg(g, x, bias=b, backend=backend)
        ref = fg(g, h, backend="cpu")
        np.testing.assert_array_equal(gi, ref)
        assert gb.shape == np.shape(b) and gb.dtype == dtype
        np.testing.assert_allclose(gb, _grad_bias(ref, np.shape(b)), rtol=1e-12 if
                                   dtype == np.float64 else 1e-6, atol=1e-300)


def test_geometry_of_broadcasts():
    """(rows, n, d, q, sq, sn) of the common cases."""
    def geo(shape, bshape):
        return _bias.geometry(np.zeros(bshape, np.float32), shape)

    assert geo((8, 4), (4,)) == (8, 4, 1, 1, 0, 1)
    assert geo((2, 3, 4, 5), (3, 1, 1)) == (6, 20, 1, 3, 1, 0)
    assert geo((5, 7, 3), (5, 1, 3)) == (35, 3, 7, 5, 3, 1)
    assert geo((10,), ()) == (1, 10, 1, 1, 0, 0)
    assert geo((6, 4), (6, 4)) == (1, 24, 1, 1, 0, 1)
    assert geo((3, 4, 5, 6), (3, 1, 5, 1)) is None


def test_large_rows_are_cut_into_pieces(monkeypatch):
    """Rows longer than a piece, and pieces of rows, on both backends (the pieces' bias sums
    added at the end)."""
    from fastact.backends import cpu

    monkeypatch.setattr(cpu, "PIECE", 1 << 12)
    x, g = _x((3, 10000)), _x((3, 10000), scale=1.0)
    for b in (_x(10000, scale=1.0), _x((3, 1), scale=1.0), np.float32(0.25)):
        h = x + b
        for backend in ("cpu", "parallel"):
            np.testing.assert_array_equal(fastact.silu(x, bias=b, backend=backend),
                                          fastact.silu(h))
            gi, gb = fastact.silu_grad(g, x, bias=b, backend=backend)
            ref = fastact.silu_grad(g, h)
            np.testing.assert_array_equal(gi, ref)
            np.testing.assert_allclose(gb, _grad_bias(ref, np.shape(b)), rtol=1e-6)


def test_layouts_out_and_inplace():
    x, b, g = _x((40, 30)), _x(30, scale=1.0), _x((40, 30), scale=1.0)
    ref = fastact.gelu(x + b)
    np.testing.assert_array_equal(fastact.gelu(np.asfortranarray(x), bias=b), ref)
    np.testing.assert_array_equal(fastact.gelu(x[::-1], bias=b), fastact.gelu(x[::-1] + b))
    np.testing.assert_array_equal(fastact.gelu(x[:, ::2], bias=b[::2]),
                                  fastact.gelu(x[:, ::2] + b[::2]))
    out = np.empty_like(x)
    assert fastact.gelu(x, bias=b, out=out) is out
    np.testing.assert_array_equal(out, ref)
    y = x.copy()
    assert fastact.gelu(y, bias=b, inplace=True) is y
    np.testing.assert_array_equal(y, ref)
    y = np.asfortranarray(x)
    fastact.gelu(y, bias=b, inplace=True)
    np.testing.assert_array_equal(y, ref)
    # gradient: out=, inplace= (into grad_output), Fortran order
    gref = fastact.gelu_grad(g, x + b)
    out = np.empty_like(x)
    gi, gb = fastact.gelu_grad(g, x, bias=b, out=out)
    assert gi is out
    np.testing.assert_array_equal(out, gref)
    gg = g.copy()
    gi, gb2 = fastact.gelu_grad(gg, x, bias=b, inplace=True)
    assert gi is gg
    np.testing.assert_array_equal(gg, gref)
    np.testing.assert_array_equal(gb, gb2)
    gi, gb3 = fastact.gelu_grad(np.asfortranarray(g), np.asfortranarray(x), bias=b)
    np.testing.assert_array_equal(gi, gref)
    np.testing.assert_allclose(gb3, gb, rtol=1e-6)


def test_out_aliasing_the_bias_or_partly_x():
    x = _x((20, 20))
    b = x[0].copy()
    ref = fastact.relu(x + x[0])
    y = x.copy()
    fastact.relu(y, bias=y[0], inplace=True)  # the bias is a row of x itself
    np.testing.assert_array_equal(y, ref)
    buf = _x(500)
    ref = fastact.relu(buf[:400] + np.float32(1.5))
    fastact.relu(buf[:400], bias=np.float32(1.5), out=buf[100:])
    np.testing.assert_array_equal(buf[100:], ref)
    assert b is not None


def test_gradient_from_the_output():
    """result=y: the gradient from the output f(x + b); the bias only gives grad_b's shape."""
    x, b, g = _x((30, 50)), _x(50, scale=1.0), _x((30, 50), scale=1.0)
    for name in ("relu", "sigmoid", "tanh", "elu"):
        f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
        y = f(x, bias=b)
        gi, gb = fg(g, result=y, bias=b)
        ref = fg(g, result=y)
        np.testing.assert_array_equal(gi, ref)
        np.testing.assert_allclose(gb, _grad_bias(ref, b.shape), rtol=1e-6)
    with pytest.raises(ValueError, match="result="):
        fastact.gelu_grad(g, result=x, bias=b)
    with pytest.raises(TypeError, match="not both"):
        fastact.relu_grad(g, x, result=x, bias=b)


def test_grad_bias_is_accurate():
    """grad_b sums many terms of mixed sign and magnitude: within a few ULP of math.fsum, where
    a plain float32 (or float64) running sum is far off."""
    n = 200_000
    g = np.ones((n, 2))
    g[:, 0] = np.tile([1e16, 1.0, -1e16, 1.0], n // 4)
    g[:, 1] = RNG.standard_normal(n) * 1e-3 + 1.0
    x = np.ones((n, 2))
    for backend in ("cpu", "parallel"):
        _, gb = fastact.relu_grad(g, x, bias=np.zeros(2), backend=backend)
        assert gb[0] == n // 2
        assert gb[1] == pytest.approx(math.fsum(g[:, 1]), rel=4e-16)
    g32 = g[:, 1].astype(np.float32).reshape(-1, 1)
    _, gb = fastact.relu_grad(g32, np.ones_like(g32), bias=np.zeros(1, np.float32))
    assert gb[0] == np.float32(math.fsum(g32[:, 0].astype(np.float64)))



def test_grad_bias_cancelling_across_threads():
    """The parallel backend's ranges each sum part of the rows; where their sums cancel (the
    last row undoes the others), adding the ranges' totals plainly loses the small result."""
    rng = np.random.default_rng(7)
    g = rng.standard_normal((64, 300)) * 1e3
    g[-1] = -g[:-1].sum(0) + rng.standard_normal(300) * 1e-9
    ref = np.array([math.fsum(col) for col in g.T])
    for backend in ("cpu", "parallel"):
        _, gb = fastact.relu_grad(g, np.ones_like(g), bias=np.zeros(300), backend=backend)
        np.testing.assert_allclose(gb, ref, rtol=1e-15, atol=0)

def test_dtypes():
    x = _x((10, 12))
    # a Python scalar is weak (NumPy's x + 0.5 is float32); a float64 bias promotes
    y = fastact.silu(x, bias=0.5)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, fastact.silu(x + 0.5))
    b64 = _x(12, np.float64, 1.0)
    y = fastact.silu(x, bias=b64)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, fastact.silu(x + b64))
    gi, gb = fastact.silu_grad(x, x, bias=b64)
    assert gi.dtype == gb.dtype == np.float64
    # an int8 bias on float32 is cast exactly, as NumPy's addition casts it
    bi = np.arange(12, dtype=np.int8)
    np.testing.assert_array_equal(fastact.gelu(x, bias=bi), fastact.gelu(x + bi))
    # float16: the sum in float16, then the activation
    x16 = x.astype(np.float16)
    np.testing.assert_array_equal(fastact.gelu(x16, bias=np.float16(0.3)),
                                  fastact.gelu(x16 + np.float16(0.3)))
    # integers: relu keeps them, the others promote (as on x + b)
    xi = np.arange(-6, 6).reshape(3, 4)
    r = fastact.relu(xi, bias=np.array([1, -2, 3, 0]))
    assert r.dtype == xi.dtype
    np.testing.assert_array_equal(r, np.maximum(xi + [1, -2, 3, 0], 0))
    np.testing.assert_array_equal(fastact.tanh(xi, bias=1), fastact.tanh(xi + 1))
    # lists and 0-d
    assert fastact.relu([-1.0, 2.0], bias=[0.5, -3.0]).tolist() == [0.0, 0.0]
    assert fastact.relu(np.float64(-1.0), bias=2.0) == 1.0


def test_bf16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = np.dtype(ml_dtypes.bfloat16)
    x, b, g = _x((20, 64)).astype(bf), _x(64, scale=1.0).astype(bf), _x((20, 64)).astype(bf)
    for backend in ("cpu", "parallel"):
        y = fastact.gelu(x, bias=b, backend=backend)
        assert y.dtype == bf
        np.testing.assert_array_equal(y.view(np.uint16), fastact.gelu(x + b).view(np.uint16))
        gi, gb = fastact.gelu_grad(g, x, bias=b, backend=backend)
        ref = fastact.gelu_grad(g, x + b)
        np.testing.assert_array_equal(gi.view(np.uint16), ref.view(np.uint16))
        assert gb.dtype == bf
        np.testing.assert_array_equal(gb.astype(np.float32),
                                      _grad_bias(ref.astype(np.float32), b.shape).astype(bf)
                                      .astype(np.float32))


def test_weight_and_parameters():
    x, b = _x((8, 6)), _x(6, scale=1.0)
    w = np.linspace(0.1, 0.6, 6).astype(np.float32)
    xc = (RNG.standard_normal((3, 6, 5)) * 3).astype(np.float32)  # finite: grad_weight sums
    bc = RNG.standard_normal((6, 1)).astype(np.float32)
    np.testing.assert_array_equal(fastact.prelu(xc, w, bias=bc), fastact.prelu(xc + bc, w))
    gi, gw, gb = fastact.prelu_grad(xc, xc, w, bias=bc)
    rgi, rgw = fastact.prelu_grad(xc, xc + bc, w)
    np.testing.assert_array_equal(gi, rgi)
    np.testing.assert_array_equal(gw, rgw)
    np.testing.assert_allclose(gb, _grad_bias(rgi, bc.shape), rtol=1e-6)
    np.testing.assert_array_equal(fastact.leaky_relu(x, 0.2, bias=b),
                                  fastact.leaky_relu(x + b, 0.2))
    np.testing.assert_array_equal(fastact.softplus(x, beta=2.0, threshold=5.0, bias=b),
                                  fastact.softplus(x + b, beta=2.0, threshold=5.0))
    np.testing.assert_array_equal(fastact.gelu(x, approximate="tanh", bias=b),
                                  fastact.gelu(x + b, approximate="tanh"))
    noise = np.empty_like(x)
    y = fastact.rrelu(x, training=True, generator=1, noise=noise, bias=b)
    np.testing.assert_array_equal(y, np.where(x + b >= 0, x + b, (x + b) * noise))


def test_refused_calls_change_nothing():
    x, b = _x((6, 8)), _x(8, scale=1.0)
    x0, b0 = x.copy(), b.copy()
    with pytest.raises(ValueError, match=r"bias of shape \(7,\) does not broadcast"):
        fastact.relu(x, bias=np.zeros(7, np.float32), inplace=True)
    with pytest.raises(ValueError, match="does not broadcast"):
        fastact.relu(x, bias=np.zeros((2, 6, 8), np.float32))  # would enlarge the result
    with pytest.raises(TypeError, match="real"):
        fastact.relu(x, bias=np.zeros(8, complex))
    with pytest.raises(TypeError, match="in place"):
        fastact.relu(x, bias=np.zeros(8), inplace=True)  # float64 result into float32 x
    with pytest.raises(ValueError, match="shape"):
        fastact.relu(x, bias=b, out=np.empty((6, 7), np.float32))
    g = x.copy()
    with pytest.raises(TypeError, match="cannot write"):
        fastact.relu_grad(g, x, bias=np.zeros(8), inplace=True)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(g, x0)


def test_signature_and_docstring():
    import inspect

    for fn in (fastact.gelu, fastact.gelu_grad, fastact.prelu):
        p = inspect.signature(fn).parameters["bias"]
        assert p.kind is p.KEYWORD_ONLY and p.default is None
        assert "bias : array_like" in fn.__doc__


def test_dask():
    da = pytest.importorskip("dask.array")
    x, b, g = _x((40, 30)), _x(30, scale=1.0), _x((40, 30), scale=1.0)
    dx, dg = da.from_array(x, chunks=(10, 15)), da.from_array(g, chunks=(10, 15))
    y = fastact.gelu(dx, bias=b)
    assert isinstance(y, da.Array)
    np.testing.assert_array_equal(y.compute(), fastact.gelu(x + b))
    gi, gb = fastact.gelu_grad(dg, dx, bias=b)
    np.testing.assert_array_equal(gi.compute(), fastact.gelu_grad(g, x + b))
    np.testing.assert_allclose(gb.compute(), _grad_bias(fastact.gelu_grad(g, x + b), b.shape),
                               rtol=1e-6)


def test_concurrent_calls():
    """Many Python threads at once, each its own arrays, on the parallel backend."""
    xs = [_x((64, 257)) for _ in range(8)]
    bs = [_x(257, scale=1.0) for _ in range(8)]
    refs = [(fastact.silu(x + b), fastact.silu_grad(x, x + b)) for x, b in zip(xs, bs, strict=True)]
    errors = []

    def work(i):
        for _ in range(5):
            y = fastact.silu(xs[i], bias=bs[i], backend="parallel")
            gi, _ = fastact.silu_grad(xs[i], xs[i], bias=bs[i], backend="parallel")
            if not (np.array_equal(y, refs[i][0], equal_nan=True)
                    and np.array_equal(gi, refs[i][1], equal_nan=True)):
                errors.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


GATED_CASES = [
    ((6, 20), -1, (20,)),        # a linear layer's bias, halved with x
    ((6, 20), 0, (20,)),
    ((6, 20), 0, (6, 1)),
    ((4, 6, 10), 1, (6, 1)),     # per channel, split along the channels
    ((4, 6, 10), -1, ()),
    ((4, 6, 10), -1, (4, 6, 10)),
    ((3, 8, 5), 1, (3, 1, 5)),
    ((3, 4, 5, 6), -1, (3, 1, 5, 1)),  # two groups of moving axes: the unfused route
]


#: the bias drivers are one template around each gated row loop (tests/test_gated checks the
#: loops themselves), and each pair compiles loops of its own (geglu's ~25 s with a cold cache):
#: swiglu (a float32 fast form) and glu in float32, swiglu in float64. Not float64 geglu: its
#: gradient loop rounds 1% of elements 1 ULP differently in its scalar remainder than in its
#: vector body, so a fused call, whose chunks end elsewhere, can differ from the unfused one
#: there by that ULP.
GATED_DTYPES = [("swiglu", np.float32), ("glu", np.float32), ("swiglu", np.float64)]


@pytest.mark.parametrize("name,dtype", GATED_DTYPES)
def test_gated_split_form(name, dtype):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    for shape, axis, bshape in GATED_CASES:
        x = (RNG.standard_normal(shape) * 2).astype(dtype)
        b = RNG.standard_normal(bshape).astype(dtype)
        for backend in ("cpu", "parallel"):
            ref = f(x + b, axis=axis, backend="cpu")  # the backends agree bit for bit
            np.testing.assert_array_equal(f(x, axis=axis, bias=b, backend=backend), ref)
            np.testing.assert_array_equal(
                f(np.asfortranarray(x), axis=axis, bias=b, backend=backend), ref)
            g = RNG.standard_normal(ref.shape).astype(dtype)
            gx, gb = fg(g, x, axis=axis, bias=b, backend=backend)
            rgx = fg(g, x + b, axis=axis, backend="cpu")
            np.testing.assert_array_equal(gx, rgx)
            np.testing.assert_allclose(gb, _grad_bias(rgx, np.shape(b)), rtol=1e-6 if
                                       dtype == np.float32 else 1e-12, atol=1e-12)
            y = x.copy()
            np.testing.assert_array_equal(f(y, axis=axis, bias=b, inplace=True,
                                            backend=backend), ref)
            y = x.copy()
            gy, _ = fg(g, y, axis=axis, bias=b, inplace=True, backend=backend)
            assert gy is y
            np.testing.assert_array_equal(y, rgx)


def test_gated_options_and_refusals():
    x, b = _x((5, 8)), RNG.standard_normal(8).astype(np.float32)
    ref = fastact.swiglu(x + b)
    out = np.empty((5, 4), np.float32)
    assert fastact.swiglu(x, bias=b, out=out) is out
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(fastact.swiglu(x, bias=0.5), fastact.swiglu(x + 0.5))
    x0 = x.copy()
    with pytest.raises(TypeError, match="split form"):
        fastact.swiglu(x, x, bias=b)
    with pytest.raises(ValueError, match="does not broadcast"):
        fastact.swiglu(x, bias=np.zeros(4, np.float32), inplace=True)
    with pytest.raises(TypeError):
        fastact.swiglu(x, bias=np.zeros(8), inplace=True)  # float64 result into float32 x
    np.testing.assert_array_equal(x, x0)
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = np.dtype(ml_dtypes.bfloat16)
    xb, bb = x.astype(bf), b.astype(bf)
    np.testing.assert_array_equal(fastact.swiglu(xb, bias=bb).view(np.uint16),
                                  fastact.swiglu(xb + bb).view(np.uint16))
    g = RNG.standard_normal((5, 4)).astype(bf)
    gx, gb = fastact.swiglu_grad(g, xb, bias=bb)
    np.testing.assert_array_equal(gx.view(np.uint16),
                                  fastact.swiglu_grad(g, xb + bb).view(np.uint16))
    assert gb.dtype == bf


def test_gated_dask():
    da = pytest.importorskip("dask.array")
    x, b = _x((8, 12)), RNG.standard_normal(12).astype(np.float32)
    x[:] = np.nan_to_num(x)
    g = RNG.standard_normal((8, 6)).astype(np.float32)
    y = fastact.swiglu(da.from_array(x, chunks=(4, 12)), bias=b)
    np.testing.assert_array_equal(y.compute(), fastact.swiglu(x + b))
    gx, gb = fastact.swiglu_grad(da.from_array(g, chunks=(4, 6)), da.from_array(x, chunks=(4, 12)),
                                 bias=b)
    rgx = fastact.swiglu_grad(g, x + b)
    np.testing.assert_array_equal(gx.compute(), rgx)
    np.testing.assert_allclose(gb.compute(), _grad_bias(rgx, b.shape), rtol=1e-6)
