"""Scalar activation kernels: the math of every activation, written once.

Installed as ``fastact.kernels``. Each activation ``f`` has a forward kernel ``f(x, *params)`` and a
gradient kernel ``f_grad(g, x, *params) = g * f'(x)``; all are ``@njit(inline="always")`` scalar
functions, with no arrays, dispatch or I/O. The backends in ``fastact.backends`` compile them into
array loops; ``fastact.registry`` says which kernel pair belongs to which public activation.
"""

from .exponential import celu, celu_grad, elu, elu_grad, selu, selu_grad
from .gated import (
    gelu,
    gelu_grad,
    gelu_tanh,
    gelu_tanh_grad,
    mish,
    mish_grad,
    silu,
    silu_grad,
    swish,
    swish_grad,
)
from .hard import hardsigmoid, hardsigmoid_grad, hardswish, hardswish_grad
from .rectifier import (
    hardtanh,
    hardtanh_grad,
    leaky_relu,
    leaky_relu_grad,
    prelu,
    prelu_grad,
    prelu_weight_grad,
    relu,
    relu6,
    relu6_grad,
    relu_grad,
)
from .sigmoidal import (
    logsigmoid,
    logsigmoid_grad,
    sigmoid,
    sigmoid_grad,
    softplus,
    softplus_grad,
    softsign,
    softsign_grad,
    tanh,
    tanh_grad,
)

__all__ = [
    "celu",
    "celu_grad",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "gelu_tanh",
    "gelu_tanh_grad",
    "hardsigmoid",
    "hardsigmoid_grad",
    "hardswish",
    "hardswish_grad",
    "hardtanh",
    "hardtanh_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "logsigmoid",
    "logsigmoid_grad",
    "mish",
    "mish_grad",
    "prelu",
    "prelu_grad",
    "prelu_weight_grad",
    "relu",
    "relu6",
    "relu6_grad",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "silu",
    "silu_grad",
    "softplus",
    "softplus_grad",
    "softsign",
    "softsign_grad",
    "swish",
    "swish_grad",
    "tanh",
    "tanh_grad",
]
