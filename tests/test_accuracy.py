"""Accuracy of every activation and gradient against the float64 / mpmath references.

float32: within the registry's ``accuracy_ulp`` of the float64 reference wherever the reference is a
normal float32, on samples spanning the whole float32 range (random bit patterns: every exponent,
both signs) plus dense grids, the tails and the kinks. float64: within 16 ULP of mpmath.
Piecewise-linear activations: exact.
"""

import math

import mpmath as mp
import numpy as np
import pytest

import fastact
from fastact.registry import ACTIVATIONS, REQUIRED

from .reference import REFS, cases, ref_params

F64_ULP = 16
#: Within this distance of a zero of f', f' = a - b with a ~ b ~ O(1): relative accuracy of the
#: difference would need more than the working precision (|f'| < 0.1 there), so the bound there is
#: absolute: 4 eps (float32) or 16 * 2**-53 (float64).
F64_ROOT_WINDOW = 0.5
CASES = cases()
IDS = [f"{v}-{'-'.join(f'{k}={p[k]}' for k in p) or 'default'}" for _, v, p in CASES]


def call(name, x, params, grad=False, g=None):
    """The activation (or its grad_input) on the serial loops: the parallel ones, which the
    float32 sample's size would take, are checked bit-equal to them in test_parallel."""
    p = dict(params, backend="cpu")
    if grad:
        g = np.ones_like(x) if g is None else g
        r = getattr(fastact, f"{name}_grad")(g, x, **p)
        return r[0] if ACTIVATIONS[name].has_weight else r
    return getattr(fastact, name)(x, **p)


def with_defaults(name, params):
    """The parameters with the registry's defaults filled in (the reference needs them all)."""
    full = {p.name: p.default for p in ACTIVATIONS[name].params if p.default is not REQUIRED}
    full.update(params)
    return full


def rounded(params, dtype):
    """Parameters as the kernels see them: rounded to the compute dtype."""
    return {k: (float(dtype(v)) if not isinstance(v, str) else v) for k, v in params.items()}


def float32_sample(seed=0):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, 40_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    parts = [
        bits[np.isfinite(bits)],
        np.linspace(-50, 50, 40_001, dtype=np.float32),
        np.linspace(-110, -80, 3_001, dtype=np.float32),  # silu/mish gates go subnormal
        np.linspace(-20, -5, 3_001, dtype=np.float32),  # gelu tails
        np.float32([0, -0.0, 1e-45, -1e-45, 1e-38, -1e-38, 3, -3, 6, -1, 1, 10, 20, 30]),
        np.float32([3.4e38, -3.4e38, np.finfo(np.float32).max, -np.finfo(np.float32).max]),
    ]
    kinks = np.float32([0, -3, 3, 6, -1, 1, 0.5, -2.5, 5, 7.5, 10, 15, 20])
    near = [np.nextafter(kinks, np.float32(np.inf)), np.nextafter(kinks, np.float32(-np.inf))]
    return np.concatenate(parts + near)


def check_ulp(got, x, ref, dtype, tol, what, exact_zero_sign=False):
    """Assert ``got`` (dtype) is within ``tol`` ULP of float64 ``ref`` where ref is normal."""
    with np.errstate(all="ignore"):
        _check_ulp(got, x, ref, dtype, tol, what, exact_zero_sign)


def _check_ulp(got, x, ref, dtype, tol, what, exact_zero_sign):
    got = np.asarray(got)
    assert got.dtype == dtype, what
    finfo = np.finfo(dtype)
    nan_ref, nan_got = np.isnan(ref), np.isnan(got)
    bad = nan_ref != nan_got
    assert not bad.any(), f"{what}: NaN mismatch at x={x[bad][:5]} got={got[bad][:5]}"
    with np.errstate(over="ignore"):
        r = ref.astype(dtype)
    inf = np.isinf(r)
    bad = inf & (got != r)
    assert not bad.any(), f"{what}: expected inf at x={x[bad][:5]}, got {got[bad][:5]}"
    normal = np.isfinite(r) & ~nan_ref & (np.abs(ref) >= finfo.tiny)
    if tol == 0:
        bad = normal & (got != r)
        if exact_zero_sign:
            bad |= (got == 0) & (r == 0) & (np.signbit(got) != np.signbit(r))
        assert not bad.any(), f"{what}: not exact at x={x[bad][:5]}: {got[bad][:5]} vs {r[bad][:5]}"
    else:
        ulp = np.spacing(np.abs(r[normal])).astype(np.float64)
        err = np.abs(got[normal].astype(np.float64) - ref[normal]) / ulp
        worst = int(np.argmax(err)) if err.size else 0
        assert err.size == 0 or err[worst] <= tol, (
            f"{what}: {err[worst]:.2f} ULP at x={x[normal][worst]!r} "
            f"(got {got[normal][worst]!r}, reference {ref[normal][worst]!r})"
        )
    small = np.isfinite(r) & ~nan_ref & ~normal
    bad = small & (np.abs(got.astype(np.float64) - ref) > finfo.tiny)
    assert not bad.any(), f"{what}: tiny results wrong at x={x[bad][:5]}"


