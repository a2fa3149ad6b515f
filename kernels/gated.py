"""Self-gated activations ``x * gate(x)``: silu, swish, mish, gelu (exact and tanh forms).

In the negative tail each gate is ``~exp(...)`` of a large negative argument, so a rounding error
``e`` in that argument becomes a relative error ``e`` in the result (hundreds of ULP near the
underflow). The kernels therefore carry the argument's rounding error (``two_prod``) into the
exponential, keep ``x * gate`` accurate where the gate alone is subnormal (``mul_exp``), and return
the limits at +-inf (torch's formulas give ``inf * 0 = NaN`` there).
"""

from ._jit import kernel, wide
from ._math import erfc, exp, mul_exp, sigmoid_pair, signed_zero, two_prod, x_sigmoid

# ---------------------------------------------------------------------------------------------
# silu / swish: x * sigmoid(beta * x)


@kernel
def _swish_grad_z(z, ze):
    """d/dx x*sigmoid(beta*x) = s(z) * (1 + z * s(-z)) with z = beta*x (+ rounding error ze)."""
    if z > 45.0:  # s(z) == 1 and z * s(-z) < 2**-60 (also keeps +inf * 0 out)
        return 1.0
    if z < -800.0:  # the result underflows; -inf * 0 would be NaN
        return -0.0
    if z < -700.0:  # s(z) == exp(z), s(-z) == 1
        return mul_exp(1.0 + z, z, ze)
    s, sm = sigmoid_pair(z, ze)
    return s * (1.0 + (z + ze) * sm)


@kernel
def swish(x, beta):
    x = wide(x)
    z, ze = two_prod(beta, x)
    return x_sigmoid(x, z, ze)


@kernel
def swish_grad(g, x, beta):
    z, ze = two_prod(beta, wide(x))
    return g * _swish_grad_z(z, ze)


@kernel
def silu(x):
    return swish(x, 1.0)


@kernel
def silu_grad(g, x):
    return swish_grad(g, x, 1.0)


# ---------------------------------------------------------------------------------------------
# mish: x * tanh(softplus(x)) = x * n / (n + 2), n = e * (e + 2), e = exp(x)


@kernel
def mish(x):
    x = wide(x)
    if x > 20.0:  # tanh(softplus(x)) = 1 - 2 exp(-2x) rounds to 1
        return x
    if x < -40.0:  # tanh(softplus(x)) = exp(x) (1 - exp(x)/2 ...) to double precision
        return x_sigmoid(x, x, 0.0)
    e = exp(x)
    n = e * (e + 2.0)
    return x * (n / (n + 2.0))


@kernel
def mish_grad(g, x):
    # tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)**2), 1 - tanh(sp)**2 = 4 (n + 1) / (n + 2)**2
    x = wide(x)
    if x > 30.0:  # the second term is below 4x exp(-2x) < 2**-80
        return g * 1.0
    if x < -40.0:  # = exp(x) * (1 + x) to double precision
        return g * _swish_grad_z(x, 0.0)
    e = exp(x)
    n = e * (e + 2.0)
    r = 1.0 / (n + 2.0)
    s, _ = sigmoid_pair(x, 0.0)
    return g * (n * r + x * s * (4.0 * (n + 1.0) * r * r))


# ---------------------------------------------------------------------------------------------
# gelu, exact: x * Phi(x), Phi the standard normal CDF

kSqrt1_2Hi = 0.7071067811865476  # 1/sqrt(2) = kSqrt1_2Hi + kSqrt1_2Lo
kSqrt1_2Lo = -4.833646656726457e-17
kTwoOverSqrtPi = 1.1283791670955126  # erfc'(a) = -kTwoOverSqrtPi * exp(-a*a)
kInvSqrt2Pi = 0.3989422804014327  # the normal density's constant, 1/sqrt(2 pi)
#: Below this, Phi(x) = phi(x)/|x| * S(x) by the asymptotic (Mills ratio) series; above, erfc.
kGeluTail = -28.0


@kernel
def _normal_pdf(x):
    """phi(x) = exp(-x*x/2) / sqrt(2 pi), with x*x carried exactly (two_prod); |x| <= 40."""
    p, e = two_prod(x, x)
    return kInvSqrt2Pi * (exp(-0.5 * p) * (1.0 - 0.5 * e))


