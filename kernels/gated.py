"""Self-gated activations ``x * gate(x)``: silu, swish, quick_gelu, mish, gelu (exact and tanh
forms).

In the negative tail each gate is ``~exp(...)`` of a large negative argument, so a rounding error
``e`` in that argument becomes a relative error ``e`` in the result (hundreds of ULP near the
underflow). The kernels therefore carry the argument's rounding error (``two_prod``) into the
exponential, keep ``x * gate`` accurate where the gate alone is subnormal (``x_sigmoid`` applies
the exponential's power of two last; ``scaled_exp``), and return the limits at +-inf (torch's
formulas give ``inf * 0 = NaN`` there).
"""

import math

import numpy as np

from ._bits import fma, scale_pow2_neg, sign_select
from ._erfcx_coeffs import ERFCX_F32_A
from ._jit import kernel, wide
from ._math import (
    _P0,
    _P1,
    _P2,
    _P3,
    _P4,
    LN2HI32,
    LN2LO32,
    LOG2E32,
    SH32,
    _reduce32,
    _reduce_hi_at32,
    erfcx,
    erfcx_lean,
    exp_lean,
    exp_neg_sq,
    expm1_reduced32,
    scaled_exp,
    signed_zero,
    times_sigmoid,
    two_prod,
    x_sigmoid,
    x_sigmoid_exact,
)

f32 = np.float32

# ---------------------------------------------------------------------------------------------
# silu / swish: x * sigmoid(beta * x)

#: above this z = beta x, swish'(x) = s(z) (1 + z s(-z)) rounds to 1 (z e**-z < 2**-60; and
#: z = inf would give inf * 0)
SWISH_GRAD_ONE = 45.0
#: float32 silu_grad clamps x to +-SILU_GRAD_CLAMP32: beyond, its formula gives the limits 1 and
#: -0 (exp(-170) is far below every float32)
SILU_GRAD_CLAMP32 = 170.0


@kernel
def _swish_grad_z(z, ze):
    """d/dx x*sigmoid(beta*x) = s(z) * (1 + z * s(-z)) with z = beta*x (+ rounding error ze)."""
    T = type(z)
    neg = z <= T(0)
    h, m = scaled_exp(-abs(z))  # e = exp(-|z|) = h * m, m applied last (subnormal tails)
    e = h * m
    r = T(1) / (T(1) + e)
    zz = z + ze
    # z <= 0: s = e r (1 + ze r), s(-z) = r;   z > 0: s = r, s(-z) = e r
    low = ((h * r * (T(1) + ze * r)) * (T(1) + zz * r)) * m
    high = r * (T(1) + ze * e * r) * (T(1) + zz * e * r) if not z >= T(SWISH_GRAD_ONE) else T(1)
    # (a NaN z takes the formula: NaN)
    y = low if neg else high
    return -T(0) if (neg and e == T(0)) else y


@kernel
def swish(x, beta):
    return times_sigmoid(x, x, beta)


#: silu''s root x0 = -1 - W(1/e) (1 + x0 + exp(x0) = 0) as float32 hi + lo
SILU_X0_HI, SILU_X0_LO = f32(-1.2784645557403564), f32(1.2979282537628478e-08)
#: silu'(x0 + d) = d P(d) for |d| < SILU_ROOT_WINDOW, P of degree 3 (tools/fit_silu_grad.py:
#: relative error 0.17 * 2**-24)
SILU_ROOT_WINDOW = 0.03
SILU_ROOT32 = (0.2178117036819458, 0.14664879441261292, 0.018872879445552826,
               -0.015218368731439114)
_S0, _S1, _S2, _S3 = (f32(c) for c in SILU_ROOT32)


