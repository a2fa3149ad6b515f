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

Measured max error (``benchmarks/math_accuracy.py``): float32 over 4e6 random float32 in the
range plus a dense grid, against float64 NumPy/SciPy; float64 over 3e3 points against mpmath:

=========  =======  =======  ===================================================
function   float32  float64  range measured (beyond: the limits, inf, 0, NaN)
=========  =======  =======  ===================================================
exp        1.01     0.88     [-110, 90]; subnormal results rounded once
expm1      1.46     0.90     [-40, 90]
log1p      2.38     1.58     [-1, 3e38]
tanh       2.49     2.31     [-20, 20]
erf        2.76     1.46     [-6, 6]
erfc       3.23     3.63     [-6, 9.5]
erfcx      0.50     3.35     [0, 9.5] (float32 evaluated in float64)
=========  =======  =======  ===================================================

The ``*_lean`` functions are float64 functions with float32-grade accuracy (relative error about
1e-13 instead of 1e-16, with shorter polynomials), for float32 kernels that evaluate in float64
and round once: ``exp_lean``, ``erfcx_lean``. ``by_dtype`` builds a kernel-callable function
with a float32 and a float64 implementation.
"""

import math

import numpy as np
from numba import types
from numba.extending import overload

from ._bits import (
    SHIFTER32,
    SHIFTER64,
    exponent_sqrt2,
    fma,
    mantissa_sqrt2,
    scale_pow2,
    scale_pow2_neg,
    sign_select,
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
from ._jit import kernel

f32 = np.float32


#: (stub, selector) of every by_dtype function, for :func:`register_cuda`
_BY_DTYPE = []
_CUDA_REGISTERED = []


def by_dtype(name, impl32, impl64, key=-1):
    """A function for kernels that compiles to ``impl32`` or ``impl64`` by the type (float32 or
    float64) of its argument number ``key``; both take the same parameters.

    Registered for the CPU target here and for the CUDA target by :func:`register_cuda` (numba-cuda
    types a CPU-registered ``inline="always"`` overload with its arguments missing).
    """
    import inspect

    params = ", ".join(inspect.signature(impl32).parameters)

    def pick(*types_):
        t = types_[key]
        if t == types.float32:
            return impl32
        if t == types.float64:
            return impl64
        return None

    def refuse():  # pragma: no cover - only the compiled versions run
        raise TypeError(f"{name} is callable only from compiled kernels")

    # Numba matches an overload's parameter names with the implementation's: spell them out
    env = {"pick": pick, "refuse": refuse}
    exec(f"def stub({params}):\n    refuse()\n\n"
         f"def select({params}):\n    return pick({params})\n", env)
    stub = env["stub"]
    stub.__name__ = stub.__qualname__ = name
    overload(stub, inline="always", target="cpu")(env["select"])
    _BY_DTYPE.append((stub, env["select"]))
    return stub


def register_cuda():
    """Register every by_dtype function for numba.cuda kernels (once; imports numba.cuda)."""
    if not _CUDA_REGISTERED:
        try:
            from numba.cuda.extending import overload as cuda_overload  # numba-cuda
            options = {}
        except ImportError:  # pragma: no cover - Numba's built-in numba.cuda
            cuda_overload, options = overload, {"target": "cuda"}
        for stub, select in _BY_DTYPE:
            cuda_overload(stub, inline="always", **options)(select)
        _CUDA_REGISTERED.append(True)


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
    """e**r - 1 for float32 ``|r| <= ln2/2``: a minimax polynomial by Estrin's scheme, 6 FMA-port
    operations where the Taylor series to r**7 by Horner's scheme (every float32 exp until
    2026-11-23) took 8, and more accurate (0.056 against 0.09 * 2**-24): the polynomial of every
    float32 exp, expm1 and sigmoid here."""
    r2 = r * r
    return fma(r2, (_P0 + r * _P1) + r2 * ((_P2 + r * _P3) + r2 * _P4), r)


def _exp32(x):
    c = min(max(x, f32(-104.0)), f32(88.8))  # beyond: 0 and inf
    c = c if x == x else x  # NaN passes
    kf, r = _reduce32(c)
    return scale_pow2(f32(1) + expm1_reduced32(r), kf)


def _exp64(x):
    c = min(max(x, -746.0), 710.0)
    c = c if x == x else x
    kf, r = _reduce64(c)
    return scale_pow2(1.0 + _expm1_poly64(r), kf)


def _expm1_32(x):
    c = min(max(x, f32(-30.0)), f32(88.8))  # expm1(-30) rounds to -1
    c = c if x == x else x
    kf, r = _reduce32(c)
    q = expm1_reduced32(r)
    h = scale_pow2(f32(1), kf - f32(1))  # 2**(k-1): 2**k (1 + q) - 1 = 2 (h q + (h - 1/2))
    y = f32(2) * (h * q + (h - f32(0.5)))
    return y if x != f32(0) else x  # expm1(-0.0) = -0.0


def _expm1_64(x):
    c = min(max(x, -60.0), 710.0)
    c = c if x == x else x
    kf, r = _reduce64(c)
    q = _expm1_poly64(r)
    h = scale_pow2(1.0, kf - 1.0)
    y = 2.0 * (h * q + (h - 0.5))
    return y if x != 0.0 else x


exp = by_dtype("exp", _exp32, _exp64)
exp.__doc__ = "e**x; max error 1.01 ULP (float32), 0.88 ULP (float64)."
expm1 = by_dtype("expm1", _expm1_32, _expm1_64)
expm1.__doc__ = "e**x - 1, exact near 0; max error 1.46 ULP (float32), 0.90 ULP (float64)."


def _exp_split32(a, d):
    kf, r = _reduce32(a)
    return f32(1) + expm1_reduced32(r - d), kf


def _exp_split64(a, d):
    kf, r = _reduce64(a)
    return 1.0 + _expm1_poly64(r - d), kf


_exp_split = by_dtype("exp_split", _exp_split32, _exp_split64, key=0)
_exp_split.__doc__ = """``(p, kf)`` with ``exp(a - d) == p * 2**k`` (``kf = k + SHIFTER``, ``p``
near [0.7, 1.5)), ``d`` a small correction of ``a`` (its rounding error) taken off the reduced
argument: ``scale_pow2_neg(p * c, kf)`` is ``c * exp(a - d)`` rounded once, also where it is
subnormal. ``d = 0`` costs nothing (``r - 0`` is ``r``, even for -0). No clamping: callers keep
``a`` within ``x_sigmoid``'s limits."""


