"""Hard (piecewise) approximations of the sigmoid and swish.

Computed natively in the input's type with torch's formulas: ``hardsigmoid = relu6(x + 3) / 6``,
``hardswish = x * relu6(x + 3) / 6`` (as ``x`` itself for ``x >= 3``, so it cannot overflow).
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


#: this family's public kernels, re-exported by fastact.kernels
__all__ = [
    "hardsigmoid",
    "hardsigmoid_grad",
    "hardswish",
    "hardswish_grad",
]