@kernel
def silu_grad32(x):
    """silu'(x) = s(x) (1 + x s(-x)) for float32 ``x``, in float32 (error: docs/accuracy.md).

    With ``e = exp(-|x|) = w (1 + q)`` (``w = 2**k``, ``q`` the unrounded expm1 polynomial) and
    ``D = (1 + e)**2``, silu' is ``(1 + e (1 + x)) / D`` for x > 0 and ``e N / D`` for x <= 0,
    ``N = 1 + x + e``. N cancels at the root x0 = -1.278: it is formed as ``((1 + x) + w) + w q``,
    whose first sum is exact for x in [-2, -0.5] (1, x and w all lie on x's grid), so N carries
    only w q's rounding error; within 0.03 of x0 the result is ``d P(d)`` instead, ``d = x - x0``
    (``SILU_ROOT32``). ``w`` goes to the negative side's numerator before the division (exact,
    or rounded once where the result is subnormal: D is 1 there). The kernel is bound by the two
    FMA ports (Zen 3), so the selects test the sign bit (``sign_select``, no comparison) and expm1
    is ``expm1_reduced32``. Beyond +-SILU_GRAD_CLAMP32 (clamped; NaN passes) the limits come out
    of the same formula: 1, and -0 below.
    """
    z = min(max(x, f32(-SILU_GRAD_CLAMP32)), f32(SILU_GRAD_CLAMP32))
    kf, r = _reduce32(-abs(z))
    q = expm1_reduced32(r)  # exp(-|z|) = w (1 + q)
    w = scale_pow2_neg(f32(1), kf)
    e = fma(w, q, w)
    den = fma(e, e + f32(2), f32(1))  # (1 + e)**2
    n = fma(w, q, (f32(1) + z) + w)  # 1 + z + e for z <= 0
    y = sign_select(z, fma(q, n, n) * w, fma(e, f32(1) + z, f32(1))) / den
    d = (z - SILU_X0_HI) - SILU_X0_LO
    near = d * (_S0 + d * (_S1 + d * (_S2 + d * _S3)))
    return near if abs(z - SILU_X0_HI) < f32(SILU_ROOT_WINDOW) else y


@kernel
def _swish_grad_wide(z):
    """d/dx x sigmoid(beta x) = s(z) (1 + z s(-z)) for float64 ``z = beta x``, with exp_lean: for
    the float32 kernels evaluated in float64 and rounded once."""
    e = exp_lean(-abs(z))
    r = 1.0 / (1.0 + e)
    pos = z > 0.0
    s = r if pos else e * r  # sigmoid(z)
    sn = e * r if pos else r  # sigmoid(-z)
    d = s * (1.0 + z * sn)
    d = 1.0 if z >= SWISH_GRAD_ONE else d
    return -0.0 if (z <= 0.0 and e == 0.0) else d  # the limit from below, as the float64 kernel


def _swish_grad32(g, x, beta):
    if beta == f32(1):  # loop-invariant: LLVM unswitches the loop
        return g * silu_grad32(x)
    # beta != 1: in float64, rounded once; z = beta * x is exact there (in float32 its rounding
    # error is amplified at the root and in the far tail, beyond the 4-ULP bound with it carried)
    return np.float32(np.float64(g) * _swish_grad_wide(np.float64(beta) * np.float64(x)))


@kernel.by_dtype(float32=_swish_grad32)
def swish_grad(g, x, beta):
    """g * d/dx x sigmoid(beta x); float64: beta x's rounding error carried."""
    z, ze = two_prod(beta, x)
    return g * _swish_grad_z(z, ze)


@kernel
def silu(x):
    return x_sigmoid_exact(x, x)


@kernel
def silu_grad(g, x):
    return swish_grad(g, x, type(x)(1))


# ---------------------------------------------------------------------------------------------
# quick_gelu: x * sigmoid(1.702 x), swish with OpenAI CLIP's beta

#: quick_gelu's beta; float32: as hi + lo, so that z = beta x carries the exact constant's product
QUICK_GELU_BETA = 1.702
QUICK_GELU_HI32 = f32(QUICK_GELU_BETA)
QUICK_GELU_LO32 = f32(QUICK_GELU_BETA - float(QUICK_GELU_HI32))


def _quick_gelu32(x):
    z, ze = two_prod(QUICK_GELU_HI32, x)
    return x_sigmoid(x, z, ze + QUICK_GELU_LO32 * x)


