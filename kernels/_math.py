"""Scalar math shared by the activation kernels.

The elementary functions are re-exported from :mod:`math` in one place (`exp`, `expm1`, `log1p`,
`tanh`, `erfc`), so that a vectorizable implementation can replace them for every kernel at once.

Beside them: error-free transformations (`two_prod`) that let a kernel carry the rounding error
of an argument into an ill-conditioned function, a numerically stable sigmoid pair, and
`mul_exp`, which keeps ``a * exp(z)`` accurate when ``exp(z)`` alone would be subnormal. All
helpers take float64 (kernels call :func:`kernels._jit.wide` first).
"""

import math
from math import erfc, exp, expm1, log1p, tanh  # noqa: F401  (re-exported for the kernels)

from ._jit import kernel

#: Veltkamp's splitting constant for float64: 2**27 + 1.
_SPLIT = 134217729.0
#: exp(z) is subnormal below about -708.4; below this bound `mul_exp` rescales by 2**128.
_EXP_SUBNORMAL_BELOW = -700.0


@kernel
def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a*b)`` and ``a*b == p + e`` exactly (Dekker's product, no FMA).

    ``e`` is 0 where the product or the split overflows or is not finite: there the error term is
    meaningless and the callers' first-order corrections must vanish.
    """
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    if not math.isfinite(e):
        e = 0.0
    return p, e


@kernel
def signed_zero(x):
    """-0.0 for negative ``x``, else +0.0: the limit of ``x * tiny``."""
    return -0.0 if x < 0.0 else 0.0


@kernel
def mul_exp(a, z, ze):
    """``a * exp(z + ze)`` for ``|ze| << 1``, rounded once even where ``exp(z)`` is subnormal.

    Below -700, ``exp(z) = h * h`` with ``h = exp(z / 2)`` (``z / 2`` is exact and ``h`` normal):
    ``(a * h) * h`` keeps full precision until the last product, which rounds only once.
    """
    if z < _EXP_SUBNORMAL_BELOW:
        h = exp(0.5 * z)
        return (a * (h * (1.0 + ze))) * h
    return a * (exp(z) * (1.0 + ze))


@kernel
def sigmoid_pair(z, ze):
    """``(sigmoid(z + ze), sigmoid(-(z + ze)))``, each with small relative error.

    Computing ``1 - sigmoid(z)`` by subtraction would lose every digit for large ``z``; here both
    come from ``e = exp(-|z|) <= 1``. ``ze`` is the rounding error of the argument (first order).
    NaN in gives NaN in both.
    """
    if z <= 0.0:
        e = exp(z) * (1.0 + ze)
        r = 1.0 / (1.0 + e)
        return e * r, r
    e = exp(-z) * (1.0 - ze)
    r = 1.0 / (1.0 + e)
    return r, e * r


@kernel
def x_sigmoid(x, z, ze):
    """``x * sigmoid(z + ze)`` without overflow, ``inf * 0 = NaN`` or subnormal intermediates."""
    if z < -800.0:  # exp(z) is 0 in float64; x * sigmoid(z) is a (signed) zero for any finite x
        return signed_zero(x)
    if z < _EXP_SUBNORMAL_BELOW:  # sigmoid(z) == exp(z) to double precision
        return mul_exp(x, z, ze)
    s, _ = sigmoid_pair(z, ze)
    return x * s