@kernel
def _exp_floor(a):
    """The clamp of a non-positive exponent: below it exp rounds to 0 (-104 float32, -746
    float64), at it the reduction stays valid."""
    T = type(a)
    return T(-104.0) if T(1e-50) == T(0) else T(-746.0)


@kernel
def exp_neg(a):
    """e**a for ``a <= 0`` (or NaN), bit-identical to ``exp`` there, with one clamp where ``exp``
    has two and a NaN select, and ``scale_pow2_neg`` (4 vector operations where ``scale_pow2``
    takes 9, one vscalef on AVX-512): the exponential of every non-positive argument here."""
    p, kf = _exp_split(max(a, _exp_floor(a)), type(a)(0))  # NaN passes (the first argument)
    return scale_pow2_neg(p, kf)


def _exp_parts32(a):
    kf = max(a * LOG2E32 + SH32, SH32 - f32(149))  # k >= -149: 2**k is a float32
    return expm1_reduced32(_reduce_at32(a, kf)), kf


def _exp_parts64(a):
    kf = max(a * LOG2E64 + SHIFTER64, SHIFTER64 - 1074.0)  # k >= -1074: 2**k is a float64
    return _expm1_poly64(_reduce_at64(a, kf)), kf


_exp_parts = by_dtype("exp_parts", _exp_parts32, _exp_parts64)


@kernel
def exp_parts(a):
    """``(q, w)`` with ``exp(a) = w (1 + q)``, ``w = 2**k`` exactly, for ``a <= 0`` (below -104
    float32 / -746 float64, as there: 0); NaN passes.

    k stops at the smallest subnormal's exponent, so ``w`` is a float and ``fma(w, q, w)`` is exp(a)
    rounded once, into the subnormals too; ``fma(w, q, w + 1)`` is ``1 + exp(a)``. Beyond the
    clamped k the reduced argument grows to -0.72 (float32) / -1.6 (float64), where the polynomial
    still tells 0 from the smallest subnormal. One FMA after the polynomial where ``exp_neg`` takes
    three operations in a row (``1 + q``, two products): the shorter dependency chain is what counts
    on Zen 3, whose out-of-order window holds only about four iterations of these loops (float32
    sigmoid at 1e6: 0.74-0.77 -> 0.65-0.66 ms, logsigmoid's gradient 0.81-0.83 -> 0.74-0.76 ms)."""
    q, kf = _exp_parts(max(a, _exp_floor(a)))  # NaN passes (the first argument)
    return q, scale_pow2_neg(type(a)(1), kf)


