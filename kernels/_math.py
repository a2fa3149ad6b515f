"""Vectorizable scalar math for the kernels: exp, expm1, log1p, tanh, erf, erfc, erfcx.

No libm calls (a call inside a loop stops LLVM from vectorizing it, and llvmlite has no SVML), no
data-dependent branches that LLVM cannot turn into selects, and constants of the argument's type
(a bare float literal would promote float32 math to float64, halving the SIMD width). Each
function has a float32 and a float64 implementation, chosen at compile time by the argument type.

Range reduction is Cody-Waite (``x = k ln2 + r`` with ``ln2`` split so ``k * LN2_HI`` is exact),
powers of two are built from bits (``_bits.scale_pow2``; ``scale_pow2_neg`` where the power is
never large), polynomials are a minimax fit for float32 expm1 on the reduced interval
(``expm1_reduced32``), Taylor series where they converge fast enough and a Chebyshev fit for
erfcx (``tools/fit_erfcx.py``).

Each function's measured error (float32 and float64, in ULP, with the range measured) is in
docs/accuracy.md, "The math library" (``benchmarks/math_accuracy.py``); beyond the ranges they
return the limits, inf, 0 and NaN as libm does.

The ``*_lean`` functions are float64 functions with float32-grade accuracy (relative error about
1e-13 instead of 1e-16, with shorter polynomials), for float32 kernels that evaluate in float64
and round once: ``exp_lean``, ``erfcx_lean``. A function with a float32 and a float64 form is
declared with ``kernel.by_dtype`` (``kernels._jit``).

The helpers here are the ones several families share; a helper only one activation uses lives in
that activation's module (GELU's Gaussian in ``gated``, softplus's float32 split in
``sigmoidal``).
"""

import math

import numpy as np

from ._bits import (
    SHIFTER32,
    SHIFTER64,
    exponent_sqrt2,
    fma,
    mantissa_sqrt2,
    scale_pow2,
    scale_pow2_neg,
)
from ._erfcx_coeffs import (
    ERFCX_F32_A,
    ERFCX_F32_C,
    ERFCX_F32_T0,
    ERFCX_F64_A,
    ERFCX_F64_C,
    ERFCX_F64_T0,
    erfcx_poly_f32,
    erfcx_series_f64,
)
from ._jit import kernel, register_cuda  # noqa: F401 - fastact.backends.cuda imports it here

f32 = np.float32


# -- exp -----------------------------------------------------------------------------------------

LOG2E32, LN2HI32, LN2LO32 = f32(1.4426950408889634), f32(0.693145751953125), f32(1.4286068e-06)
LOG2E64, LN2HI64, LN2LO64 = 1.4426950408889634, 6.9314718036912382e-01, 1.9082149292705877e-10
SH32 = f32(SHIFTER32)


@kernel
def _reduce_hi_at32(x, kf):
    """``(k, x - k LN2HI)`` for the k of ``kf = k + SHIFTER``: the exact part of the reduction
    (k LN2HI and the difference are exact)."""
    k = kf - SH32
    return k, x - k * LN2HI32


@kernel
def _reduce_at32(x, kf):
    """``x - k ln2`` for the k of ``kf = k + SHIFTER``: the exact part, then the low part."""
    k, rh = _reduce_hi_at32(x, kf)
    return rh - k * LN2LO32


@kernel
def _reduce_at64(x, kf):
    k = kf - SHIFTER64
    return (x - k * LN2HI64) - k * LN2LO64


@kernel
def _reduce32(x):
    kf = x * LOG2E32 + SH32
    return kf, _reduce_at32(x, kf)


@kernel
def _reduce64(x):
    kf = x * LOG2E64 + SHIFTER64
    return kf, _reduce_at64(x, kf)


@kernel
def _expm1_poly64(r):
    """e**r - 1 for |r| <= ln2/2 (Taylor to r**13)."""
    p = 1 / 479001600 + r * (1 / 6227020800)
    p = 1 / 39916800 + r * p
    p = 1 / 3628800 + r * p
    p = 1 / 362880 + r * p
    p = 1 / 40320 + r * p
    p = 1 / 5040 + r * p
    p = 1 / 720 + r * p
    p = 1 / 120 + r * p
    p = 1 / 24 + r * p
    p = 1 / 6 + r * p
    p = 0.5 + r * p
    return r + r * r * p


