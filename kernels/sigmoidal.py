"""Squashing functions: sigmoid, logsigmoid, tanh, softsign, softplus.

Each is evaluated from ``exp(-|x|) <= 1`` (or ``log1p``) so that neither tail overflows or
cancels: ``1 - sigmoid(x)`` is ``sigmoid(-x)``, ``1 - tanh(x)**2`` is ``4e / (1 + e)**2`` with
``e = exp(-2|x|)``.
"""

import math

import numpy as np

from ._jit import kernel
from ._math import by_dtype, exp, exp_lean, log1p, log1p_lean, sigmoid_pair, two_prod
from ._math import tanh as _tanh


@kernel
def sigmoid(x):
    s, _ = sigmoid_pair(x, type(x)(0))
    return s


def _sigmoid_grad64(g, x):
    s, sm = sigmoid_pair(x, 0.0)
    return g * (s * sm)


def _sigmoid_grad32(g, x):
    # in float64 (in float32: exp, a reciprocal and two products reach ~4.4 ULP), rounded once
    e = exp_lean(-abs(np.float64(x)))  # sigmoid(x) sigmoid(-x) = e / (1 + e)**2, e = exp(-|x|)
    r = 1.0 / (1.0 + e)
    return np.float32(np.float64(g) * (e * r * r))


_sigmoid_grad = by_dtype("sigmoid_grad", _sigmoid_grad32, _sigmoid_grad64)


@kernel
def sigmoid_grad(g, x):
    return _sigmoid_grad(g, x)


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
def _tanh_grad_e(g, e):
    # 1 - tanh(x)**2 = 4e / (1 + e)**2 with e = exp(-2|x|)
    T = type(e)
    r = T(1) / (T(1) + e)
    return g * (T(4) * e * r * r)


def _tanh_grad64(g, x):
    return _tanh_grad_e(g, exp(-2.0 * abs(x)))


def _tanh_grad32(g, x):
    # in float64 (in float32 this reaches ~4 ULP), rounded once
    return np.float32(_tanh_grad_e(np.float64(g), exp_lean(-2.0 * abs(np.float64(x)))))


_tanh_grad = by_dtype("tanh_grad", _tanh_grad32, _tanh_grad64)


@kernel
def tanh_grad(g, x):
    return _tanh_grad(g, x)


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


def _softplus64(x, beta, threshold):
    # torch: linear where x * beta > threshold, else log1p(exp(beta * x)) / beta, evaluated as
    # max(z, 0) + log1p(exp(-|z|)) (no overflow) plus the rounding error ze of z = beta * x
    z, ze = two_prod(x, beta)
    e = exp(-abs(z))
    r = 1.0 / (1.0 + e)
    s = r if z > 0.0 else e * r  # sigmoid(z): d softplus / dz
    y = ((z if z > 0.0 else 0.0) + log1p(e) + ze * s) / beta
    y = y if z == z else z
    return x if z > threshold else y


def _softplus32(x, beta, threshold):
    # in float64 (in float32 exp, log1p and the division compound to ~4 ULP), rounded once;
    # z = beta * x is exact in float64
    d, b = np.float64(x), np.float64(beta)
    z = d * b
    y = ((z if z > 0.0 else 0.0) + log1p_lean(exp_lean(-abs(z)))) * (1.0 / b)  # (hoisted)
    y = y if z == z else z
    return np.float32(d if z > np.float64(threshold) else y)


_softplus = by_dtype("softplus", _softplus32, _softplus64, key=0)


@kernel
def softplus(x, beta, threshold):
    return _softplus(x, beta, threshold)


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