@kernel
def exp_lean(x):
    """e**x for float64 ``x``, relative error below 3e-13 (Taylor to r**10 instead of r**13): for
    the float32 kernels that evaluate in float64 and round once, where it stays below 1e-5 of a
    float32 ULP even after a 1e-3 cancellation. Same limits as ``exp``. The polynomial is
    evaluated by Estrin's scheme (depth 4 instead of Horner's 10: the loops are FMA-latency bound).
    """
    c = min(max(x, -746.0), 710.0)
    c = c if x == x else x
    kf, r = _reduce64(c)
    r2 = r * r
    r4 = r2 * r2
    p = (1.0 + r) + (0.5 + r * (1 / 6)) * r2
    q = (1 / 24 + r * (1 / 120)) + (1 / 720 + r * (1 / 5040)) * r2
    h = (1 / 40320 + r * (1 / 362880)) + (1 / 3628800) * r2
    return scale_pow2(p + (q + h * r4) * r4, kf)


@kernel
def gauss32(v):
    """``(q, kf)`` with ``exp(-v*v/2) = 2**k (1 + q)`` (float32 ``v`` >= 0 up to ~18; ``kf = k +
    SHIFTER``), ``q`` not rounded into 1 + q. ``v*v``'s rounding error (exact by an FMA) and the
    low part of ``k ln2`` join the exactly reduced argument in one rounding (below 2**-26 in the
    exponent, a relative error below 0.25 * 2**-24; carrying them unrounded as a first-order factor
    instead costs two operations more and measured no better in the float32 GELU kernels)."""
    hv = f32(-0.5) * v
    h = hv * v  # -v*v/2, rounded; its error is exact:
    kf = h * LOG2E32 + SH32
    k, rh = _reduce_hi_at32(h, kf)
    return expm1_reduced32(rh + fma(k, -LN2LO32, fma(hv, v, -h))), kf


#: gauss32_neg2's constants: gauss32's times -2 (or its reduction's times 2), powers of two apart
_NHLOG2E32, _LN2HI32X2, _LN2LO32X2 = -LOG2E32 * f32(0.5), LN2HI32 * f32(2), LN2LO32 * f32(2)
_N0, _N1, _N2, _N3, _N4 = (c * f32((-0.5) ** (i + 1))
                           for i, c in enumerate((_P0, _P1, _P2, _P3, _P4)))


@kernel
def gauss32_neg2(v):
    """``(q2, kf)`` with ``exp(-v*v/2) = 2**k (1 - q2 / 2)``: :func:`gauss32` with every operation
    after ``v*v`` scaled by -2 (its reduced argument and polynomial in ``-2 r``, the constants
    scaled by powers of two), so ``q2 = -2 q`` and ``kf`` bit for bit and ``-v*v/2`` needs no
    multiplication of its own. For the float32 GELU forward, which is bound by the FMA ports on
    Zen 5: one operation fewer there (2-3% at 1e6)."""
    s = v * v
    kf = fma(s, _NHLOG2E32, SH32)  # s * (-log2e / 2) is exactly gauss32's (-v*v/2) * log2e
    k = kf - SH32
    r = fma(k, _LN2HI32X2, s) + fma(k, _LN2LO32X2, fma(v, v, -s))  # -2 r (as gauss32's r)
    r2 = r * r
    return fma(r2, (_N0 + r * _N1) + r2 * ((_N2 + r * _N3) + r2 * _N4), r), kf


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


def _log1p64(x):
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


log1p = by_dtype("log1p", _log1p32, _log1p64)
log1p.__doc__ = "log(1 + x); -1 -> -inf, < -1 -> NaN; max error 2.38 ULP (f32), 1.58 ULP (f64)."


# -- softplus in float32: max(z, 0) + log1p(exp(-|z|)) without a logarithm ------------------------