#: expm1(r) = r + r**2 P(r) for |r| <= ln2/2, P of degree 4 with float32 coefficients
#: (tools/fit_silu_grad.py: max error of r**2 P(r) 0.056 * 2**-24)
EXPM1_E32 = (0.5, 0.16666516661643982, 0.04166645556688309, 0.008369090966880322,
             0.001393576036207378)
_P0, _P1, _P2, _P3, _P4 = (f32(c) for c in EXPM1_E32)


@kernel
def expm1_reduced32(r):
    """e**r - 1 for float32 ``|r| <= ln2/2``: a minimax polynomial by Estrin's scheme (6 FMA-port
    operations, where the Taylor series to r**7 by Horner's scheme takes 8 and is less accurate):
    the polynomial of every float32 exp, expm1 and sigmoid here."""
    r2 = r * r
    return fma(r2, (_P0 + r * _P1) + r2 * ((_P2 + r * _P3) + r2 * _P4), r)


#: exp's clamps: below the floor exp rounds to 0, above the ceiling to inf (float32, float64);
#: at them Cody-Waite's reduction is still exact
EXP_FLOOR32, EXP_CEIL32 = -104.0, 88.8
EXP_FLOOR64, EXP_CEIL64 = -746.0, 710.0
#: expm1's floors: below them expm1 rounds to -1
EXPM1_FLOOR32, EXPM1_FLOOR64 = -30.0, -60.0
#: the exponent of the smallest subnormal: 2**k of a smaller k is not a float
SUBNORMAL_MIN_EXP32, SUBNORMAL_MIN_EXP64 = -149.0, -1074.0


def _exp32(x):
    c = min(max(x, f32(EXP_FLOOR32)), f32(EXP_CEIL32))
    c = c if x == x else x  # NaN passes
    kf, r = _reduce32(c)
    return scale_pow2(f32(1) + expm1_reduced32(r), kf)


@kernel.by_dtype(float32=_exp32)
def exp(x):
    """e**x (error: docs/accuracy.md)."""
    c = min(max(x, EXP_FLOOR64), EXP_CEIL64)
    c = c if x == x else x
    kf, r = _reduce64(c)
    return scale_pow2(1.0 + _expm1_poly64(r), kf)


def _expm1_32(x):
    c = min(max(x, f32(EXPM1_FLOOR32)), f32(EXP_CEIL32))
    c = c if x == x else x
    kf, r = _reduce32(c)
    q = expm1_reduced32(r)
    h = scale_pow2(f32(1), kf - f32(1))  # 2**(k-1): 2**k (1 + q) - 1 = 2 (h q + (h - 1/2))
    y = f32(2) * (h * q + (h - f32(0.5)))
    return y if x != f32(0) else x  # expm1(-0.0) = -0.0


@kernel.by_dtype(float32=_expm1_32)
def expm1(x):
    """e**x - 1, exact near 0 (error: docs/accuracy.md)."""
    c = min(max(x, EXPM1_FLOOR64), EXP_CEIL64)
    c = c if x == x else x
    kf, r = _reduce64(c)
    q = _expm1_poly64(r)
    h = scale_pow2(1.0, kf - 1.0)
    y = 2.0 * (h * q + (h - 0.5))
    return y if x != 0.0 else x


def _exp_split32(a, d):
    kf, r = _reduce32(a)
    return f32(1) + expm1_reduced32(r - d), kf


@kernel.by_dtype(float32=_exp_split32)
def _exp_split(a, d):
    """``(p, kf)`` with ``exp(a - d) == p * 2**k`` (``kf = k + SHIFTER``, ``p`` near [0.7, 1.5)),
    ``d`` a small correction of ``a`` (its rounding error) taken off the reduced argument:
    ``scale_pow2_neg(p * c, kf)`` is ``c * exp(a - d)`` rounded once, also where it is subnormal.
    ``d = 0`` costs nothing (``r - 0`` is ``r``, even for -0). No clamping: callers keep ``a``
    within ``x_sigmoid``'s limits."""
    kf, r = _reduce64(a)
    return 1.0 + _expm1_poly64(r - d), kf


@kernel
def _exp_floor(a):
    """The clamp of a non-positive exponent: ``EXP_FLOOR32`` or ``EXP_FLOOR64`` by ``a``'s type
    (``1e-50`` is 0 only in float32)."""
    T = type(a)
    return T(EXP_FLOOR32) if T(1e-50) == T(0) else T(EXP_FLOOR64)


