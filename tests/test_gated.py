"""The gated kind (``act(a) * b``): every entry of the registry's gated kind, through the split form
``f(x, axis)`` and the two-input form ``f(gate, up)``, forward and fused gradient.

Values against the entry's float64 reference (float32 within its accuracy bound, the tails where
the gate's activation underflows included) and mpmath (float64); the two forms against each
other on every axis and layout; torch's and JAX's functions and autograd (torch's own ``F.glu``
and ``jax.nn.glu`` for glu); out=, inplace=, broadcasting and the reduction of its gradient;
dtypes; bad input (a clear error, and no array changed); dask, fastact.torch, the backends, and
threads. The CUDA simulator suite is tests/cuda/test_gated_cuda.py.
"""

import threading
import warnings

import mpmath as mp
import numpy as np
import pytest

import fastact

from .reference import GATED

NAMES = list(GATED)
#: (activation, params, reference) for every variant
CASES = [(n, ({} if k == n else {s.choice.name: k[len(n) + 1:]}), r)
         for n, s in GATED.items() for k, r in s.references().items()]
IDS = [f"{n}-{p.get('approximate', 'default')}" for n, p, _ in CASES]


def _inputs(dtype, n=20_000, seed=0):
    """(gate, up): a grid and random values, the gates' tails (exp(a) subnormal or zero in
    float32) against large ups, and the special values."""
    rng = np.random.default_rng(seed)
    a = np.concatenate([np.linspace(-12, 12, n // 4), rng.standard_normal(n // 4) * 6,
                        rng.uniform(-180, -80, n // 8), rng.uniform(-40, -10, n // 8),
                        rng.uniform(10, 60, n // 8)])
    b = np.concatenate([rng.standard_normal(n // 4 + n // 4) * 3,
                        rng.choice([-1.0, 1.0], 3 * (n // 8)) * 10.0 ** rng.uniform(0, 36,
                                                                                   3 * (n // 8))])
    # subnormal gates against ups that make the product a normal number
    tiny = rng.uniform(-1e-38, 1e-38, 200)
    a = np.concatenate([a, tiny])
    b = np.concatenate([b, rng.choice([-1.0, 1.0], 200) * 10.0 ** rng.uniform(20, 36, 200)])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1e-40, -1e-40, 3.0])
    a = np.concatenate([a, np.repeat(special, special.size)])
    b = np.concatenate([b, np.tile(special, special.size)])
    with np.errstate(over="ignore"):
        return a.astype(dtype), b.astype(dtype)


def _ulp(got, want, dtype):
    """ULP error of ``got`` against the float64 ``want`` where ``want`` is a normal ``dtype``
    number (NaN, infinities and zeros must match exactly: returned as a mask)."""
    r = want.astype(dtype)
    normal = np.isfinite(r) & (np.abs(want) >= np.finfo(dtype).tiny)
    err = np.zeros(got.shape)
    err[normal] = (np.abs(got[normal].astype(np.float64) - want[normal])
                   / np.spacing(np.abs(r[normal])).astype(np.float64))
    return err, normal


def _check(got, want, dtype, bound, what):
    with np.errstate(all="ignore"):
        err, normal = _ulp(got, want, dtype)
        r = want.astype(dtype)
    assert got.dtype == dtype, what
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaN")
    special = ~normal & ~np.isnan(want)
    np.testing.assert_allclose(got[special], r[special], rtol=0, atol=np.finfo(dtype).tiny,
                               err_msg=f"{what}: zeros, subnormals and infinities")
    i = int(np.argmax(err))
    assert err[i] <= max(bound, 0.5), f"{what}: {err[i]:.2f} ULP at index {i}"


@pytest.mark.parametrize(("name", "params", "ref"), CASES, ids=IDS)
def test_float32_within_the_bound_of_the_exact_product(name, params, ref):
    spec = GATED[name]
    a, b = _inputs(np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    g = np.random.default_rng(3).standard_normal(a.size).astype(np.float32)
    with np.errstate(all="ignore"):
        want = ref.f(a64, b64)
        da, db = ref.df(a64, b64)
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    _check(f(a, b, **params), want, np.float32, spec.accuracy_ulp, f"{name} forward")
    ga, gb = fg(g, a, b, **params)
    with np.errstate(all="ignore"):
        _check(ga, g * da, np.float32, spec.accuracy_ulp, f"{name} grad_gate")
        _check(gb, g * db, np.float32, spec.accuracy_ulp, f"{name} grad_up")


@pytest.mark.parametrize(("name", "params", "ref"), CASES, ids=IDS)
def test_float32_zero_signs_are_the_float64_kernel_s(name, params, ref):
    """Where a float32 result is zero, its sign is that of the float64 evaluation rounded to
    float32 (the kernel itself, no fast form): zero gates, ups and grad_outputs of both signs,
    against gates of both signs. No value is in a fast form's tail (which would send the whole
    chunk to the kernel): the fast forms' compensated sums (a + b with b a correction term)
    must not turn a -0 into +0."""
    v = np.array([0.0, -0.0, 1e-30, -1e-30, 0.3, -0.3, 0.75, -0.75, 2.5, -2.5, 13.0, -13.0])
    a, b = np.repeat(v, v.size), np.tile(v, v.size)
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    for gv in (1.0, -1.0, 0.0, -0.0):
        g = np.full(a.shape, gv)
        with np.errstate(all="ignore"):
            pairs = [(f(a.astype(np.float32), b.astype(np.float32), **params),
                      f(a, b, **params), "forward")]
            got = fg(g.astype(np.float32), a.astype(np.float32), b.astype(np.float32), **params)
            want = fg(g, a, b, **params)
        pairs += [(got[0], want[0], "grad_gate"), (got[1], want[1], "grad_up")]
        for got32, want64, what in pairs:
            want32 = want64.astype(np.float32)
            zero = (got32 == 0) & (want32 == 0)
            bad = np.flatnonzero(zero & (np.signbit(got32) != np.signbit(want32)))
            assert not bad.size, (f"{name} {what} g={gv}: zero signs differ at a={a[bad[:3]]}, "
                                  f"b={b[bad[:3]]}")


@pytest.mark.parametrize(("name", "params", "ref"), CASES, ids=IDS)
def test_float64_against_mpmath(name, params, ref):
    rng = np.random.default_rng(4)
    a = np.concatenate([rng.standard_normal(150) * 5, [-30.0, -20.0, 25.0, 0.3, -0.7]])
    b = rng.standard_normal(a.size) * 3
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    y = f(a, b, **params)
    ga, gb = fg(np.ones_like(a), a, b, **params)
    for i in range(a.size):
        ma, mb = mp.mpf(float(a[i])), mp.mpf(float(b[i]))
        want = ref.mf(ma, mb)
        wa, wb = ref.mdf(ma, mb)
        for got, w, what in ((y[i], want, "forward"), (ga[i], wa, "grad_gate"),
                             (gb[i], wb, "grad_up")):
            w = float(w)
            if what == "grad_gate" and any(abs(a[i] - r) < 0.25 for r in ref.roots):
                # near a zero of act': a difference of O(b) terms, bounded absolutely
                assert abs(got - w) <= 16 * np.finfo(np.float64).eps * max(1, abs(b[i])), (
                    name, what, a[i], b[i])
                continue
            if abs(w) < np.finfo(np.float64).tiny:
                assert abs(got - w) <= 1e-300, (what, a[i], b[i])
                continue
            ulps = abs(got - w) / np.spacing(abs(w))
            assert ulps <= 16, f"{name} {what} at a={a[i]}, b={b[i]}: {ulps:.1f} ULP"


def _arrays(shape, dtype=np.float64, seed=5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 3).astype(dtype)


def _halves(x, axis):
    h = x.shape[axis] // 2
    return np.take(x, np.arange(h), axis=axis), np.take(x, np.arange(h, 2 * h), axis=axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_split_form_is_the_two_input_form_on_every_axis_and_layout(name, dtype):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    base = _arrays((4, 6, 8), dtype)
    views = {"C": base, "F": np.asfortranarray(base),
             "strided": _arrays((8, 6, 16), dtype)[::2, :, ::2], "reversed": base[::-1, :, ::-1]}
    for layout, x in views.items():
        for axis in (0, 1, 2, -1, -3):
            a, b = _halves(x, axis)
            want = f(np.ascontiguousarray(a), np.ascontiguousarray(b))
            got = f(x, axis=axis)
            assert got.shape == want.shape and got.dtype == dtype
            np.testing.assert_array_equal(got, want, err_msg=f"{layout} axis {axis}")
            np.testing.assert_array_equal(f(x, axis % 3), want)  # an integer second argument
            g = _arrays(want.shape, dtype, seed=6)
            ga, gb = fg(g, np.ascontiguousarray(a), np.ascontiguousarray(b))
            gx = fg(g, x, axis=axis)
            assert gx.shape == x.shape and gx.dtype == dtype
            np.testing.assert_array_equal(gx, np.concatenate([ga, gb], axis=axis),
                                          err_msg=f"{layout} axis {axis} grad")


@pytest.mark.parametrize("name", NAMES)
def test_out_and_inplace(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _arrays((5, 12), np.float32)
    g = _arrays((5, 6), np.float32, seed=7)
    want, gwant = f(x), fg(g, x)
    out = np.full((5, 6), 7.0, np.float32)
    assert f(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    fout = np.asfortranarray(np.full((5, 6), 7.0, np.float32))
    assert f(x, out=fout) is fout
    np.testing.assert_array_equal(fout, want)
    work = x.copy()
    r = f(work, inplace=True)  # into the gate half of x: a view of it
    assert r.base is work or np.shares_memory(r, work)
    np.testing.assert_array_equal(r, want)
    np.testing.assert_array_equal(work[:, 6:], x[:, 6:])
    gout = np.full(x.shape, 7.0, np.float32)
    assert fg(g, x, out=gout) is gout
    np.testing.assert_array_equal(gout, gwant)
    work = x.copy()
    assert fg(g, work, inplace=True) is work  # grad_x into x's memory
    np.testing.assert_array_equal(work, gwant)
    a, b = x[:, :6].copy(), x[:, 6:].copy()
    ga, gb = fg(g, a, b)
    outs = (np.empty_like(a), np.empty_like(b))
    r = fg(g, a, b, out=outs)
    assert r[0] is outs[0] and r[1] is outs[1]
    np.testing.assert_array_equal(outs[0], ga)
    np.testing.assert_array_equal(outs[1], gb)
    wa, wb = a.copy(), b.copy()
    r = fg(g, wa, wb, inplace=True)
    assert r[0] is wa and r[1] is wb
    np.testing.assert_array_equal(wa, ga)
    np.testing.assert_array_equal(wb, gb)
    wa = a.copy()
    assert f(wa, b, inplace=True) is wa
    np.testing.assert_array_equal(wa, want)
    wa = a.copy()
    assert f(wa, b, out=wa) is wa  # out= the gate itself
    np.testing.assert_array_equal(wa, want)


@pytest.mark.parametrize("name", NAMES)
def test_broadcasting_and_the_reduced_gradients(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    gate = _arrays((3, 1, 5))
    up = _arrays((4, 5), seed=8)
    full_a, full_b = np.broadcast_arrays(gate, up)
    want = f(full_a.copy(), full_b.copy())
    np.testing.assert_array_equal(f(gate, up), want)
    g = _arrays(want.shape, seed=9)
    ga_full, gb_full = fg(g, full_a.copy(), full_b.copy())
    ga, gb = fg(g, gate, up)
    assert ga.shape == gate.shape and gb.shape == up.shape
    np.testing.assert_allclose(ga, ga_full.sum(axis=1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(gb, gb_full.sum(axis=0), rtol=1e-13)
    # a reduced gradient past the dtype's range: inf, as torch's, and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big, three = np.full((64, 5), 1e38, np.float32), np.full((64, 5), 3.0, np.float32)
        assert np.isinf(fg(big, three, np.ones(5, np.float32))[1]).all()
    # a scalar up, and grad_output broadcast to the result
    np.testing.assert_array_equal(f(gate, 2.0), f(gate, np.full(gate.shape, 2.0)))
    np.testing.assert_array_equal(fg(1.0, gate, up)[0], fg(np.ones(want.shape), gate, up)[0])


@pytest.mark.parametrize("name", NAMES)
def test_dtypes(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x32 = _arrays((3, 8), np.float32)
    y16 = f(x32.astype(np.float16))
    assert y16.dtype == np.float16
    np.testing.assert_array_equal(y16, f(x32.astype(np.float16).astype(np.float32))
                                  .astype(np.float16))
    assert f(np.arange(8).reshape(2, 4)).dtype == np.float64  # integers promote
    assert f(x32[:, :4], x32[:, 4:].astype(np.float64)).dtype == np.float64  # mixed
    assert fg(np.ones((3, 4), np.float16), x32.astype(np.float16)).dtype == np.float16
    assert f([1.0, 2.0]).shape == (1,)  # lists, as NumPy ufuncs take them
    assert np.ndim(f(1.0, 2.0)) == 0  # scalars in, a scalar out
    for bad in (x32.astype(np.complex64), x32.astype(object)):
        with pytest.raises(TypeError, match=f"{name}: unsupported dtype"):
            f(bad)


@pytest.mark.parametrize("name", NAMES)
def test_refused_calls_change_nothing(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _arrays((4, 6))
    g = _arrays((4, 3), seed=2)
    x0, g0 = x.copy(), g.copy()
    out = np.full((4, 3), 7.0)
    with pytest.raises(ValueError, match="length 7 along axis 1, which is odd"):
        f(_arrays((4, 7)))
    with pytest.raises(np.exceptions.AxisError):
        f(x, axis=2)
    with pytest.raises(ValueError, match="0-d"):
        f(np.float64(1.0), axis=0)
    with pytest.raises(TypeError, match="axis twice"):
        f(x, 1, axis=1)
    with pytest.raises(ValueError, match="out has shape"):
        f(x, out=np.empty((4, 6)))
    with pytest.raises(ValueError, match="out has dtype"):
        f(x, out=np.empty((4, 3), np.float32))
    ro = np.full((4, 3), 7.0)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        f(x, out=ro)
    with pytest.raises(ValueError, match="either out= or inplace=True"):
        f(x, out=out, inplace=True)
    with pytest.raises(TypeError, match="in place on a int64"):
        f(x.astype(np.int64), inplace=True)
    with pytest.raises(ValueError, match="do not broadcast"):
        f(x, _arrays((5, 6)))
    with pytest.raises(ValueError, match="do not broadcast together"):
        fg(_arrays((4, 6)), x)
    with pytest.raises(ValueError, match="inplace=True needs up of the result's shape"):
        fg(g, x[:, :3].copy(), _arrays((1, 3)), inplace=True)
    with pytest.raises(TypeError, match="out must be a pair"):
        fg(g, x[:, :3], x[:, 3:], out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="out\\[1\\] has shape"):
        fg(g, x[:, :3], x[:, 3:], out=(np.empty((4, 3)), np.empty((3, 3))))
    with pytest.raises(TypeError, match="unexpected keyword"):
        f(x, beta=2.0)
    with pytest.raises(ValueError, match="derivative"):
        fastact.derivative(name, x)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, g0)
    np.testing.assert_array_equal(out, 7.0)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_is_the_finite_difference(name):
    spec = GATED[name]
    rng = np.random.default_rng(10)
    a = rng.uniform(-4, 4, 400)
    a = a[np.all([np.abs(a - k) > 1e-3 for k in spec.kinks_at({})], axis=0)] \
        if spec.kinks_at({}) else a
    b = rng.uniform(-3, 3, a.size)
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    h = 1e-6
    da, db = fg(np.ones_like(a), a, b)
    np.testing.assert_allclose(da, (f(a + h, b) - f(a - h, b)) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, (f(a, b + h) - f(a, b - h)) / (2 * h), rtol=1e-6, atol=1e-8)


def _close(got, want, rtol, atol, what):
    """|got - want| <= atol + rtol |want| elementwise (atol may be an array), NaN where NaN."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NaN")
    with np.errstate(invalid="ignore"):  # inf - inf where both are the same infinity
        ok = np.isnan(want) | (got == want) | (np.abs(got - want) <= atol + rtol * np.abs(want))
    bad = np.flatnonzero(~ok)
    assert not bad.size, f"{what}: got {got.flat[bad[:4]]}, want {want.flat[bad[:4]]}"


def test_glu_is_torch_s_on_torch_s_inputs():
    """F.glu's own shapes and dims (its OpInfo samples: halved dims of every rank), values and
    gradients, float32 and float64, with the special values in the halves; the gradient where
    the registry lists torch's deviation (sigmoid(b) rounded to 1) is left out."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    spec = GATED["glu"]
    cases = [((6,), 0), ((4, 6), -1), ((4, 6), 0), ((2, 4, 6), 1), ((2, 3, 4, 2), 3),
             ((5, 10), 1), ((10, 5), 0), ((2, 0, 4), 2)]
    for dtype in (np.float32, np.float64):
        eps = np.finfo(dtype).eps
        for shape, dim in cases:
            x = _arrays(shape, dtype, seed=len(shape))
            if x.size:
                x.reshape(-1)[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 100.0][:min(6, x.size)]
            t = torch.tensor(x, requires_grad=True)
            y = F.glu(t, dim)
            g = torch.tensor(_arrays(tuple(y.shape), dtype, seed=3))
            y.backward(g)
            _close(fastact.glu(x, dim), y.detach().numpy(), 8 * eps, 0, f"{shape} {dim}")
            a, b = _halves(x, dim)
            skip = np.zeros(a.shape, bool)
            for d in spec.torch.deviations:
                skip |= d.at(a, b)
            keep = np.concatenate([~skip, ~skip], axis=dim)
            gx = fastact.glu_grad(g.numpy(), x, dim)
            # torch's 1 - sigmoid(b) in the gradient: an absolute error of eps |g a|
            with np.errstate(invalid="ignore"):
                scale = float(np.nanmax(np.abs(np.where(np.isfinite(a), a, 0))) * np.abs(
                    g.numpy()).max()) if a.size else 0.0
            _close(gx[keep], t.grad.numpy()[keep], 8 * eps, 8 * eps * scale,
                   f"{shape} {dim} grad")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_composite_parity(name, dtype):
    torch = pytest.importorskip("torch")
    spec = GATED[name]
    for params in [{}] + [{spec.choice.name: v} for v in spec.variants] if spec.choice else [{}]:
        full = {**spec.defaults(), **params}
        fn = spec.torch.function(torch, full)
        a, b = _inputs(dtype, 4000, seed=11)
        keep = np.ones(a.shape, bool)
        for d in spec.torch.deviations:
            keep &= ~d.at(a, b)
        keep &= (np.abs(a) < 60) & (np.abs(b) < 1e6)  # the composite's own tails overflow
        a, b = a[keep], b[keep]
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        y = fn(ta, tb)
        g = np.random.default_rng(1).standard_normal(a.size).astype(dtype)
        y.backward(torch.tensor(g))
        rtol = spec.torch.tolerance * np.finfo(dtype).eps
        f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
        scale = np.abs(b) + 1
        _close(f(a, b, **params), y.detach().numpy(), rtol, rtol * 4 * scale, f"{name}")
        ga, gb = fg(g, a, b, **params)
        _close(ga, ta.grad.numpy(), rtol, rtol * 4 * scale * np.abs(g), f"{name} grad_gate")
        _close(gb, tb.grad.numpy(), rtol, rtol * 4 * np.abs(g), f"{name} grad_up")


@pytest.mark.parametrize("name", NAMES)
def test_jax_parity(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    spec = GATED[name]
    a, b = _inputs(np.float64, 4000, seed=12)
    keep = (np.abs(a) < 60) & (np.abs(b) < 1e6) & np.isfinite(a) & np.isfinite(b)
    for d in spec.jax.deviations:
        keep &= ~d.at(a, b)
    a, b = a[keep], b[keep]
    fn = spec.jax.function(jax, spec.defaults())
    y, vjp = jax.vjp(jax.jit(fn), a, b)
    g = np.random.default_rng(2).standard_normal(a.size)
    ja, jb = vjp(g)
    rtol = spec.jax.tolerance * np.finfo(np.float64).eps
    np.testing.assert_allclose(getattr(fastact, name)(a, b), y, rtol=rtol, atol=1e-300)
    ga, gb = getattr(fastact, f"{name}_grad")(g, a, b)
    np.testing.assert_allclose(ga, ja, rtol=rtol, atol=rtol * 4 * np.abs(b).max())
    np.testing.assert_allclose(gb, jb, rtol=rtol, atol=rtol * 4)
    if spec.jax.split is not None:  # jax.nn.glu itself, on the split form
        x = _arrays((4, 10))
        for axis in (0, 1, -1):
            np.testing.assert_allclose(getattr(fastact, name)(x, axis),
                                       spec.jax.split(jax, {})(x, axis), rtol=rtol)


@pytest.mark.parametrize("name", NAMES)
def test_backends_agree_bit_for_bit(name):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _arrays((64, 2 * 3000), np.float32)
    g = _arrays((64, 3000), np.float32, seed=1)
    for axis in (0, 1):
        gg = g if axis == 1 else _arrays((32, 6000), np.float32, seed=1)
        want = f(x, axis=axis, backend="cpu")
        np.testing.assert_array_equal(f(x, axis=axis, backend="parallel"), want)
        np.testing.assert_array_equal(fg(gg, x, axis=axis, backend="parallel"),
                                      fg(gg, x, axis=axis, backend="cpu"))
    line = fastact.explain(x, name)
    assert line.startswith(f"{name} on float32[64,6000]") and "backend parallel" in line


def test_threads_share_nothing():
    x = _arrays((16, 4096), np.float32)
    want = {n: getattr(fastact, n)(x) for n in NAMES}
    bad = []

    def work(k):
        for i in range(20):
            n = NAMES[(k + i) % len(NAMES)]
            if not np.array_equal(getattr(fastact, n)(x), want[n]):
                bad.append(n)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


@pytest.mark.parametrize("name", NAMES)
def test_dask(name):
    da = pytest.importorskip("dask.array")
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _arrays((40, 16))
    dx = da.from_array(x, chunks=(10, 5))  # the split axis in several chunks: rechunked
    for axis in (0, 1):
        y = f(dx, axis=axis)
        assert isinstance(y, da.Array)
        np.testing.assert_array_equal(y.compute(), f(x, axis=axis))
        g = _arrays(y.shape, seed=3)
        gx = fg(da.from_array(g, chunks=5), dx, axis=axis)
        assert isinstance(gx, da.Array) and gx.shape == x.shape
        np.testing.assert_array_equal(gx.compute(), fg(g, x, axis=axis))
    a, b = x[:, :8], x[0, 8:]
    ga, gb = fg(np.ones((40, 8)), da.from_array(a, chunks=10), b)
    want = fg(np.ones((40, 8)), a, b)
    np.testing.assert_array_equal(ga.compute(), want[0])
    np.testing.assert_allclose(gb.compute(), want[1], rtol=1e-13)
    with pytest.raises(TypeError, match="dask"):
        f(dx, out=np.empty((40, 8)))


@pytest.mark.parametrize("name", NAMES)
def test_fastact_torch_gradcheck_and_module(name):
    torch = pytest.importorskip("torch")
    import fastact.torch as ft

    x = torch.randn(4, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: getattr(ft, name)(t, 0), (x,))
    a = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(getattr(ft, name), (a, b))
    # a NumPy integer is the axis too, and the axis given twice is refused, as fastact's own
    np.testing.assert_array_equal(getattr(ft, name)(x, np.int64(0)).detach().numpy(),
                                  getattr(fastact, name)(x.detach().numpy(), 0))
    with pytest.raises(TypeError, match="got the axis twice"):
        getattr(ft, name)(x, 0, axis=1)
    m = ft.Activation(name, axis=0)
    assert name in repr(m) and "axis=0" in repr(m)
    np.testing.assert_array_equal(m(x).detach().numpy(),
                                  getattr(fastact, name)(x.detach().numpy(), axis=0))


@pytest.mark.parametrize("name", NAMES)
def test_analysis_shows_the_gate(name):
    spec = GATED[name]
    assert fastact.analyze(name).name == spec.gate


#: the kernels with a fast float32 form: (activation, kernel, fast kernel, tail predicate)
FAST = [(n, k, fk, tk) for n, s in GATED.items() for k, (fk, tk) in s.fast_kernels.items()]


def _run_fast(fast, tail, args):
    """The fast kernel and its predicate over float32 arrays (a forward's (a, b) or a gradient's
    (g, a, b)), through njit loops (a gradient's kernel returns a pair)."""
    from fastact.kernels import FASTMATH
    from numba import njit

    opts = {"fastmath": FASTMATH, "error_model": "numpy"}
    f, t = njit(**opts)(fast.py_func), njit(**opts)(tail.py_func)
    if len(args) == 2:
        @njit(**opts)
        def loop(a, b, out, hold):
            for i in range(a.size):
                out[0, i] = f(a[i], b[i])
                hold[i] = not t(a[i], b[i])
    else:
        @njit(**opts)
        def loop(g, a, b, out, hold):
            for i in range(a.size):
                out[0, i], out[1, i] = f(g[i], a[i], b[i])
                hold[i] = not t(g[i], a[i], b[i])
    out = np.empty((len(args) - 1, args[0].size), np.float32)
    hold = np.empty(args[0].size, bool)
    with np.errstate(all="ignore"):
        loop(*args, out, hold)
    return out, hold


@pytest.mark.parametrize(("name", "kernel", "fast", "tail"), FAST, ids=[f[1] for f in FAST])
def test_fast_forms_within_the_bound_where_they_hold(name, kernel, fast, tail):
    """The loops' fast float32 forms, wherever their tail predicate is false, are within the
    activation's bound of the exact values (a gradient's gate term absolutely within 1e-3 of a
    zero of act', as the element-wise gradients); the predicate holds at NaN and infinities."""
    spec = GATED[name]
    ref = spec.reference
    rng = np.random.default_rng(13)
    a = np.concatenate([np.linspace(-90, 90, 200_001), rng.standard_normal(100_000) * 8])
    b = np.concatenate([rng.standard_normal(200_001) * 4,
                        rng.choice([-1.0, 1.0], 100_000) * 10.0 ** rng.uniform(-3, 30, 100_000)])
    a, b = a.astype(np.float32), b.astype(np.float32)
    if spec.gate_input == 1:  # the sigmoid's argument is b: sweep it
        a, b = b, a
    grad = kernel.endswith("_grad")
    g = (rng.standard_normal(a.size) * 2).astype(np.float32)
    out, hold = _run_fast(fast, tail, (g, a, b) if grad else (a, b))
    assert hold.mean() > 0.3  # (geglu's fast forms hold for |a| <= 14.5 of the grid's 90)
    a64, b64, g64 = (v[hold].astype(np.float64) for v in (a, b, g))
    with np.errstate(all="ignore"):
        if not grad:
            _check(out[0][hold], ref.f(a64, b64), np.float32, spec.accuracy_ulp, f"{kernel} fast")
        else:
            da, db = ref.df(a64, b64)
            near = np.zeros(a64.shape, bool)
            for r in ref.roots:
                near |= np.abs(a64 - r) < 1e-3
            got_a = out[0][hold]
            _check(got_a[~near], (g64 * da)[~near], np.float32, spec.accuracy_ulp,
                   f"{kernel} fast grad_gate")
            assert np.all(np.abs(got_a[near] - (g64 * da)[near])
                          <= 16 * np.finfo(np.float32).eps * np.abs(g64 * b64)[near])
            _check(out[1][hold], g64 * db, np.float32, spec.accuracy_ulp,
                   f"{kernel} fast grad_up")
    special = np.array([np.nan, np.inf, -np.inf], np.float32)
    _, hold = _run_fast(fast, tail, (special,) * (3 if grad else 2))
    assert not hold.any()