#: R(e) = (log1p(e) - e) / e**2 on [0, 1] as a polynomial in t = 2e - 1, float32 coefficients
#: (tools/fit_log1p.py: max error 1.2 * 2**-26, 0.18 float32 ULP of log1p(e))
LOG1P_R32 = (-0.37813958525657654, 0.08961247652769089, -0.023307234048843384,
             0.006385293789207935, -0.001810949295759201, 0.0005253498093225062,
             -0.00015034399984870106, 4.4826865632785484e-05, -1.8295144400326535e-05,
             5.642786163662095e-06)
_R0, _R1, _R2, _R3, _R4, _R5, _R6, _R7, _R8, _R9 = (f32(c) for c in LOG1P_R32)


@kernel
def _log1p_r_tail32(e):
    """t (R(e) - R0), t = 2e - 1: the part of R evaluated in float32 (Estrin; R0 is added last)."""
    t = f32(2) * e - f32(1)
    t2 = t * t
    t4 = t2 * t2
    a = (_R1 + t * _R2) + t2 * (_R3 + t * _R4)
    b = (_R5 + t * _R6) + t2 * (_R7 + t * _R8)
    return t * (a + t4 * (b + t4 * _R9))


@kernel
def softplus_split32(z, ze):
    """``(s, lo, kf)`` with ``(s + lo) * 2**k = max(z', 0) + log1p(exp(-|z'|))`` for float32
    ``z' = z + ze`` (``ze``: z's rounding error, first order) and ``kf = k + SHIFTER``: ``k = 0``
    for ``z > 0``, else ``exp(-|z|) ~ 2**k`` (clamped to ``k >= -252``, which ``scale_pow2`` can
    apply; the sum is then ~1 and ``2**-252`` rounds it to 0).

    float32 throughout, no logarithm, no division: ``exp(-|z'|) = w (1 + q)``, ``w = 2**k`` and
    ``q`` the unrounded expm1 polynomial, ``log1p(e) = e + e**2 R(e)`` (``LOG1P_R32``). For
    ``z <= 0`` the sum is ``1 + q + w (1 + q)**2 R``, scaled by ``2**k`` afterwards (no subnormal
    intermediate however small ``exp(z)``: softplus divided by a small beta stays accurate); for
    ``z > 0`` it is ``z + w + w q + e**2 R`` with ``z + w`` by TwoSum. ``s`` is exact and ``lo``
    small: ``s + lo`` rounded once is within 1.46 ULP (all float32 inputs, benchmarks/exhaustive.py;
    1.9 after softplus's division by beta, sampled). NaN gives NaN; above ``z = 30`` the callers
    return the linear limit (``+inf`` included) instead.
    """
    pos = z > f32(0)
    beyond = abs(z) > f32(200.0)  # (NaN: not beyond)
    kf, r = _reduce32(f32(-200.0) if beyond else -abs(z))
    d = f32(0) if beyond else (ze if pos else -ze)
    q = expm1_reduced32(r - d)  # exp(-|z + ze|) = 2**k (1 + q)
    w = scale_pow2(f32(1), max(kf, SH32 - f32(126)))  # 2**k, floored at 2**-126 (e**2 R is
    # then below 2**-100 of the sum: the floor only keeps w normal)
    big = w if pos else f32(1)  # the unit of the sum: 2**k for z > 0, 1 (then 2**k) for z <= 0
    e2 = big * (w * fma(q, q + f32(2), f32(1)))  # (e**2) / (2**k / big): w**2 (1 + q)**2
    zp = z if pos else f32(0)
    s = zp + big  # TwoSum: s + se == zp + big exactly
    bb = s - zp
    se = (zp - (s - bb)) + (big - bb)
    v = fma(big, q, se + (ze if pos else f32(0)))
    lo = fma(e2, _R0, fma(e2, _log1p_r_tail32(w * (f32(1) + q)), v))
    return s, lo, (SH32 if pos else max(kf, SH32 - f32(252)))


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


def _erfcx64(x):
    a = ERFCX_F64_A if x > ERFCX_F64_A else x
    t = 1.0 / (1.0 + ERFCX_F64_C * a)
    return t * erfcx_series_f64((t - ERFCX_F64_T0) * _E64_S - 1.0)