@kernel
def exp_neg(a):
    """e**a for ``a <= 0`` (or NaN), bit-identical to ``exp`` there, with one clamp where ``exp``
    has two and a NaN select, and ``scale_pow2_neg`` (4 vector operations where ``scale_pow2``
    takes 9, one vscalef on AVX-512): the exponential of every non-positive argument here."""
    p, kf = _exp_split(max(a, _exp_floor(a)), type(a)(0))  # NaN passes (the first argument)
    return scale_pow2_neg(p, kf)


def _exp_parts32(a):
    kf = max(a * LOG2E32 + SH32, SH32 + f32(SUBNORMAL_MIN_EXP32))  # 2**k is a float32
    return expm1_reduced32(_reduce_at32(a, kf)), kf


@kernel.by_dtype(float32=_exp_parts32)
def _exp_parts(a):
    """``(q, kf)`` of :func:`exp_parts` before its clamp and its ``2**k``."""
    kf = max(a * LOG2E64 + SHIFTER64, SHIFTER64 + SUBNORMAL_MIN_EXP64)  # 2**k is a float64
    return _expm1_poly64(_reduce_at64(a, kf)), kf


@kernel
def exp_parts(a):
    """``(q, w)`` with ``exp(a) = w (1 + q)``, ``w = 2**k`` exactly, for ``a <= 0`` (below
    ``EXP_FLOOR32`` / ``EXP_FLOOR64``, as there: 0); NaN passes.

    k stops at the smallest subnormal's exponent, so ``w`` is a float and ``fma(w, q, w)`` is exp(a)
    rounded once, into the subnormals too; ``fma(w, q, w + 1)`` is ``1 + exp(a)``. Beyond the
    clamped k the reduced argument grows to -0.72 (float32) / -1.6 (float64), where the polynomial
    still tells 0 from the smallest subnormal. One FMA after the polynomial where ``exp_neg`` takes
    three operations in a row (``1 + q``, two products): the shorter dependency chain is what counts
    in loops bound by latency (an out-of-order window of a few iterations, as on Zen 3)."""
    q, kf = _exp_parts(max(a, _exp_floor(a)))  # NaN passes (the first argument)
    return q, scale_pow2_neg(type(a)(1), kf)


@kernel
def exp_lean(x):
    """e**x for float64 ``x``, relative error below 3e-13 (Taylor to r**10 instead of r**13): for
    the float32 kernels that evaluate in float64 and round once, where it stays below 1e-5 of a
    float32 ULP even after a 1e-3 cancellation. Same limits as ``exp``. The polynomial is
    evaluated by Estrin's scheme (depth 4 instead of Horner's 10: the loops are FMA-latency bound).
    """
    c = min(max(x, EXP_FLOOR64), EXP_CEIL64)
    c = c if x == x else x
    kf, r = _reduce64(c)
    r2 = r * r
    r4 = r2 * r2
    p = (1.0 + r) + (0.5 + r * (1 / 6)) * r2
    q = (1 / 24 + r * (1 / 120)) + (1 / 720 + r * (1 / 5040)) * r2
    h = (1 / 40320 + r * (1 / 362880)) + (1 / 3628800) * r2
    return scale_pow2(p + (q + h * r4) * r4, kf)


# -- log1p ---------------------------------------------------------------------------------------


@kernel
def _log_reduce(u):
    """``(k, s, s*s)`` with ``log(u) = k ln2 + 2 atanh(s)``, ``|s| <= 0.172`` (u positive, normal):
    ``u = (1 + f) 2**k`` with ``1 + f`` in [sqrt(2)/2, sqrt(2)), ``s = f / (2 + f)``."""
    T = type(u)
    k = exponent_sqrt2(u)
    f = mantissa_sqrt2(u) - T(1)
    s = f / (T(2) + f)
    return k, s, s * s


def _log1p32(x):
    u = f32(1) + x
    c = (x - (u - f32(1))) / u  # the rounding error of 1 + x, relative to u
    k, s, z = _log_reduce(u)  # log(1 + x) = k ln2 + 2 atanh(s) + c, 2 atanh(s) = 2s + s R(s**2)
    R = z * (f32(2 / 3) + z * (f32(2 / 5) + z * (f32(2 / 7) + z * (f32(2 / 9) + z * f32(2 / 11)))))
    y = k * LN2HI32 + ((f32(2) * s + s * R) + (k * LN2LO32 + c))
    y = y if x < f32(np.inf) else x  # +inf
    y = y if x >= f32(-1) else f32(np.nan)
    return y if x != f32(-1) else f32(-np.inf)