@kernel.by_dtype(float32=_quick_gelu32)
def quick_gelu(x):
    z, ze = two_prod(QUICK_GELU_BETA, x)
    return x_sigmoid(x, z, ze)


def _quick_gelu_grad32(g, x):
    # in float64 (z = beta x to 2**-53), rounded once, as swish's gradient for beta != 1
    return np.float32(np.float64(g) * _swish_grad_wide(QUICK_GELU_BETA * np.float64(x)))


@kernel.by_dtype(float32=_quick_gelu_grad32)
def quick_gelu_grad(g, x):
    z, ze = two_prod(QUICK_GELU_BETA, x)
    return g * _swish_grad_z(z, ze)


# ---------------------------------------------------------------------------------------------
# mish: x * tanh(softplus(x)) = x * n / (n + 2), n = e * (e + 2), e = exp(x)

#: above this x, mish(x) = x (tanh(softplus(x)) = 1 - 2 exp(-2x) rounds to 1 in float64)
MISH_LINEAR = 20.0
#: above this x, mish'(x) = 1 (its second term is below 4x exp(-2x) < 2**-80)
MISH_GRAD_ONE = 30.0
#: below this x, mish(x) = x exp(x) and mish'(x) = exp(x) (1 + x) to working precision
MISH_TAIL = -40.0


@kernel
def mish(x):
    x = wide(x)  # float64: see _jit.wide (float32 arithmetic exceeds the 4-ULP bound)
    T = type(x)
    h, m = scaled_exp(x if x < T(MISH_LINEAR) else T(MISH_LINEAR))  # exp(x) = h * m
    e = h * m
    n = e * (e + T(2))
    y = x * (n / (n + T(2)))
    # far left: tanh(softplus(x)) = e (1 - e/2 ...) = e to working precision: x e, rounded once
    y = ((x * h) * m) if x < T(MISH_TAIL) else y
    y = signed_zero(x) if e == T(0) else y  # includes x = -inf
    return x if x > T(MISH_LINEAR) else y


@kernel
def mish_grad(g, x):
    # tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)**2), 1 - tanh(sp)**2 = 4 (n + 1) / (n + 2)**2
    x = wide(x)  # float64: see _jit.wide
    T = type(x)
    h, m = scaled_exp(x if x < T(MISH_GRAD_ONE) else T(MISH_GRAD_ONE))  # exp(x) = h * m
    e = h * m
    n = e * (e + T(2))
    r = T(1) / (n + T(2))
    s = e / (T(1) + e)  # sigmoid(x)
    d = n * r + x * s * (T(4) * (n + T(1)) * r * r)
    d = ((T(1) + x) * h) * m if x < T(MISH_TAIL) else d  # = exp(x) (1 + x), rounded once
    d = -T(0) if e == T(0) else d  # includes x = -inf
    return g * (T(1) if x > T(MISH_GRAD_ONE) else d)


# ---------------------------------------------------------------------------------------------
# gelu, exact: x * Phi(x), Phi the standard normal CDF

kSqrt1_2 = 0.7071067811865476
kInvSqrt2Pi = 0.3989422804014327  # the normal density's constant, 1/sqrt(2 pi)
#: above this x, gelu(x) = x and gelu'(x) = 1, in both forms (Phi(-x) and sigmoid(-z) are below
#: 2**-75 there: below x's rounding)
GELU_LINEAR = 10.0


@kernel
def _half_erfc_scaled(x):
    """Phi(-|x|) / exp(-x*x/2) = erfcx(|x|/sqrt(2)) / 2: smooth, insensitive to rounding of |x|."""
    T = type(x)
    return T(0.5) * erfcx(abs(x) * T(kSqrt1_2))


@kernel
def _gelu_from(x, q, h):
    """x Phi(x) from q = exp(-x*x/2) and h = Phi(-|x|) / q (the tail's smooth factor)."""
    T = type(x)
    xh = x * h
    # x Phi(-|x|); for x >= 0, x (1 - Phi(-x)) with the product unrounded: an explicit fma, so the
    # vectorized loop and its scalar remainder round alike (LLVM's contraction of ``x - xh * q``
    # differs between the two where ``xh * q`` has other uses)
    y = xh * q if x < T(0) else fma(-xh, q, x)
    y = x if (x > T(GELU_LINEAR) or x == T(0)) else y  # gelu(-0.0) = -0.0
    y = y if x == x else x
    return signed_zero(x) if (x < T(0) and q == T(0)) else y


