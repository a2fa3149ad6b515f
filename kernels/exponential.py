"""Exponential linear units: elu, celu, selu.

Forward ``x > 0 ? x : alpha * expm1(x)``; the gradient uses torch's ``x <= 0`` branch, so
``elu'(0) = alpha``, ``celu'(0) = 1`` and ``selu'(0) = scale * alpha``; NaN takes the linear branch.
The ``*_grad_result`` kernels take the output ``y`` instead of ``x`` (valid for ``alpha >= 0``,
where ``y <= 0`` exactly when ``x <= 0``), as torch's ``elu_backward(..., is_result=True)``:
``grad * input_scale * (y + scale * alpha)`` on the negative side.
"""

from ._jit import kernel
from ._math import exp, expm1

#: SELU's constants (Klambauer et al. 2017), as in torch.
kSeluAlpha = 1.6732632423543772848170429916717
kSeluScale = 1.0507009873554804934193349852946


@kernel
def elu(x, alpha):
    return x if not (x <= type(x)(0)) else alpha * expm1(x)


@kernel
def elu_grad(g, x, alpha):
    return g if not (x <= type(x)(0)) else g * (alpha * exp(x))


@kernel
def celu(x, alpha):
    # torch: elu(x, alpha, input_scale=1/alpha)
    return x if not (x <= type(x)(0)) else alpha * expm1(x / alpha)


@kernel
def celu_grad(g, x, alpha):
    return g if not (x <= type(x)(0)) else g * exp(x / alpha)


@kernel
def selu(x):
    T = type(x)
    return T(kSeluScale) * (x if not (x <= T(0)) else T(kSeluAlpha) * expm1(x))


@kernel
def selu_grad(g, x):
    T = type(x)
    return g * (T(kSeluScale) if not (x <= T(0)) else T(kSeluScale * kSeluAlpha) * exp(x))


@kernel
def elu_grad_result(g, y, alpha):
    # elu'(x) = alpha * exp(x) = y + alpha for x <= 0
    return g if not (y <= type(y)(0)) else g * (y + alpha)


@kernel
def celu_grad_result(g, y, alpha):
    # celu'(x) = exp(x / alpha) = (y + alpha) / alpha for x <= 0
    return g if not (y <= type(y)(0)) else (g * (type(y)(1) / alpha)) * (y + alpha)


@kernel
def selu_grad_result(g, y):
    # selu'(x) = scale * alpha * exp(x) = y + scale * alpha for x <= 0
    T = type(y)
    return g * (T(kSeluScale) if not (y <= T(0)) else y + T(kSeluScale * kSeluAlpha))


#: this family's public kernels, re-exported by fastact.kernels
__all__ = [
    "celu",
    "celu_grad",
    "celu_grad_result",
    "elu",
    "elu_grad",
    "elu_grad_result",
    "selu",
    "selu_grad",
    "selu_grad_result",
]