def _near_roots(x, roots, window=None):
    mask = np.zeros(x.shape, bool)
    for r in roots:
        mask |= np.abs(x.astype(np.float64) - r) < (F64_ROOT_WINDOW if window is None else window)
    return mask


@pytest.mark.parametrize(("name", "variant", "params"), CASES, ids=IDS)
def test_float32_forward_and_grad(name, variant, params):
    spec, ref = ACTIVATIONS[name], REFS[variant]
    x = float32_sample()
    p32 = rounded(with_defaults(name, params), np.float32)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        want = ref.f(x64, **ref_params(p32))
        dwant = ref.df(x64, **ref_params(p32))
    tol = spec.accuracy_ulp
    check_ulp(call(name, x, params), x, want, np.float32, tol, f"{variant} float32",
              exact_zero_sign=tol == 0)
    got = call(name, x, params, grad=True)
    keep = ~_near_roots(x, ref.roots)
    check_ulp(got[keep], x[keep], dwant[keep], np.float32, max(tol, 0 if tol == 0 else 4),
              f"{variant}_grad float32")
    # near a root of f', the error is bounded in absolute terms (on the O(1) scale of its terms)
    near = ~keep
    err = np.abs(got[near].astype(np.float64) - dwant[near])
    assert np.all(err <= 4 * np.finfo(np.float32).eps), f"{variant}: {err.max()} near f'=0"


def float64_sample(variant, seed=1):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, 120, dtype=np.uint64).view(np.float64)
    parts = [
        bits[np.isfinite(bits)],
        rng.uniform(-40, 40, 160),
        rng.uniform(-5, 5, 60),
        rng.uniform(-745, -700, 30),  # exp(x) subnormal, x * exp(x) not
        rng.uniform(-40, -27, 30),  # gelu's asymptotic branch
        rng.uniform(-30, -20, 30),  # gelu_tanh's underflow
        np.array([0.0, -0.0, 1e-310, -1e-310, 3.0, -3.0, 20.0, 20.5, -28.0, 10.0, 1e300, -1e300]),
    ]
    return np.concatenate(parts)


def _mp_ulp_error(got, want):
    if math.isnan(got) or mp.isnan(want):
        return 0.0 if (math.isnan(got) and mp.isnan(want)) else math.inf
    if abs(want) < mp.mpf("1e-330"):  # below float64's range (mpmath cannot convert it)
        w = 0.0
    elif abs(want) > mp.mpf("1e330"):
        w = math.copysign(math.inf, want)
    else:
        w = float(want)
    if math.isinf(w) or abs(w) < np.finfo(np.float64).tiny:
        return 0.0 if (got == w or abs(got - w) <= np.finfo(np.float64).tiny) else math.inf
    return float(abs(mp.mpf(got) - want) / np.spacing(abs(w)))


@pytest.mark.parametrize(("name", "variant", "params"), CASES, ids=IDS)
def test_float64_against_mpmath(name, variant, params):
    spec, ref = ACTIVATIONS[name], REFS[variant]
    x = float64_sample(variant)
    rp = ref_params(with_defaults(name, params))
    got = call(name, x, params)
    dgot = call(name, x, params, grad=True)
    tol = 0.5 if spec.accuracy_ulp == 0 else F64_ULP  # exact: correctly rounded
    worst = (0.0, None)
    for xi, yi, dyi in zip(x.tolist(), got.tolist(), dgot.tolist(), strict=True):
        xm = mp.mpf(xi)
        e = _mp_ulp_error(yi, ref.mf(xm, **rp))
        if any(abs(xi - r) < F64_ROOT_WINDOW for r in ref.roots):
            # f' cancels near its zero: bounded in absolute terms, on the scale of its terms (~1)
            de = 0.0 if abs(dyi - float(ref.mdf(xm, **rp))) <= F64_ULP * 2.0**-53 else math.inf
        else:
            de = _mp_ulp_error(dyi, ref.mdf(xm, **rp))
        worst = max(worst, (e, ("forward", xi)), (de, ("grad", xi)), key=lambda t: t[0])
    assert worst[0] <= tol, f"{variant} float64: {worst[0]:.2f} ULP at {worst[1]}"