@kernel
def _gelu_grad_from(g, x, q, h):
    """g (Phi(x) + x phi(x)) from q = exp(-x*x/2) and h = Phi(-|x|) / q."""
    T = type(x)
    lo = h * q  # Phi(-|x|)
    cdf = lo if x < T(0) else T(1) - lo
    d = cdf + x * (T(kInvSqrt2Pi) * q)
    d = T(1) if x > T(GELU_LINEAR) else d
    return g * (-T(0) if (x < T(0) and q == T(0)) else d)


# Phi(-|x|) = exp(-x*x/2) erfcx(|x|/sqrt 2) / 2 with x*x exact, so the tail keeps full precision
# (torch's 1 + erf(x/sqrt 2) cancels there). float64: exp_neg_sq carries x*x's rounding error.
# float32: float32 arithmetic (_gelu32). The float32 gradient likewise (_gelu_grad32).


# -- exact GELU in float64 at float32 accuracy, for the float32 kernels that round a product -------

#: beyond this erfcx's argument (|x| / sqrt 2), erfcx_lean's fit ends and the asymptotic series
#: 1/(a sqrt(pi)) (1 - z + 3 z**2 - 15 z**3 + ... + 10395 z**6), z = 1 / (2 a**2), takes over:
#: its first omitted term is below 2e-11 of the sum from there on
ERFCX_ASYMPTOTIC = ERFCX_F32_A
kInvSqrtPi = 0.5641895835477563  # 1 / sqrt(pi)


@kernel
def _erfcx_wide(a):
    """erfcx(a) for float64 ``a >= 0`` to 2.2e-10 relative, for any a (erfcx_lean's fit, then
    the asymptotic series)."""
    z = 0.5 / (a * a)
    s = 1.0 - z * (1.0 - 3.0 * z * (1.0 - 5.0 * z * (1.0 - 7.0 * z * (1.0 - 9.0 * z * (
        1.0 - 11.0 * z)))))
    far = kInvSqrtPi / a * s
    return erfcx_lean(a) if a <= ERFCX_ASYMPTOTIC else far


@kernel
def gelu_wide(d):
    """``(gelu(d), gelu'(d))`` for float64 ``d`` at float32 accuracy (relative error ~1e-9),
    unrounded: Phi(-|d|) = exp(-d*d/2) erfcx(|d|/sqrt 2) / 2 with exp_lean (d*d is exact for a
    float32 d) and :func:`_erfcx_wide`, so the tail is accurate as far as float64 reaches (a
    product with a large factor stays accurate where gelu itself underflows in float32)."""
    v = abs(d)
    q = exp_lean(-0.5 * (v * v))
    lo = q * (0.5 * _erfcx_wide(v * kSqrt1_2))  # Phi(-|d|)
    neg = d < 0.0
    y = d * lo if neg else d - d * lo
    dy = (lo if neg else 1.0 - lo) + d * (kInvSqrt2Pi * q)
    y = d if (d > GELU_LINEAR or d == 0.0) else y  # gelu(-0.0) = -0.0
    dy = 1.0 if d > GELU_LINEAR else dy
    y = signed_zero(d) if (neg and q == 0.0) else y  # including -inf
    dy = -0.0 if (neg and q == 0.0) else dy
    return (y, dy) if d == d else (d, d)


# -- the Gaussian exp(-v*v/2) in float32, for float32 gelu and its gradient --------------------