@kernel
def _normal_cdf(x):
    """Phi(x) = erfc(-x/sqrt(2)) / 2 for kGeluTail <= x, NaN for NaN.

    The rounding error ``err`` of ``a = -x/sqrt(2)`` would cost ``2 a**2`` ULP in ``erfc(a)``; it
    is added back at first order: erfc(a + err) = erfc(a) - err * 2/sqrt(pi) * exp(-a*a).
    """
    if x > 10.0:  # 1 - Phi(10) = 7.6e-24
        return 1.0
    t = -x
    a, e = two_prod(t, kSqrt1_2Hi)
    err = e + t * kSqrt1_2Lo
    return 0.5 * (erfc(a) - err * kTwoOverSqrtPi * exp(-a * a))


@kernel
def _mills_series(x):
    """S(x) = sum_k (-1)**k (2k-1)!! / x**(2k), so that Phi(x) = phi(x) * S(x) / |x| for x << 0.

    Eleven terms; at |x| >= 28 the next one is below 1e-21.
    """
    u = 1.0 / (x * x)
    s = 1.0 - 21.0 * u
    s = 1.0 - 19.0 * u * s
    s = 1.0 - 17.0 * u * s
    s = 1.0 - 15.0 * u * s
    s = 1.0 - 13.0 * u * s
    s = 1.0 - 11.0 * u * s
    s = 1.0 - 9.0 * u * s
    s = 1.0 - 7.0 * u * s
    s = 1.0 - 5.0 * u * s
    s = 1.0 - 3.0 * u * s
    return 1.0 - u * s


@kernel
def gelu(x):
    x = wide(x)
    if x < -40.0:  # |gelu(x)| < phi(40) = 1e-348: underflows to -0 (and -inf * 0 is not NaN)
        return -0.0
    if x < kGeluTail:  # x * Phi(x) = -phi(x) * S(x)
        return -(_normal_pdf(x) * _mills_series(x))
    return x * _normal_cdf(x)


@kernel
def gelu_grad(g, x):
    # Phi(x) + x * phi(x)
    x = wide(x)
    if x > 10.0:  # x * phi(x) < 1e-21 and Phi(x) == 1 (also keeps +inf * 0 out)
        return g * 1.0
    if x < -40.0:
        return g * -0.0
    pdf = _normal_pdf(x)
    if x < kGeluTail:  # phi(x) * (S(x)/|x| + x)
        return g * (pdf * (x - _mills_series(x) / x))
    return g * (_normal_cdf(x) + x * pdf)


# ---------------------------------------------------------------------------------------------
# gelu, tanh approximation: x/2 * (1 + tanh(kBeta * (x + kKappa x**3))) = x * sigmoid(z),
# z = 2 kBeta * (x + kKappa x**3)

kBeta = 0.7978845608028654  # sqrt(2 / pi)
kKappa = 0.044715
kTwoBetaHi = 1.5957691216057308  # 2 * sqrt(2/pi) = kTwoBetaHi + kTwoBetaLo
kTwoBetaLo = -9.96930880911092e-17


@kernel
def _gelu_tanh_arg(x):
    """(z, ze): z + ze = 2 kBeta x (1 + kKappa x**2) to about twice double precision; |x| <= 30."""
    s, se = two_prod(x, x)
    q, qe = two_prod(kKappa, s)
    qe += kKappa * se
    r = 1.0 + q  # 1 <= r, |q| >= 1 where it matters: Fast2Sum is exact
    re = (q - (r - 1.0)) + qe
    p, pe = two_prod(x, r)
    pe += x * re
    z, ze = two_prod(kTwoBetaHi, p)
    ze += kTwoBetaHi * pe + kTwoBetaLo * p
    return z, ze


@kernel
def gelu_tanh(x):
    x = wide(x)
    if x > 10.0:  # sigmoid(z) == 1 (z > 87)
        return x
    if x < -30.0:  # z < -2000: underflows
        return signed_zero(x)
    z, ze = _gelu_tanh_arg(x)
    return x_sigmoid(x, z, ze)


@kernel
def gelu_tanh_grad(g, x):
    # s(z) + x * s(z) * s(-z) * dz/dx, dz/dx = 2 kBeta (1 + 3 kKappa x**2)
    x = wide(x)
    if x > 10.0:
        return g * 1.0
    if x < -30.0:
        return g * -0.0
    z, ze = _gelu_tanh_arg(x)
    dz = kTwoBetaHi * (1.0 + 3.0 * kKappa * x * x)
    if z < -700.0:  # s(z) = exp(z), s(-z) = 1
        return g * mul_exp(1.0 + x * dz, z, ze)
    s, sm = sigmoid_pair(z, ze)
    return g * (s * (1.0 + x * sm * dz))


