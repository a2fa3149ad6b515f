"""Squashing functions: sigmoid, logsigmoid, tanh, softsign, softplus, squareplus; tanhshrink
(x - tanh x).

Each is evaluated from ``exp(-|x|) <= 1`` (or ``log1p``) so that neither tail overflows or
cancels: ``1 - sigmoid(x)`` is ``sigmoid(-x)``, ``1 - tanh(x)**2`` is ``4e / (1 + e)**2`` with
``e = exp(-2|x|)``.
"""

import math

import numpy as np

from ._bits import SHIFTER32, fma, scale_pow2, sign_select
from ._jit import kernel
from ._math import (
    _reduce32,
    exp_lean,
    exp_neg,
    exp_parts,
    expm1_reduced32,
    log1p,
    times_sigmoid,
    two_prod,
)
from ._math import tanh as _tanh

f32 = np.float32
SH32 = f32(SHIFTER32)

#: above this z, softplus(z) = z to within z 2**-44 (float32): softplus and logsigmoid return the
#: linear limit there
SOFTPLUS_LINEAR32 = 30.0
#: beyond this |z| the float32 softplus split evaluates exp at -SOFTPLUS_SPLIT_MAX32 instead
#: (exp(-200) is below every float32; the result is the limit either way)
SOFTPLUS_SPLIT_MAX32 = 200.0
#: the smallest exponent of 2**k softplus_split32 forms (2**-126: the smallest normal float32)
SOFTPLUS_W_MIN_EXP32 = -126.0
#: the smallest exponent of the 2**k softplus_split32 returns (scale_pow2 applies it: the sum is
#: ~1 there and 2**-252 rounds it to 0)
SOFTPLUS_K_MIN32 = -252.0
#: float32 softplus scales a |beta| below BETA_TINY32 or above BETA_HUGE32 by 2**BETA_SCALE_EXP32
#: or 2**-BETA_SCALE_EXP32, so that the scaled beta and its reciprocal are normal numbers
BETA_TINY32, BETA_HUGE32, BETA_SCALE_EXP32 = 2.0**-60, 2.0**60, 64.0


@kernel
def scaled_sigmoid(c, z):
    """``c * sigmoid(z)``, as one quotient: ``c * (e if z < 0 else 1) / (1 + e)``, e = exp(-|z|).

    ``1 - sigmoid(z)`` by subtraction would lose every digit for large ``z``; both sides come from
    ``e <= 1`` instead. ``e`` and ``1 + e`` are each one FMA on :func:`exp_parts`'s result (rounded
    once, into the subnormals too), and ``c`` joins the numerator before the single division (no
    ``e * (1 / (1 + e))``, no product after it: one rounding fewer). NaN in gives NaN; ``c = inf``
    gives inf where sigmoid(z) > 0. Error (sigmoid; sigmoid(-x) is logsigmoid's gradient):
    docs/accuracy.md.
    """
    T = type(z)
    q, w = exp_parts(-abs(z))
    return c * sign_select(z, fma(w, q, w), T(1)) / fma(w, q, w + T(1))


