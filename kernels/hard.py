"""Hard (piecewise) approximations of the sigmoid, swish and softplus.

Computed natively in the input's type with torch's formulas: ``hardsigmoid = relu6(x + 3) / 6``,
``hardswish = x * relu6(x + 3) / 6`` (as ``x`` itself for ``x >= 3``, so it cannot overflow); and
with JAX's: ``sparse_sigmoid = clip(x + 1, 0, 2) / 2``, ``sparse_plus`` its integral (0 below -1,
``(x + 1)**2 / 4`` up to 1, x above).
"""

from ._jit import kernel


@kernel
def hardsigmoid(x):
    T = type(x)
    y = x + T(3)
    y = T(0) if y < T(0) else y  # selects, one exit: LLVM vectorizes it (NaN passes)
    y = T(6) if y > T(6) else y
    return y / T(6)


@kernel
def hardsigmoid_grad(g, x):
    # gradient 1/6 only on the open interval (-3, 3) (NaN -> 0, as torch)
    T = type(x)
    return g / type(g)(6) if (x > T(-3) and x < T(3)) else type(g)(0)


@kernel
def hardswish(x):
    T = type(x)
    y = x * (x + T(3)) / T(6)
    y = x if x >= T(3) else y  # as x itself: x * 6 / 6 could overflow
    return -T(0) if x <= T(-3) else y  # torch: x * 0 / 6 = -0 for x <= -3


@kernel
def hardswish_grad(g, x):
    # torch's branches: x <= -3 -> 0; x < 3 -> g * (x / 3 + 1/2); else g (so NaN passes g).
    # x / 3 + 1/2 cancels near x = -1.5 (hundreds of ULP); (2x + 3) / 6 is exact until the divide.
    T = type(x)
    d = (x + x + T(3)) / T(6)
    d = T(1) if not (x < T(3)) else d
    return type(g)(0) if x <= T(-3) else g * d


@kernel
def sparse_sigmoid(x):
    # JAX: 0.5 * clip(x + 1, 0, 2) (NaN passes)
    T = type(x)
    y = x + T(1)
    y = T(0) if y < T(0) else y
    y = T(2) if y > T(2) else y
    return y * T(0.5)


@kernel
def sparse_sigmoid_grad(g, x):
    # 1/2 on (-1, 1) and 0 outside (NaN included), 1/4 at -1 and 1 (JAX's clip gives each side
    # of a tie half the gradient)
    T = type(x)
    d = T(0.5) if (x > T(-1) and x < T(1)) else T(0)
    d = T(0.25) if (x == T(-1) or x == T(1)) else d
    return g * d


@kernel
def sparse_plus(x):
    # JAX: 0 for x <= -1, x for x >= 1, (x + 1)**2 / 4 between: ((x + 1) / 2)**2 is the same
    # rounding (the halving is exact); NaN passes
    T = type(x)
    h = (x + T(1)) * T(0.5)
    y = x if x >= T(1) else h * h
    return T(0) if x <= T(-1) else y


@kernel
def sparse_plus_grad(g, x):
    # sparse_plus' = sparse_sigmoid: 0 up to -1, (x + 1) / 2, 1 from 1 (JAX's branches; NaN
    # gives NaN)
    return g * sparse_sigmoid(x)


#: this family's public kernels, re-exported by fastact.kernels
__all__ = [
    "hardsigmoid",
    "hardsigmoid_grad",
    "hardswish",
    "hardswish_grad",
    "sparse_plus",
    "sparse_plus_grad",
    "sparse_sigmoid",
    "sparse_sigmoid_grad",
]