@kernel
def gauss32(v):
    """``(q, kf)`` with ``exp(-v*v/2) = 2**k (1 + q)`` (float32 ``v`` >= 0 up to ~18; ``kf = k +
    SHIFTER``), ``q`` not rounded into 1 + q. ``v*v``'s rounding error (exact by an FMA) and the
    low part of ``k ln2`` join the exactly reduced argument in one rounding (below 2**-26 in the
    exponent, a relative error below 0.25 * 2**-24; carrying them unrounded as a first-order factor
    instead costs two operations more and is no more accurate in the float32 GELU kernels)."""
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
    multiplication of its own: one operation fewer, for the float32 GELU forward, which is bound
    by the FMA ports."""
    s = v * v
    kf = fma(s, _NHLOG2E32, SH32)  # s * (-log2e / 2) is exactly gauss32's (-v*v/2) * log2e
    k = kf - SH32
    r = fma(k, _LN2HI32X2, s) + fma(k, _LN2LO32X2, fma(v, v, -s))  # -2 r (as gauss32's r)
    r2 = r * r
    return fma(r2, (_N0 + r * _N1) + r2 * ((_N2 + r * _N3) + r2 * _N4), r), kf


#: float32 gelu: Phi(-v) = exp(-v*v/2) / D(v), D(v) = 2 + v (A - Delta(v)) with Delta = P/Q of
#: degrees (3, 4) (tools/fit_gelu.py: D's relative error from it 0.30 * 2**-24); A is
#: sqrt(2 pi) as a float32, Delta defined with it
GELU_A, GELU_V_MAX = 2.5066282749176025, 14.5
GELU_P32 = (0.9108576774597168, 0.5585070848464966, 0.1571178287267685, 0.019264230504631996)
GELU_Q32 = (1.0, 0.9131258130073547, 0.3938491642475128, 0.09057668596506119,
            0.009633345529437065)
_DV = f32(GELU_V_MAX)


def knuth_quartic(c):
    """``(k0, k1, k2, k3)`` with ``c0 + c1 v + ... + c4 v**4 = c4 ((y + v + k2) y + k3)``,
    ``y = (v + k0) v + k1`` (Knuth, TAOCP vol. 2, 4.6.4; real for every real quartic): two
    multiplications and three additions where Horner's scheme takes four FMAs."""
    c0, c1, c2, c3, c4 = c
    k0 = (c3 / c4 - 1) / 2
    b = c2 / c4 - k0 * (k0 + 1)
    k1 = c1 / c4 - k0 * b
    k2 = b - 2 * k1
    k3 = c0 / c4 - k1 * (k1 + k2)
    return k0, k1, k2, k3


#: the kernel forms D / (2 Q4): Q / Q4 by Knuth's scheme, P / (2 Q4) and A / 2 beside it
_GK0, _GK1, _GK2, _GK3 = (f32(c) for c in knuth_quartic(GELU_Q32))
_HP0, _HP1, _HP2, _HP3 = (f32(c / (2 * GELU_Q32[4])) for c in GELU_P32)
_HA = f32(GELU_A) * f32(0.5)  # exact


def _gelu32(x):
    # in float32: with v = |x|, v Phi(-v) = exp(-v*v/2) v / D(v); gelu(x) is that, negated, for
    # x < 0 and x minus it for x >= 0. D = 2 + v (A - Delta) damps Delta's rounding errors (to
    # 0.19 of them at most, to none at v = 0, where D = 2 exactly), the exponential comes split
    # (gauss32_neg2) and v / D times it rounds once at full size, 2**k applied last (the subnormal
    # tail). Beyond v = GELU_V_MAX the result is -0 or x. Error: docs/accuracy.md.
    # Delta = P / Q joins D's division, v / D = v Q / (2 Q + v (A Q - P)): one division. Q's
    # rounding errors cancel between numerator and denominator up to that same damping, so Q is
    # evaluated by Knuth's scheme for quartics (two FMAs and three additions: the loop is bound by
    # the FMA ports on Zen 5, the adders idle) and scaled by 1 / Q4, P with it (P / Q4 rounded
    # once to float32, like the scheme's constants). Exact scalings by powers of two save
    # multiplications: the quotient's terms halved (P / 2, A / 2), so u = 2 v exp(v*v/2) Phi(-v);
    # the exponential as 1 - q2 / 2 (gauss32_neg2); v Phi(-v) = 2**(k - 2) (2 u - u q2), one FMA.
    w, kf = gelu_tail_parts32(x)
    t = scale_pow2_neg(w, kf)  # v Phi(-v)
    return sign_select(x, -t, x - t)