@kernel.by_dtype(float32=_log1p32)
def log1p(x):
    """log(1 + x); -1 -> -inf, < -1 -> NaN (error: docs/accuracy.md)."""
    u = 1.0 + x
    c = (x - (u - 1.0)) / u
    k, s, z = _log_reduce(u)
    R = 2 / 21 + z * (2 / 23)
    R = 2 / 19 + z * R
    R = 2 / 17 + z * R
    R = 2 / 15 + z * R
    R = 2 / 13 + z * R
    R = 2 / 11 + z * R
    R = 2 / 9 + z * R
    R = 2 / 7 + z * R
    R = 2 / 5 + z * R
    R = 2 / 3 + z * R
    y = k * LN2HI64 + ((2.0 * s + s * (z * R)) + (k * LN2LO64 + c))
    y = y if x < np.inf else x
    y = y if x >= -1.0 else np.nan
    return y if x != -1.0 else -np.inf




# -- erfcx: exp(a*a) * erfc(a) for a >= 0 --------------------------------------------------------


_E32_S = 2 / (1 - ERFCX_F32_T0)


@kernel
def erfcx_lean(a):
    """erfcx(a) for float64 ``a >= 0`` to float32 accuracy (relative error 2.2e-10): the float64
    evaluation the float32 kernels use (a degree-11 polynomial by Estrin's scheme instead of
    float64's degree-28 Chebyshev series)."""
    b = ERFCX_F32_A if a > ERFCX_F32_A else a  # beyond the fit erfc(a) underflows in float32
    t = 1.0 / (1.0 + ERFCX_F32_C * b)
    return t * erfcx_poly_f32((t - ERFCX_F32_T0) * _E32_S - 1.0)


def _erfcx32(x):
    # evaluated in float64 (4 lanes instead of 8): in float32 the rounding of t and of the series
    # alone would cost ~3 ULP of the 4 the activations may spend
    return np.float32(erfcx_lean(np.float64(x)))


_E64_S = 2 / (1 - ERFCX_F64_T0)


@kernel.by_dtype(float32=_erfcx32)
def erfcx(x):
    """exp(x*x) erfc(x) for x >= 0 (error: docs/accuracy.md)."""
    a = ERFCX_F64_A if x > ERFCX_F64_A else x
    t = 1.0 / (1.0 + ERFCX_F64_C * a)
    return t * erfcx_series_f64((t - ERFCX_F64_T0) * _E64_S - 1.0)




# -- generic helpers built on those --------------------------------------------------------------


@kernel
def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b == s + e`` exactly (Knuth's TwoSum: no
    condition on the magnitudes). ``e`` is NaN where the sum is not finite."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@kernel