# -- softplus in float32: max(z, 0) + log1p(exp(-|z|)) without a logarithm --------------------

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
    small: ``s + lo`` rounded once is softplus's float32 result (its error: docs/accuracy.md).
    NaN gives NaN; above ``z = SOFTPLUS_LINEAR32`` the callers return the linear limit (``+inf``
    included) instead.
    """
    pos = z > f32(0)
    beyond = abs(z) > f32(SOFTPLUS_SPLIT_MAX32)  # (NaN: not beyond)
    kf, r = _reduce32(f32(-SOFTPLUS_SPLIT_MAX32) if beyond else -abs(z))
    d = f32(0) if beyond else (ze if pos else -ze)
    q = expm1_reduced32(r - d)  # exp(-|z + ze|) = 2**k (1 + q)
    # 2**k, floored at 2**-126 (e**2 R is then below 2**-100 of the sum: the floor only keeps w
    # normal)
    w = scale_pow2(f32(1), max(kf, SH32 + f32(SOFTPLUS_W_MIN_EXP32)))
    big = w if pos else f32(1)  # the unit of the sum: 2**k for z > 0, 1 (then 2**k) for z <= 0
    e2 = big * (w * fma(q, q + f32(2), f32(1)))  # (e**2) / (2**k / big): w**2 (1 + q)**2
    zp = z if pos else f32(0)
    s = zp + big  # TwoSum: s + se == zp + big exactly
    bb = s - zp
    se = (zp - (s - bb)) + (big - bb)
    v = fma(big, q, se + (ze if pos else f32(0)))
    lo = fma(e2, _R0, fma(e2, _log1p_r_tail32(w * (f32(1) + q)), v))
    return s, lo, (SH32 if pos else max(kf, SH32 + f32(SOFTPLUS_K_MIN32)))


@kernel
def sigmoid(x):
    return scaled_sigmoid(type(x)(1), x)


@kernel
def sigmoid_grad_wide(d):
    """sigmoid(d) sigmoid(-d) = e / (1 + e)**2, e = exp(-|d|), for float64 ``d`` with exp_lean:
    for the float32 kernels evaluated in float64 and rounded once."""
    e = exp_lean(-abs(d))
    r = 1.0 / (1.0 + e)
    return e * r * r


def _sigmoid_grad32(g, x):
    # in float64 (in float32, exp, a reciprocal and two products exceed the 4-ULP bound), rounded
    # once
    return np.float32(np.float64(g) * sigmoid_grad_wide(np.float64(x)))


@kernel.by_dtype(float32=_sigmoid_grad32)
def sigmoid_grad(g, x):
    e = exp_neg(-abs(x))  # sigmoid(x) sigmoid(-x) = e / (1 + e)**2, e = exp(-|x|)
    r = 1.0 / (1.0 + e)
    return g * (e * r * r)


def _logsigmoid32(x):
    s, lo, kf = softplus_split32(-x, f32(0))
    y = -scale_pow2(s + lo, kf)  # -softplus(-x), rounded once
    y = y if y != f32(0) else f32(0)  # +0 where it underflows, as torch's min(x, 0) - log1p(...)
    return y if x >= f32(-SOFTPLUS_LINEAR32) else x  # -softplus(-x) = x; NaN: x itself


@kernel.by_dtype(float32=_logsigmoid32)
def logsigmoid(x):
    # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))
    return (x if x < 0.0 else 0.0) - log1p(exp_neg(-abs(x)))


@kernel
def logsigmoid_grad(g, x):
    return scaled_sigmoid(g, -x)  # d/dx log(sigmoid(x)) = sigmoid(-x)


@kernel
def tanh(x):
    return _tanh(x)


@kernel
def _tanh_grad_e(g, e):
    # 1 - tanh(x)**2 = 4e / (1 + e)**2 with e = exp(-2|x|)
    T = type(e)
    r = T(1) / (T(1) + e)
    return g * (T(4) * e * r * r)


def _tanh_grad32(g, x):
    # in float64 (in float32 this reaches the 4-ULP bound), rounded once
    return np.float32(_tanh_grad_e(np.float64(g), exp_lean(-2.0 * abs(np.float64(x)))))


@kernel.by_dtype(float32=_tanh_grad32)
def tanh_grad(g, x):
    return _tanh_grad_e(g, exp_neg(-2.0 * abs(x)))


@kernel
def softsign(x):
    # x / (1 + |x|); at +-inf the limit +-1 (torch's formula gives inf/inf = NaN there)
    T = type(x)
    y = x / (T(1) + abs(x))
    return y if abs(x) != T(math.inf) else math.copysign(T(1), x)


@kernel
def softsign_grad(g, x):
    # 1 / (1 + |x|)**2, squared after the division so that it cannot overflow
    T = type(x)
    r = T(1) / (T(1) + abs(x))
    return g * (r * r)


def _softplus32(x, beta, threshold):
    # float32 throughout (softplus_split32: no logarithm, no float64). z's rounding error enters
    # the exponential and the linear part. The division by beta
    # keeps the split's unrounded sum: a product with the (hoisted) reciprocal of bs = beta 2**-n,
    # a normal number within 2**+-64 for every beta, subnormal included, then one correction step
    # from the remainder, then 2**(k + n) with the split's 2**k. Above z = SOFTPLUS_LINEAR32
    # softplus(z) / beta is x to within x 2**-44 (z > threshold or not).
    z, ze = two_prod(x, beta)
    ab = abs(beta)
    n = (f32(-BETA_SCALE_EXP32) if ab < f32(BETA_TINY32) else
         (f32(BETA_SCALE_EXP32) if ab > f32(BETA_HUGE32) else f32(0)))
    bs = beta * scale_pow2(f32(1), SH32 - n)  # exact
    rb = f32(1) / bs
    s, lo, kf = softplus_split32(z, ze)
    y = s + lo
    q = y * rb
    y = q + (fma(-q, bs, s) + lo) * rb  # (beta = 0 is refused by the registry)
    y = scale_pow2(y, max(kf - n, SH32 + f32(SOFTPLUS_K_MIN32)))
    y = y if z == z else z  # NaN: the input's own
    return x if (z > threshold or z > f32(SOFTPLUS_LINEAR32)) else y


@kernel.by_dtype(float32=_softplus32)
def softplus(x, beta, threshold):
    # torch: linear where x * beta > threshold, else log1p(exp(beta * x)) / beta, evaluated as
    # max(z, 0) + log1p(exp(-|z|)) (no overflow) plus the rounding error ze of z = beta * x
    z, ze = two_prod(x, beta)
    e = exp_neg(-abs(z))
    r = 1.0 / (1.0 + e)
    s = r if z > 0.0 else e * r  # sigmoid(z): d softplus / dz
    y = ((z if z > 0.0 else 0.0) + log1p(e) + ze * s) / beta
    y = y if z == z else z
    return x if z > threshold else y


@kernel
def softplus_grad(g, x, beta, threshold):
    # g * sigmoid(beta * x); beta = 1 (a loop-invariant test: LLVM unswitches the loop) as one
    # quotient, else with beta x's rounding error carried (x_sigmoid with v = 1)
    T = type(x)
    if beta == T(1):
        gs = scaled_sigmoid(g, x)
    else:
        gs = g * times_sigmoid(T(1), x, beta)
    return g if beta * x > threshold else gs


# -- tanhshrink: x - tanh(x) without its cancellation near 0 -------------------------------------

#: below these |x|, tanhshrink is x**3 P(x**2) (P: TANHSHRINK_P64 / TANHSHRINK_P32); above,
#: (|x| - 1) + 2e / (1 + e) with e = exp(-2|x|): float64's terms cancel by at most a few bits
#: there, float32's not at all (from 1 on, both terms are positive)
TANHSHRINK_SERIES64 = 0.75
TANHSHRINK_SERIES32 = 1.0
#: P(u) = (x - tanh x) / x**3, u = x**2, on [0, 0.75**2] (tools/fit_tanhshrink.py: relative
#: error 0.5 * 2**-53)
TANHSHRINK_P64 = (0.3333333333333333, -0.1333333333333251, 0.05396825396749151,
                  -0.02186948850725424, 0.008863234950600091, -0.0035921210502249897,
                  0.0014557798102785768, -0.0005897389749841442, 0.0002380725242379809,
                  -9.420911297802095e-05, 3.445079361558487e-05, -1.0019134045956342e-05,
                  1.6324995433032172e-06)
#: P on [0, 1] in float32 coefficients, for the float32 kernel's own arithmetic (relative error
#: 0.5 * 2**-24: the first coefficient's rounding)
TANHSHRINK_P32 = (0.3333333432674408, -0.13333351910114288, 0.0539676770567894,
                  -0.021849140524864197, 0.0087443757802248, -0.0032662670128047466,
                  0.0009623458608984947, -0.00015297302161343396)
(_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7, _T8, _T9, _T10, _T11, _T12) = TANHSHRINK_P64
_U0, _U1, _U2, _U3, _U4, _U5, _U6, _U7 = (np.float32(c) for c in TANHSHRINK_P32)


@kernel
def _tanhshrink_far(x, e):
    """x - tanh(x) from e = exp(-2|x|), for |x| beyond the series: ``|x| - 1`` is exact on
    [0.5, 2] and ``1 - tanh|x| = 2e / (1 + e)`` is formed without a subtraction."""
    T = type(x)
    return math.copysign((abs(x) - T(1)) + T(2) * e / (T(1) + e), x)


def _tanhshrink32(x):
    # in float32: below 1 the series x (u P(u)), P by Horner's scheme (each step one FMA: fewer
    # roundings than Estrin's); from 1 on the far form, whose two terms are positive
    T = type(x)
    u = x * x
    p = _U0 + u * (_U1 + u * (_U2 + u * (_U3 + u * (_U4 + u * (_U5 + u * (_U6 + u * _U7))))))
    near = x * (u * p)
    far = _tanhshrink_far(x, exp_neg(T(-2) * abs(x)))
    return near if abs(x) < T(TANHSHRINK_SERIES32) else far


@kernel.by_dtype(float32=_tanhshrink32)
def tanhshrink(x):
    u = x * x
    u2 = u * u
    u4 = u2 * u2
    p = (((_T0 + _T1 * u) + (_T2 + _T3 * u) * u2) + ((_T4 + _T5 * u) + (_T6 + _T7 * u) * u2) * u4
         + (((_T8 + _T9 * u) + (_T10 + _T11 * u) * u2) + _T12 * u4) * (u4 * u4))  # Estrin
    near = x * u * p
    far = _tanhshrink_far(x, exp_neg(-2.0 * abs(x)))
    return near if abs(x) < TANHSHRINK_SERIES64 else far


def _tanhshrink_grad32(g, x):
    t = _tanh(np.float64(x))  # in float64, rounded once
    return np.float32(np.float64(g) * (t * t))


@kernel.by_dtype(float32=_tanhshrink_grad32)
def tanhshrink_grad(g, x):
    t = _tanh(x)  # d/dx (x - tanh x) = tanh(x)**2: no cancellation
    return g * (t * t)


# -- squareplus: (x + sqrt(x**2 + b)) / 2 ------------------------------------------------------

#: squareplus scales x by 2**-SQUAREPLUS_SCALE (and b by its square) where x**2 + b could
#: overflow: |x| above 2**SQUAREPLUS_BIG or b above 2**(2 SQUAREPLUS_BIG) (float32, float64)
SQUAREPLUS_BIG32, SQUAREPLUS_SCALE32 = 2.0**60, 2.0**-70
SQUAREPLUS_BIG64, SQUAREPLUS_SCALE64 = 2.0**500, 2.0**-600


@kernel
def _squareplus_scaled(x, b):
    """``(a, t, c, huge_b)``: ``a = c |x|`` and ``t = a**2 + b c**2`` (one fma), ``c`` 1 or the
    power of two that keeps ``t`` finite: where |x| is above SQUAREPLUS_BIG or b (``huge_b``)
    above its square."""
    T = type(x)
    f32 = T(1e-50) == T(0)  # (by x's type: 1e-50 is 0 only in float32)
    big = T(SQUAREPLUS_BIG32) if f32 else T(SQUAREPLUS_BIG64)
    huge_b = b > big * big
    c = (T(SQUAREPLUS_SCALE32) if f32 else T(SQUAREPLUS_SCALE64)) if (
        abs(x) > big or huge_b) else T(1)
    a = c * abs(x)
    return a, fma(a, a, b * c * c), c, huge_b


@kernel
def _squareplus_neg(x, b):
    """``(n, k)`` with ``n = b / (c sqrt(x**2 + b) + c |x|)`` (``k = c``, see
    :func:`_squareplus_scaled`) or, where b itself is scaled (b near the top of the range, where
    that quotient would overflow), ``n = b c / (...)`` (``k = 1``): so that
    ``squareplus(-|x|) = n k / 2``, the negative side as a quotient, without the cancellation of
    ``x + sqrt(x**2 + b)`` (0 where b = 0 and x = 0; NaN for a NaN x)."""
    T = type(x)
    a, t, c, huge_b = _squareplus_scaled(x, b)
    den = math.sqrt(t) + a
    n = ((b * c if huge_b else b) / den) if den > T(0) else T(0)  # b c >= 2**50: no underflow
    return n, (T(1) if huge_b else c)


@kernel
def squareplus(x, b):
    # squareplus(x) = x + squareplus(-x): for x >= 0 the quotient is added to x (no cancellation)
    n, k = _squareplus_neg(x, b)
    y = n * (k * type(x)(0.5))
    return y if x < type(x)(0) else x + y  # (NaN: x + y)


@kernel
def squareplus_grad(g, x, b):
    # squareplus'(x) = (1 + x / sqrt(x**2 + b)) / 2: on the negative side b / (2 den) with
    # den = s (s + |x|) = fma(|x|, s, s**2) and s**2 = fma(|x|, |x|, b) (no cancellation, four
    # roundings to the quotient: 2.6 float32 ULP over every float32 x, docs/accuracy.md), and 1
    # minus that on the positive side (squareplus'(x) + squareplus'(-x) = 1). x and b are scaled
    # by c (_squareplus_scaled); b c / den times c / 2 is the same quotient without overflow.
    T = type(x)
    a, t, c, _ = _squareplus_scaled(x, b)
    den = fma(a, math.sqrt(t), t)
    # den = 0 where b = 0 and x**2 underflows: the quotient is 0 there (0 / |x|); at x = 0 it
    # stays 0 / 0 = NaN, as JAX's
    den = den if den > T(0) else a
    d = ((b * c) / den) * (c * T(0.5))
    return g * (d if x < T(0) else T(1) - d)


# -- gradients from the output y (torch's sigmoid_backward / tanh_backward take y) ----------------


@kernel
def sigmoid_grad_result(g, y):
    # sigmoid' = y * (1 - y), in torch's order: grad * (1 - y) * y
    return g * (type(y)(1) - y) * y


@kernel
def tanh_grad_result(g, y):
    # tanh' = 1 - y**2
    return g * (type(y)(1) - y * y)


@kernel
def softsign_grad_result(g, y):
    # softsign'(x) = 1 / (1 + |x|)**2 = (1 - |y|)**2
    d = type(y)(1) - abs(y)
    return g * (d * d)


#: this family's public kernels, re-exported by fastact.kernels
__all__ = [
    "logsigmoid",
    "logsigmoid_grad",
    "sigmoid",
    "sigmoid_grad",
    "sigmoid_grad_result",
    "softplus",
    "softplus_grad",
    "softsign",
    "softsign_grad",
    "softsign_grad_result",
    "squareplus",
    "squareplus_grad",
    "tanh",
    "tanh_grad",
    "tanh_grad_result",
    "tanhshrink",
    "tanhshrink_grad",
]