erfcx = by_dtype("erfcx", _erfcx32, _erfcx64)
erfcx.__doc__ = "exp(a*a) erfc(a) for a >= 0; max error 0.50 ULP (float32), 3.35 ULP (float64)."


# -- generic helpers built on those --------------------------------------------------------------


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

    Max error 1.97 ULP over every float32 input (2.50 before this form), 1.73 ULP (float64)."""
    T = type(x)
    q, w = exp_parts(T(-2) * abs(x))
    return math.copysign(fma(-w, q, T(1) - w) / fma(w, q, T(1) + w), x)


def _erf_coef(n):
    return (-1) ** n / (math.factorial(n) * (2 * n + 1))


E0, E1, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12 = (_erf_coef(n) for n in range(13))


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
    """erfc for every real a: 1 - erf(a) near 0, exp(-a*a) * erfcx(|a|) (reflected) elsewhere.

    Max error 3.23 ULP (float32), 3.63 ULP (float64)."""
    T = type(a)
    b = abs(a)
    tail = exp_neg_sq(b, T(1)) * erfcx(b)
    big = tail if a >= T(0) else T(2) - tail
    return T(1) - _erf_small(a) if b < T(0.5) else big


@kernel
def erf(a):
    """erf for every real a: a series near 0, 1 - erfc(|a|) (signed) elsewhere.

    Max error 2.76 ULP (float32), 1.46 ULP (float64)."""
    T = type(a)
    b = abs(a)
    big = math.copysign(T(1) - exp_neg_sq(b, T(1)) * erfcx(b), a)
    return _erf_small(a) if b < T(0.5) else big


@kernel
def signed_zero(x):
    """-0 for negative ``x``, else +0: the limit of ``x * tiny``."""
    T = type(x)
    return -T(0) if x < T(0) else T(0)


@kernel
def scaled_sigmoid(c, z):
    """``c * sigmoid(z)``, as one quotient: ``c * (e if z < 0 else 1) / (1 + e)``, e = exp(-|z|).

    ``1 - sigmoid(z)`` by subtraction would lose every digit for large ``z``; both sides come from
    ``e <= 1`` instead. ``e`` and ``1 + e`` are each one FMA on :func:`exp_parts`'s result (rounded
    once, into the subnormals too), and ``c`` joins the numerator before the single division (no
    ``e * (1 / (1 + e))``, no product after it). NaN in gives NaN; ``c = inf`` gives inf where
    sigmoid(z) > 0. Over every float32 input: sigmoid 2.40 ULP, sigmoid(-x) (logsigmoid's
    gradient) 2.40 ULP; they were 2.83 as ``e * r`` and ``r`` with ``r = 1 / (1 + e)``.
    """
    T = type(z)
    q, w = exp_parts(-abs(z))
    return c * sign_select(z, fma(w, q, w), T(1)) / fma(w, q, w + T(1))


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


@kernel
def _low(z):
    # exp(z) is subnormal below about -87.3 (float32) / -708.4 (float64)
    T = type(z)
    return T(-87.0) if T(1e-50) == T(0) else T(-708.0)


@kernel
def _split_low(z):
    # the lowest argument scale_pow2_neg can apply (k >= -247 float32, -2039 float64), with a margin
    T = type(z)
    return T(-170.0) if T(1e-50) == T(0) else T(-1410.0)


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
    ``z = -170`` (float32; -1410 float64) the result is ``x * 0``'s sign (it underflows unless
    ``|x| > 2**95``).
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
    test is loop-invariant: LLVM unswitches the loop, so beta = 1 runs at silu's speed (swish
    1.09 -> 0.80 ms, softplus_grad 1.11 -> 0.92 ms at 1e6 float32)."""
    if beta == type(beta)(1):
        return x_sigmoid_exact(v, x)
    z = beta * x
    return x_sigmoid(v, z, fma(beta, x, -z))  # z's rounding error (NaN for an infinite z)


@kernel
def x_sigmoid_exact(x, z):
    """``x_sigmoid`` for an exact ``z`` (silu: ``z = x``): no correction term to evaluate."""
    T = type(x)
    xr, p, kf, low = _x_sigmoid_parts(x, z, T(0))
    y = scale_pow2_neg(xr * p, kf) if z <= T(0) else xr
    return math.copysign(T(0), x) if z < low else y
