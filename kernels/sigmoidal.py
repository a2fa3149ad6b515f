"""Squashing functions: sigmoid, logsigmoid, tanh, softsign, softplus.

Each is evaluated from ``exp(-|x|) <= 1`` (or ``log1p``) so that neither tail overflows or
cancels: ``1 - sigmoid(x)`` is ``sigmoid(-x)``, ``1 - tanh(x)**2`` is ``4e / (1 + e)**2`` with
``e = exp(-2|x|)``.
"""

import math

from ._jit import kernel, wide
from ._math import exp, log1p, sigmoid_pair, two_prod
from ._math import tanh as _tanh


@kernel
def sigmoid(x):
    s, _ = sigmoid_pair(wide(x), 0.0)
    return s


@kernel
def sigmoid_grad(g, x):
    s, sm = sigmoid_pair(wide(x), 0.0)
    return g * (s * sm)


@kernel
def logsigmoid(x):
    # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))
    x = wide(x)
    return (x if x < 0.0 else 0.0) - log1p(exp(-abs(x)))


@kernel
def logsigmoid_grad(g, x):
    # d/dx log(sigmoid(x)) = sigmoid(-x)
    _, sm = sigmoid_pair(wide(x), 0.0)
    return g * sm


@kernel
def tanh(x):
    return _tanh(wide(x))


@kernel
def tanh_grad(g, x):
    # 1 - tanh(x)**2 = 4e / (1 + e)**2, e = exp(-2|x|)
    e = exp(-2.0 * abs(wide(x)))
    r = 1.0 / (1.0 + e)
    return g * (4.0 * e * r * r)


@kernel
def softsign(x):
    # x / (1 + |x|); at +-inf the limit +-1 (torch's formula gives inf/inf = NaN there)
    x = wide(x)
    if abs(x) == math.inf:
        return 1.0 if x > 0.0 else -1.0
    return x / (1.0 + abs(x))


@kernel
def softsign_grad(g, x):
    # 1 / (1 + |x|)**2, squared after the division so that it cannot overflow
    r = 1.0 / (1.0 + abs(wide(x)))
    return g * (r * r)


@kernel
def softplus(x, beta, threshold):
    # torch: linear where x * beta > threshold, else log1p(exp(beta * x)) / beta, evaluated as
    # max(z, 0) + log1p(exp(-|z|)) (no overflow) plus the rounding error ze of z = beta * x
    x = wide(x)
    z, ze = two_prod(x, beta)
    if z > threshold:
        return x
    if z != z:
        return z
    s, _ = sigmoid_pair(z, 0.0)
    return ((z if z > 0.0 else 0.0) + log1p(exp(-abs(z))) + ze * s) / beta


@kernel
def softplus_grad(g, x, beta, threshold):
    z, ze = two_prod(wide(x), beta)
    if z > threshold:
        return g * 1.0
    s, _ = sigmoid_pair(z, ze)
    return g * s