@kernel
def gelu_tail_parts32(x):
    """``(w, kf)`` with ``|x| Phi(-|x|) = w 2**k`` (``kf = k + SHIFTER``) for float32 ``x``:
    _gelu32's evaluation before its power of two (|x| clamped to GELU_V_MAX)."""
    v = min(abs(x), _DV)  # NaN passes (the first argument)
    q2, kf = gauss32_neg2(v)  # exp(-v*v/2) = 2**k (1 - q2 / 2)
    p = _HP0 + v * (_HP1 + v * (_HP2 + v * _HP3))  # P / (2 Q4)
    y = fma(v + _GK0, v, _GK1)
    dq = fma(y + (v + _GK2), y, _GK3)  # Q / Q4
    u = v * dq / fma(v, fma(_HA, dq, -p), dq)  # 2 v exp(v*v/2) Phi(-v)
    return fma(-u, q2, u + u), kf - f32(2)


@kernel.by_dtype(float32=_gelu32)
def gelu(x):
    """x Phi(x), Phi the standard normal CDF."""
    return _gelu_from(x, exp_neg_sq(x, 0.5), _half_erfc_scaled(x))


#: float32 gelu': exp(-v*v/2) (v - v0) M(s) with M a degree-8 polynomial in
#: s = (1 + BETA C v) / (1 + C v) (tools/fit_gelu_grad.py: relative error 0.26 * 2**-24);
#: the constant term as a float32 pair
GELU_GRAD_C, GELU_GRAD_A = 0.25, 15.0
GELU_GRAD_ALPHA, GELU_GRAD_BETA = 2.5333333015441895, -1.5333333015441895
GELU_V0_HI, GELU_V0_LO = f32(0.7517915368080139), f32(-1.211444988769017e-08)
GELU_GRAD_M32 = (-0.48693370819091797, -6.5594947251668145e-09,
                 -0.10494457185268402, -0.05041508004069328, -0.018127301707863808,
                 -0.004359138198196888, -0.0004308009520173073, 0.00010454291623318568,
                 3.0484867238556035e-05, -2.4058415419858648e-06)
_M0, _M0L, _M1, _M2, _M3, _M4, _M5, _M6, _M7, _M8 = (f32(c) for c in GELU_GRAD_M32)
_GC, _GA = f32(GELU_GRAD_C), f32(GELU_GRAD_A)
assert GELU_GRAD_ALPHA + GELU_GRAD_BETA == 1  # s = ALPHA t + BETA = (1 + BETA C v) / (1 + C v)
_GBC = f32(GELU_GRAD_BETA * GELU_GRAD_C)  # exact: C is a power of two
_GV0M0 = f32(float(GELU_V0_LO) * float(_M0))


@kernel
def _gelu_m_tail32(s):
    """M(s) - M0 (the low part of M0 included), two Horner halves (a shorter chain)."""
    s2 = s * s
    s4 = s2 * s2
    lo = _M1 + s * (_M2 + s * (_M3 + s * _M4))
    hi = _M5 + s * (_M6 + s * (_M7 + s * _M8))
    return fma(s, fma(s4, hi, lo), _M0L)


def _gelu_grad32(g, x):
    # in float32: with v = |x|, Phi(-v) - v phi(v) = exp(-v*v/2) (v - v0) M(v), M
    # smooth and of one sign (GELU_GRAD_M32), so gelu' is that for x <= 0 and 1 minus it for
    # x > 0 with no cancellation anywhere, its root included. Assembled as
    # dh M0 + [d (M - M0) + q d M - v0_lo M0] (d = v - v0, dh = v - v0_hi: exact near the root,
    # exp = 2**k (1 + q)) so that only the final FMA rounds at full size; 2**k applied last
    # (subnormal tails). Beyond v = GELU_GRAD_A the result is -0 or 1.
    w, kf = gelu_grad_parts32(x)
    c = scale_pow2_neg(w, kf)
    return g * sign_select(x, c, f32(1) - c)