@pytest.mark.parametrize(("name", "variant", "params"), CASES, ids=IDS)
def test_float16_computed_in_float32(name, variant, params):
    ref = REFS[variant]
    x = np.linspace(-12, 12, 2001).astype(np.float16)
    x = np.concatenate([x, np.float16([np.inf, -np.inf, np.nan, 0, -0.0, 65504, -65504])])
    p16 = rounded(with_defaults(name, params), np.float32)
    with np.errstate(all="ignore"):
        want = ref.f(x.astype(np.float64), **ref_params(p16))
    got = call(name, x, params)
    assert got.dtype == np.float16
    check_ulp(got, x, want, np.float16, 1, f"{variant} float16")


@pytest.mark.parametrize("beta", [1.0, 1.7, 0.3, 1e-3, 1e-30, 2.0**-127, 1e-45, -1.0, -0.25,
                                  3e4, 3e38])
@pytest.mark.parametrize("threshold", [20.0, np.inf, -5.0])
def test_softplus_float32_any_beta_and_threshold(beta, threshold):
    """float32 softplus divides by beta through its hoisted reciprocal plus a correction step:
    within 4 ULP for every beta, subnormal (1/beta overflows) and huge ones included, negative
    beta (the result is negative), a threshold of inf (no linear branch) or below 0."""
    x = float32_sample()
    b32 = float(np.float32(beta))
    with np.errstate(all="ignore"):
        want = REFS["softplus"].f(x.astype(np.float64), beta=b32, threshold=threshold)
        got = fastact.softplus(x, beta=beta, threshold=threshold)
    check_ulp(got, x, want, np.float32, 4, f"softplus(beta={beta}, threshold={threshold})")


@pytest.mark.parametrize(("name", "dense"), [("silu", (-2.0, -0.5)), ("gelu", (-1.5, -0.375))])
def test_float32_grad_through_its_root(name, dense):
    """The float32 silu and exact GELU gradients (``kernels.gated.silu_grad32``, ``_gelu_grad32``)
    cancel nowhere: within 4 ULP right through the zero of f', where the general test bounds the
    error in absolute terms only (silu: a polynomial in x - x0 near it and a numerator without
    cancellation around; gelu: (x - x0) a factor of its own)."""
    ref = REFS[name]
    x0 = ref.roots[0]
    # the 4001 float32 closest to x0, and offsets from 1e-7 to 0.6 on both sides: against mpmath
    steps = np.arange(-2000, 2001).astype(np.int32)
    near = (np.float32(x0).view(np.int32) + steps).view(np.float32)  # x0 < 0: one binade
    off = np.geomspace(1e-7, 0.6, 1500)
    x = np.unique(np.concatenate([near, np.float32(x0 + off), np.float32(x0 - off)]))
    want = np.array([float(ref.mdf(mp.mpf(float(v)))) for v in x])  # (tests.reference: 50 digits)
    grad = getattr(fastact, f"{name}_grad")
    check_ulp(grad(np.ones_like(x), x), x, want, np.float32, 4, f"{name}_grad near x0")
    # every 3rd float32 of an interval around it (for silu, where 1 + x + 2**k is exact)
    lo, hi = np.float32(dense[0]).view(np.int32), np.float32(dense[1]).view(np.int32)
    x = np.arange(hi, lo, 3, dtype=np.int32).view(np.float32)
    x = x[np.abs(x.astype(np.float64) - x0) > 1e-4]  # float64's own cancellation: 1e-12 there
    with np.errstate(all="ignore"):
        want = ref.df(x.astype(np.float64))
    check_ulp(grad(np.ones_like(x), x), x, want, np.float32, 4, f"{name}_grad on {dense}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend", ["cpu", "parallel"])
def test_swish_beta_one_is_silu_bit_for_bit(dtype, backend):
    """swish and its gradient take silu's forms where beta == 1 (z = x exactly): the same bits,
    signed zeros and NaNs included, and beta next to 1 still takes the general form."""
    x = np.concatenate([float32_sample(), np.float32([np.nan, np.inf, -np.inf])]).astype(dtype)
    same = fastact.swish(x, beta=1.0, backend=backend)
    assert same.tobytes() == fastact.silu(x, backend=backend).tobytes()
    g = np.linspace(-3, 3, x.size).astype(dtype)
    same = fastact.swish_grad(g, x, beta=1.0, backend=backend)
    assert same.tobytes() == fastact.silu_grad(g, x, backend=backend).tobytes()
    near = float(np.nextafter(dtype(1), dtype(2)))
    with np.errstate(all="ignore"):
        want = REFS["swish"].f(x.astype(np.float64), beta=near)
    got = fastact.swish(x, beta=near, backend=backend)
    if dtype == np.float32:
        check_ulp(got, x, want, dtype, 4, "swish(beta=1+ulp)")


