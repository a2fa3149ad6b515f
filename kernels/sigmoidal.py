"""Squashing functions: sigmoid, logsigmoid, tanh, softsign, softplus.

Each is evaluated from ``exp(-|x|) <= 1`` (or ``log1p``) so that neither tail overflows or
cancels: ``1 - sigmoid(x)`` is ``sigmoid(-x)``, ``1 - tanh(x)**2`` is ``4e / (1 + e)**2`` with
``e = exp(-2|x|)``.
"""

import math

import numpy as np

from ._bits import SHIFTER32, fma, scale_pow2
from ._jit import kernel
from ._math import (
    by_dtype,
    exp_lean,
    exp_neg,
    log1p,
    scaled_sigmoid,
    softplus_split32,
    times_sigmoid,
    two_prod,
)
from ._math import tanh as _tanh

f32 = np.float32
SH32 = f32(SHIFTER32)


@kernel
def sigmoid(x):
    return scaled_sigmoid(type(x)(1), x)


def _sigmoid_grad64(g, x):
    e = exp_neg(-abs(x))  # sigmoid(x) sigmoid(-x) = e / (1 + e)**2, e = exp(-|x|)
    r = 1.0 / (1.0 + e)
    return g * (e * r * r)


def _sigmoid_grad32(g, x):
    # in float64 (in float32: exp, a reciprocal and two products reach ~4.4 ULP), rounded once
    e = exp_lean(-abs(np.float64(x)))  # sigmoid(x) sigmoid(-x) = e / (1 + e)**2, e = exp(-|x|)
    r = 1.0 / (1.0 + e)
    return np.float32(np.float64(g) * (e * r * r))


_sigmoid_grad = by_dtype("sigmoid_grad", _sigmoid_grad32, _sigmoid_grad64)


@kernel
def sigmoid_grad(g, x):
    return _sigmoid_grad(g, x)


def _logsigmoid64(x):
    # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))
    return (x if x < 0.0 else 0.0) - log1p(exp_neg(-abs(x)))


def _logsigmoid32(x):
    s, lo, kf = softplus_split32(-x, f32(0))
    y = -scale_pow2(s + lo, kf)  # -softplus(-x), rounded once
    y = y if y != f32(0) else f32(0)  # +0 where it underflows, as torch's min(x, 0) - log1p(...)
    return y if x >= f32(-30) else x  # -softplus(-x) = x to within 2**-44 x; NaN: x itself


_logsigmoid = by_dtype("logsigmoid", _logsigmoid32, _logsigmoid64)


@kernel
def logsigmoid(x):
    return _logsigmoid(x)


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


def _tanh_grad64(g, x):
    return _tanh_grad_e(g, exp_neg(-2.0 * abs(x)))


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
    e = exp_neg(-abs(z))
    r = 1.0 / (1.0 + e)
    s = r if z > 0.0 else e * r  # sigmoid(z): d softplus / dz
    y = ((z if z > 0.0 else 0.0) + log1p(e) + ze * s) / beta
    y = y if z == z else z
    return x if z > threshold else y


def _softplus32(x, beta, threshold):
    # float32 throughout (softplus_split32; the float64 evaluation it replaced took twice as
    # long). z's rounding error enters the exponential and the linear part. The division by beta
    # keeps the split's unrounded sum: a product with the (hoisted) reciprocal of bs = beta 2**-n,
    # a normal number within 2**+-64 for every beta, subnormal included, then one correction step
    # from the remainder, then 2**(k + n) with the split's 2**k. Above z = 30 softplus(z) / beta
    # is x to within x 2**-44 (z > threshold or not).
    z, ze = two_prod(x, beta)
    ab = abs(beta)
    n = f32(-64) if ab < f32(2.0**-60) else (f32(64) if ab > f32(2.0**60) else f32(0))
    bs = beta * scale_pow2(f32(1), SH32 - n)  # exact
    rb = f32(1) / bs
    s, lo, kf = softplus_split32(z, ze)
    y = s + lo
    q = y * rb
    y = q + (fma(-q, bs, s) + lo) * rb  # (beta = 0 is refused by the registry)
    y = scale_pow2(y, max(kf - n, SH32 - f32(252)))
    y = y if z == z else z  # NaN: the input's own
    return x if (z > threshold or z > f32(30)) else y


_softplus = by_dtype("softplus", _softplus32, _softplus64, key=0)


@kernel
def softplus(x, beta, threshold):
    return _softplus(x, beta, threshold)


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
    "tanh",
    "tanh_grad",
    "tanh_grad_result",
]