@kernel
def gelu_grad_parts32(x):
    """``(w, kf)`` with ``Phi(-v) - v phi(v) = w 2**k`` (v = |x|, ``kf = k + SHIFTER``) for
    float32 ``x``: _gelu_grad32's evaluation before its power of two (v clamped to
    GELU_GRAD_A); gelu'(x) is that for x < 0 and 1 minus it otherwise."""
    v = min(abs(x), _GA)  # NaN passes (the first argument)
    q, kf = gauss32(v)
    y = _gelu_m_tail32(fma(_GBC, v, f32(1)) / fma(_GC, v, f32(1)))
    dh = v - GELU_V0_HI
    d = dh - GELU_V0_LO
    return fma(dh, _M0, fma(q * d, _M0 + y, fma(d, y, -_GV0M0))), kf


@kernel.by_dtype(float32=_gelu_grad32)
def gelu_grad(g, x):
    """g (Phi(x) + x phi(x)), phi the standard normal density."""
    return _gelu_grad_from(g, x, exp_neg_sq(x, 0.5), _half_erfc_scaled(x))


# ---------------------------------------------------------------------------------------------
# gelu, tanh approximation: x/2 * (1 + tanh(kBeta * (x + kKappa x**3))) = x * sigmoid(z),
# z = 2 kBeta * (x + kKappa x**3)

kBeta = 0.7978845608028654  # sqrt(2 / pi)
kKappa = 0.044715
kTwoBetaHi = 1.5957691216057308  # 2 * sqrt(2/pi) = kTwoBetaHi + kTwoBetaLo
kTwoBetaLo = -9.96930880911092e-17
#: the tanh-form GELU clamps x to +-GELU_TANH_CLAMP: beyond, sigmoid(z) is 0 or 1 in float64
GELU_TANH_CLAMP = 30.0
#: the float32 tanh-form gradient evaluates exp(-z) for z >= -GELU_TANH_EXP_MAX (finite in
#: float64, so e r is still sigmoid(-z) far left)
GELU_TANH_EXP_MAX = 700.0


@kernel
def _gelu_tanh_arg(x):
    """(z, ze): z + ze = 2 kBeta x (1 + kKappa x**2) to about twice the working precision."""
    T = type(x)
    xc = x if abs(x) < T(GELU_TANH_CLAMP) else math.copysign(T(GELU_TANH_CLAMP), x)
    c_hi = T(kTwoBetaHi)
    c_lo = T(kTwoBetaHi - float(c_hi) + kTwoBetaLo)  # the type's own split of the constant
    k_hi = T(kKappa)
    s, se = two_prod(xc, xc)
    q, qe = two_prod(k_hi, s)
    qe += k_hi * se
    if T(1e-50) == T(0):  # float32 (1e-50 is 0 only there): kKappa's rounding, 0 in float64
        qe += T(kKappa - float(k_hi)) * s
    r = T(1) + q  # TwoSum: r + re == 1 + q exactly, whichever is larger
    bb = r - q
    re = ((q - (r - bb)) + (T(1) - bb)) + qe
    p, pe = two_prod(xc, r)
    pe += xc * re
    z, ze = two_prod(c_hi, p)
    ze += c_hi * pe + c_lo * p
    return z, ze


# The float32 gradient (and the tanh GeGLU's float32 terms): in float64, where x**3 and z need
# no error-free transformations (for a float32 x, z's float64 rounding is below 1e-7 of a float32
# ULP of the result), rounded once. In float32 the gradient's 1 + x s(-z) dz cancels near its
# zero (x = -0.75), where float32 roundings of its terms come to hundreds of ULP.
kTwoBeta = 2 * kBeta


@kernel
def _gelu_tanh_z(d):
    """(x clamped to +-GELU_TANH_CLAMP, z = 2 kBeta x (1 + kKappa x**2)) in float64, for a float32
    x."""
    c = d if abs(d) < GELU_TANH_CLAMP else math.copysign(GELU_TANH_CLAMP, d)
    return c, kTwoBeta * c * (1.0 + kKappa * c * c)