def test_knuth_quartic_evaluates_the_quartic():
    """``gated.knuth_quartic``'s coefficients give the quartic itself: exactly, in rational
    arithmetic, for random quartics; and for float32 GELU's Q in float64 to within 16 ULP of the
    sum of |terms| over its range (no cancellation: Q's scheme must not lose digits)."""
    from fractions import Fraction

    from fastact.kernels.gated import GELU_Q32, GELU_V_MAX, knuth_quartic

    def knuth(c, v):
        k0, k1, k2, k3 = knuth_quartic(c)
        y = (v + k0) * v + k1
        return c[4] * ((y + v + k2) * y + k3)

    rng = np.random.default_rng(7)
    for c in rng.integers(-20, 21, size=(20, 5)):
        c = [Fraction(int(a), 7) for a in c]
        if c[4] == 0:
            continue
        for v in (Fraction(-3), Fraction(0), Fraction(1, 3), Fraction(5, 2), Fraction(11)):
            assert knuth(c, v) == sum(a * v**i for i, a in enumerate(c))
    v = np.linspace(0.0, GELU_V_MAX, 4001)
    want = np.polynomial.polynomial.polyval(v, GELU_Q32)  # all terms positive: the sum of |terms|
    err = np.abs(knuth(GELU_Q32, v) - want) / want
    assert np.max(err) < 16 * 2.0**-53


def test_gauss32_neg2_is_gauss32_scaled_by_minus_two():
    """``gated.gauss32_neg2`` (float32 GELU's exponential) is ``gauss32`` with every operation after
    ``v*v`` scaled by -2: the same ``kf`` and ``q2 == -2 q`` bit for bit, over every 64th float32
    in [2**-50, 14.5] (float32 gelu's range of ``v``). Below, ``v*v``'s rounding error is
    subnormal and the two round it differently, at 2**-149 next to a ``q`` below 2**-100, which
    no result sees (GELU's every float32 output is the same, docs/accuracy.md)."""
    from fastact.kernels._jit import FASTMATH
    from fastact.kernels.gated import gauss32, gauss32_neg2
    from numba import njit

    @njit(fastmath=FASTMATH, error_model="numpy")
    def both(v, q, q2, kf, kf2):
        for i in range(v.size):
            q[i], kf[i] = gauss32(v[i])
            q2[i], kf2[i] = gauss32_neg2(v[i])

    lo, hi = np.float32(2.0**-50).view(np.int32), np.float32(14.5).view(np.int32)
    v = np.arange(lo, hi + 1, 64, dtype=np.int32).view(np.float32)
    q, q2, kf, kf2 = (np.empty_like(v) for _ in range(4))
    both(v, q, q2, kf, kf2)
    assert np.array_equal(kf, kf2)
    assert (q * np.float32(-2)).tobytes() == q2.tobytes()


@pytest.mark.parametrize("dtype,bs", [(np.float32, [2e36, 1e38, 3.4e38]),
                                      (np.float64, [2e306, 1.7e308])])
def test_squareplus_with_b_near_the_top_of_the_range(dtype, bs):
    """squareplus's quotient b / (s + |x|) is formed with b scaled where b is huge: finite and
    accurate up to the largest b (sqrt(b) / 2 at x = 0), forward and gradient."""
    x = np.array([0.0, -1e20, 1e20, 3.0, -3e18], dtype)
    for b in bs:
        with mp.workdps(50):
            mb = mp.mpf(float(dtype(b)))
            xs = [mp.mpf(float(v)) for v in x]
            root = [mp.sqrt(v ** 2 + mb) for v in xs]
            want = np.array([float((v + r) / 2) for v, r in zip(xs, root, strict=True)])
            dwant = np.array([float((1 + v / r) / 2) for v, r in zip(xs, root, strict=True)])
        y = fastact.squareplus(x, b=b)
        d = fastact.squareplus_grad(np.ones_like(x), x, b=b)
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(y, want, rtol=4 * eps, err_msg=f"b={b}")
        np.testing.assert_allclose(d, dwant, rtol=4 * eps, err_msg=f"b={b} gradient")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squareplus_gradient_with_b_zero_where_x_squared_underflows(dtype):
    """With b = 0, squareplus'(x) is 1 for x > 0 and 0 for x < 0 however small x is (x**2 may
    underflow to 0), and NaN at x = 0 (0 / 0, as JAX's), on every backend."""
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([tiny, -tiny, 1e-30, -1e-30, 2.0, -2.0, 0.0, -0.0], dtype)
    want = np.array([1, 0, 1, 0, 1, 0, np.nan, np.nan], dtype)
    for backend in ("cpu", "parallel"):
        d = fastact.squareplus_grad(np.ones_like(x), x, b=0.0, backend=backend)
        np.testing.assert_array_equal(d, want, err_msg=backend)
