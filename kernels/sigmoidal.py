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
    s, _ = sigmoid_pair(x, type(x)(0))
    return s


@kernel
def sigmoid_grad(g, x):
    x = wide(x)  # float64: see _jit.wide (exp, a reciprocal and two products reach ~4.4 ULP)
    s, sm = sigmoid_pair(x, type(x)(0))
    return g * (s * sm)


@kernel
def logsigmoid(x):
    # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))
    T = type(x)
    return (x if x < T(0) else T(0)) - log1p(exp(-abs(x)))


@kernel
def logsigmoid_grad(g, x):
    # d/dx log(sigmoid(x)) = sigmoid(-x)
    _, sm = sigmoid_pair(x, type(x)(0))
    return g * sm


@kernel
def tanh(x):
    return _tanh(x)


@kernel
def tanh_grad(g, x):
    # 1 - tanh(x)**2 = 4e / (1 + e)**2, e = exp(-2|x|)
    x = wide(x)  # float64: see _jit.wide (in float32 this reaches ~4 ULP)
    T = type(x)
    e = exp(T(-2) * abs(x))
    r = T(1) / (T(1) + e)
    return g * (T(4) * e * r * r)


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


@kernel
def softplus(x, beta, threshold):
    # torch: linear where x * beta > threshold, else log1p(exp(beta * x)) / beta, evaluated as
    # max(z, 0) + log1p(exp(-|z|)) (no overflow) plus the rounding error ze of z = beta * x
    x = wide(x)  # float64: see _jit.wide (exp, log1p and the division compound to ~4 ULP)
    T = type(x)
    z, ze = two_prod(x, wide(beta))
    e = exp(-abs(z))
    r = T(1) / (T(1) + e)
    s = r if z > T(0) else e * r  # sigmoid(z): d softplus / dz
    y = ((z if z > T(0) else T(0)) + log1p(e) + ze * s) / beta
    y = y if z == z else z
    return x if z > wide(threshold) else y


@kernel
def softplus_grad(g, x, beta, threshold):
    z, ze = two_prod(x, beta)
    s, _ = sigmoid_pair(z, ze)
    return g if z > threshold else g * s


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