def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a*b)`` and ``a*b == p + e`` exactly (one FMA).

    ``e`` is 0 where the product is not finite: there the callers' first-order corrections must
    vanish instead of turning into NaN.
    """
    p = a * b
    e = fma(a, b, -p)
    return p, (e if math.isfinite(e) else type(a)(0))


@kernel
def exp_neg_sq(x, half):
    """``exp(-x*x * half)`` (half = 1 or 0.5) with ``x*x`` carried exactly (no amplification)."""
    T = type(x)
    p, e = two_prod(x, x)
    return exp_neg(-p * half) * (T(1) - e * half)


@kernel
def tanh(x):
    """tanh as ``(1 - e) / (1 + e)``, e = exp(-2|x|) = w (1 + q) from :func:`exp_parts`, numerator
    and denominator one FMA each; ``1 - w`` is exact wherever 1 - e could cancel (for |x| below
    ln2/4, w = 1 and the numerator is -q itself). Sign restored (-0 kept).

    Error: docs/accuracy.md ("The math library"; every float32 input: "Activations, every float32
    input", the tanh row)."""
    T = type(x)
    q, w = exp_parts(T(-2) * abs(x))
    return math.copysign(fma(-w, q, T(1) - w) / fma(w, q, T(1) + w), x)


def _erf_coef(n):
    return (-1) ** n / (math.factorial(n) * (2 * n + 1))


E0, E1, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12 = (_erf_coef(n) for n in range(13))
#: the largest |a| for which erf and erfc use the series (:func:`_erf_small`)
ERF_SERIES_MAX = 0.5


@kernel
def _erf_small(a):
    """erf(a) for |a| <= 0.5: 2/sqrt(pi) a sum_n (-1)**n a**(2n) / (n! (2n+1)), n <= 12 (the next
    term is below 1e-18 there)."""
    T = type(a)
    z = a * a
    p = T(E11) + z * T(E12)
    p = T(E10) + z * p
    p = T(E9) + z * p
    p = T(E8) + z * p
    p = T(E7) + z * p
    p = T(E6) + z * p
    p = T(E5) + z * p
    p = T(E4) + z * p
    p = T(E3) + z * p
    p = T(E2) + z * p
    p = T(E1) + z * p
    p = T(E0) + z * p
    return T(1.1283791670955126) * a * p


@kernel
def erfc(a):
    """erfc for every real a: 1 - erf(a) for ``|a| < ERF_SERIES_MAX``, exp(-a*a) * erfcx(|a|)
    (reflected) elsewhere (error: docs/accuracy.md)."""
    T = type(a)
    b = abs(a)
    tail = exp_neg_sq(b, T(1)) * erfcx(b)
    big = tail if a >= T(0) else T(2) - tail
    return T(1) - _erf_small(a) if b < T(ERF_SERIES_MAX) else big


@kernel
def erf(a):
    """erf for every real a: a series for ``|a| < ERF_SERIES_MAX``, 1 - erfc(|a|) (signed)
    elsewhere (error: docs/accuracy.md)."""
    T = type(a)
    b = abs(a)
    big = math.copysign(T(1) - exp_neg_sq(b, T(1)) * erfcx(b), a)
    return _erf_small(a) if b < T(ERF_SERIES_MAX) else big


@kernel
def signed_zero(x):
    """-0 for negative ``x``, else +0: the limit of ``x * tiny``."""
    T = type(x)
    return -T(0) if x < T(0) else T(0)


@kernel
def scaled_exp(z):
    """``(h, m)`` with ``exp(z) == h * m``, both normal wherever ``exp(z/2)`` is.

    Where exp(z) itself would be subnormal, ``h = m = exp(z/2)``; multiply ``m`` in last so a normal
    product like ``x * exp(z)`` is rounded once instead of losing the subnormal's bits.
    """
    T = type(z)
    low = z < _low(z)
    h = exp(z * (T(0.5) if low else T(1)))
    return h, (h if low else T(1))


#: below these exp(z) is subnormal (float32 from about -87.3, float64 from -708.4)
EXP_NORMAL_MIN32, EXP_NORMAL_MIN64 = -87.0, -708.0
#: the lowest exponent whose 2**k scale_pow2_neg applies (k >= -247 float32, -2039 float64), with
#: a margin: below it x * sigmoid(z) is taken as a signed zero
SPLIT_MIN32, SPLIT_MIN64 = -170.0, -1410.0


@kernel
def _low(z):
    """``EXP_NORMAL_MIN32`` or ``EXP_NORMAL_MIN64`` by ``z``'s type (1e-50 is 0 only in float32)."""
    T = type(z)
    return T(EXP_NORMAL_MIN32) if T(1e-50) == T(0) else T(EXP_NORMAL_MIN64)


@kernel
def _split_low(z):
    """``SPLIT_MIN32`` or ``SPLIT_MIN64`` by ``z``'s type."""
    T = type(z)
    return T(SPLIT_MIN32) if T(1e-50) == T(0) else T(SPLIT_MIN64)


@kernel
def _x_sigmoid_parts(x, z, d):
    """``(xr, p, kf, low)``: ``exp(-|z| - d) = p * 2**k``, ``xr = x / (1 + exp(-|z| - d))`` and
    ``low`` the cut-off below which x * sigmoid(z) is taken as a signed zero."""
    T = type(x)
    low = _split_low(z)
    a = -abs(z)
    beyond = a < low  # (not for a NaN z: NaN out)
    p, kf = _exp_split(low if beyond else a, T(0) if beyond else d)  # d is NaN for an infinite z
    return x / (T(1) + scale_pow2_neg(p, kf)), p, kf, low


@kernel
def x_sigmoid(x, z, ze):
    """``x * sigmoid(z + ze)`` without overflow, ``inf * 0 = NaN`` or subnormal intermediates.

    ``exp(-|z + ze|) = p * 2**k`` is kept split: the negative side ``x e / (1 + e)`` is formed
    from ``p`` and scaled by ``2**k`` last (one rounding, into the subnormals if it must) instead
    of evaluating a second, halved exponential there (``scaled_exp``); ``ze``, the rounding error
    of ``z``, enters the exponential's reduced argument (first order, no extra rounding). Below
    ``z = SPLIT_MIN32`` (float64: ``SPLIT_MIN64``) the result is ``x * 0``'s sign (it underflows
    unless ``|x| > 2**95``).
    """
    T = type(x)
    neg = z <= T(0)
    xr, p, kf, low = _x_sigmoid_parts(x, z, -ze if neg else ze)  # -|z + ze| = -|z| - d
    # (ze may be NaN where z is infinite: _x_sigmoid_parts drops it there)
    y = scale_pow2_neg(xr * p, kf) if neg else xr  # z <= 0: x e / (1 + e), 2**k applied last
    return math.copysign(T(0), x) if z < low else y


@kernel
def times_sigmoid(v, x, beta):
    """``v * sigmoid(beta * x)`` by :func:`x_sigmoid`, beta x's rounding error carried; for
    ``beta == 1`` (``z = x`` exact) the correction-free :func:`x_sigmoid_exact`, bit-identical. The
    test is loop-invariant: LLVM unswitches the loop, so beta = 1 runs at silu's speed."""
    if beta == type(beta)(1):
        return x_sigmoid_exact(v, x)
    z = beta * x
    return x_sigmoid(v, z, fma(beta, x, -z))  # z's rounding error (NaN for an infinite z)


#: sigmoid_parts32 evaluates exp(z) at z >= SIGMOID_PARTS_MIN32: beyond, x sigmoid(z) is below
#: half the smallest float32 subnormal for every float32 x
SIGMOID_PARTS_MIN32 = -200.0


@kernel
def sigmoid_parts32(z):
    """``(s, kf)`` with ``sigmoid(z) = s * 2**k`` (``kf = k + SHIFTER``, k <= 1) for float32
    ``z``, ``s <= 0.75`` and 2**k the exponential's power of two, not yet applied: a product
    ``x * sigmoid(z)`` is ``x * s`` scaled by :func:`scale_pow2_far32` with one rounding, also
    where 2**k is far below the float32 normals (for a large x), and further factors can join
    it first (exactly, in float64). For the products of sigmoid(z) with other inputs (the gated
    activations), whose tails x_sigmoid cuts off at z = SPLIT_MIN32. NaN passes; z = -inf gives
    s = 0."""
    neg = z <= f32(0)
    kf, r = _reduce32(max(-abs(z), f32(SIGMOID_PARTS_MIN32)))  # NaN passes (the first)
    p = f32(1) + expm1_reduced32(r)  # exp(-|z|) = p 2**k, p in [0.7, 1.5)
    e = scale_pow2_neg(p, max(kf, SH32 + f32(SUBNORMAL_MIN_EXP32)))  # only for 1 + e
    d = f32(1) + e
    s = (f32(0.5) * p) / d if neg else f32(1) / d  # p / 2: 2**(k + 1) below
    s = f32(0) if z == f32(-math.inf) else s
    return s, (kf + f32(1) if neg else SH32)


#: the lowest k scale_pow2 applies to a float32 in one call (both its factors normal)
SCALE_POW2_MIN32 = -252.0


@kernel
def scale_pow2_far32(m, kf):
    """``m * 2**k`` for float32 ``m`` (any magnitude) and ``-290 <= k <= 1`` (``kf = k +
    SHIFTER``), rounded once wherever the result is a normal number: :func:`scale_pow2` (whose
    first factor keeps a normal result's intermediate normal, so only its product rounds) down
    to k = SCALE_POW2_MIN32, then the rest of 2**k, an exact factor where it is not 1."""
    kc = max(kf, SH32 + f32(SCALE_POW2_MIN32))  # NaN passes (the first argument)
    return scale_pow2(m, kc) * scale_pow2_neg(f32(1), (kf - kc) + SH32)


@kernel
def pow2_wide(kf):
    """2**k as a float64 from a float32 ``kf = k + SHIFTER32`` (|k| < 1022)."""
    return scale_pow2(1.0, np.float64(kf - SH32) + SHIFTER64)


@kernel
def x_sigmoid_exact(x, z):
    """``x_sigmoid`` for an exact ``z`` (silu: ``z = x``): no correction term to evaluate."""
    T = type(x)
    xr, p, kf, low = _x_sigmoid_parts(x, z, T(0))
    y = scale_pow2_neg(xr * p, kf) if z <= T(0) else xr
    return math.copysign(T(0), x) if z < low else y