@kernel
def gelu_tanh_wide(d):
    """gelu_tanh(d) for float64 ``d`` with exp_lean, unrounded to float32 (the float32 kernels
    round it once, alone or after a product)."""
    _, z = _gelu_tanh_z(d)
    y = d / (1.0 + exp_lean(-z))  # x sigmoid(z); exp overflows to inf far left: -0
    y = -0.0 if d < -GELU_TANH_CLAMP else y  # including -inf (inf / inf)
    return d if (d > GELU_LINEAR or d != d) else y


@kernel
def gelu_tanh_grad_wide(d):
    """gelu_tanh'(d) for float64 ``d`` with exp_lean (as :func:`gelu_tanh_wide`)."""
    c, z = _gelu_tanh_z(d)
    e = exp_lean(-max(z, -GELU_TANH_EXP_MAX))
    r = 1.0 / (1.0 + e)
    dz = kTwoBeta * (1.0 + 3 * kKappa * c * c)
    y = r * (1.0 + c * dz * (e * r))  # s(z) (1 + x s(-z) dz)
    y = -0.0 if d < -GELU_TANH_CLAMP else y  # the limit from below (as the forward)
    y = 1.0 if d > GELU_LINEAR else y
    return y if d == d else d


def _gelu_tanh_grad32(g, x):
    return np.float32(np.float64(g) * gelu_tanh_grad_wide(np.float64(x)))


@kernel
def gelu_tanh(x):
    """x sigmoid(z), z = 2 kBeta (x + kKappa x**3) to twice the working precision (its rounding,
    amplified by exp, would reach tens of float32 ULP near x = -10), in the input's precision:
    3.3 float32 ULP over every float32 x (docs/accuracy.md)."""
    z, ze = _gelu_tanh_arg(x)  # (a NaN x is clamped like a large one: returned below)
    y = x_sigmoid(x, z, ze)
    return x if (x > type(x)(GELU_LINEAR) or x != x) else y


@kernel.by_dtype(float32=_gelu_tanh_grad32)
def gelu_tanh_grad(g, x):
    """g d/dx gelu_tanh(x)."""
    return gelu_tanh_grad64(g, x)


@kernel
def gelu_tanh_grad64(g, x):
    """gelu_tanh_grad's float64 form, as a plain kernel: the gated kernels call it directly (a
    by_dtype kernel inlined into another costs compile time)."""
    # s(z) + x * s(z) * s(-z) * dz/dx, dz/dx = 2 kBeta (1 + 3 kKappa x**2)
    z, ze = _gelu_tanh_arg(x)
    xc = x if abs(x) < GELU_TANH_CLAMP else math.copysign(GELU_TANH_CLAMP, x)
    dz = kTwoBetaHi * (1.0 + 3 * kKappa * xc * xc)
    # x s(z) s(-z) dz + s(z) = s(z) (1 + x s(-z) dz); s(-z) = 1 - s(z) without cancellation
    d = _sig_times(1.0 + xc * dz, z, ze, xc * dz)
    d = 1.0 if x > GELU_LINEAR else d
    return g * (d if x == x else x)


@kernel
def _sig_times(a, z, ze, b):
    """s(z + ze) * (1 + b * s(-z)); ``a = 1 + b`` gives the sign of its underflowed limit."""
    T = type(z)
    neg = z <= T(0)
    h, m = scaled_exp(-abs(z))
    e = h * m
    r = T(1) / (T(1) + e)
    low = ((h * r * (T(1) + ze * r)) * (T(1) + b * r)) * m
    high = r * (T(1) + ze * e * r) * (T(1) + b * e * r)
    y = low if neg else high
    return signed_zero(a) if (neg and e == T(0)) else y


#: this family's public kernels, re-exported by fastact.kernels
__all__ = [
    "gelu",
    "gelu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "mish",
    "mish_grad",
    "quick_gelu",
    "quick_gelu_grad",
    "silu",
    "silu_grad",
    "swish",
    "swish_grad",
]
