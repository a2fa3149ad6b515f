"""Piecewise-linear rectifiers, thresholds and shrinkage: relu, relu6, hardtanh, leaky_relu,
prelu, rrelu, threshold, hardshrink and softshrink; and squared_relu, relu(x)**2.

Exact in every dtype (at most one rounding, in ``x * slope``), computed natively in the input's
type. Conventions are PyTorch's: ``relu(-0.0) == -0.0``; NaN in gives NaN out; gradients at NaN
pass ``g`` through where torch's comparisons do.
"""

from ._jit import kernel


@kernel
def relu(x):
    zero = type(x)(0)
    return zero if x < zero else x


@kernel
def relu_grad(g, x):
    # torch's threshold_backward: x <= 0 -> 0 (so relu'(0) = 0), else g (NaN passes g)
    return type(g)(0) if x <= type(x)(0) else g


@kernel
def squared_relu(x):
    # relu(x)**2, rounded once (+0 for x <= 0; NaN passes)
    r = relu(x)
    return r * r


@kernel
def squared_relu_grad(g, x):
    # 2 relu(x) g, as torch's autograd of relu(x)**2: +0 where x <= 0 (threshold_backward), NaN
    # at NaN; x + x is exact
    return type(g)(0) if x <= type(x)(0) else g * (x + x)


@kernel
def hardtanh(x, min_val, max_val):
    if x < min_val:
        return min_val
    if x > max_val:
        return max_val
    return x


@kernel
def hardtanh_grad(g, x, min_val, max_val):
    # gradient only strictly inside (min_val, max_val): 0 at NaN, as torch's vectorized loop
    # (its scalar tail loop passes g at NaN; see README, "Deviations")
    return g if (x > min_val and x < max_val) else type(g)(0)


@kernel
def relu6(x):
    T = type(x)
    return hardtanh(x, T(0), T(6))


@kernel
def relu6_grad(g, x):
    T = type(x)
    return hardtanh_grad(g, x, T(0), T(6))


@kernel
def leaky_relu(x, negative_slope):
    return x if x > type(x)(0) else x * negative_slope


@kernel
def leaky_relu_grad(g, x, negative_slope):
    # leaky_relu'(0) = negative_slope, as in torch
    return g if x > type(x)(0) else g * negative_slope


# prelu is leaky_relu with a learned (per-channel) slope: the same element-wise math.
prelu = leaky_relu
prelu_grad = leaky_relu_grad


# rrelu outside training is leaky_relu with the slope (lower + upper) / 2, which the registry
# computes and rounds once (as torch); in training each element's slope is drawn (rrelu_noise)
rrelu = leaky_relu
rrelu_grad = leaky_relu_grad


@kernel
def rrelu_noise(u, x, lower, upper):
    """rrelu's multiplier of ``x`` in training, from a uniform sample ``u`` in [0, 1): a slope
    ``lower + (upper - lower) u`` where ``x <= 0``, else 1 (NaN included: torch's ``input <= 0``
    test); the forward is ``x`` times it, the gradient ``g`` times it."""
    T = type(u)
    return lower + (upper - lower) * u if x <= type(x)(0) else T(1)


@kernel
def prelu_weight_grad(g, x):
    """One element's contribution to d(loss)/d(weight): ``g * x`` where ``x <= 0``."""
    return type(g)(0) if x > type(x)(0) else g * x


@kernel
def threshold(x, threshold, value):
    # torch: value where x <= threshold, else x (NaN passes)
    return value if x <= threshold else x


@kernel
def threshold_grad(g, x, threshold, value):
    # torch's threshold_backward: 0 where x <= threshold, else g (NaN passes g)
    return type(g)(0) if x <= threshold else g


@kernel
def hardshrink(x, lambd):
    # torch: the closed interval [-lambd, lambd] maps to +0; outside it (and at NaN) x itself
    return type(x)(0) if (x >= -lambd and x <= lambd) else x


@kernel
def hardshrink_grad(g, x, lambd):
    # g only strictly outside [-lambd, lambd]: 0 at NaN, as torch's vectorized shrink_backward
    # (its scalar tail loop passes g)
    return g if (x < -lambd or x > lambd) else type(g)(0)


@kernel
def hardshrink_grad_result(g, y, lambd):
    # from the output (lambd >= 0): y is 0 exactly on [-lambd, lambd]; NaN gives 0 as above
    T = type(y)
    return g if (y < T(0) or y > T(0)) else type(g)(0)


@kernel
def softshrink(x, lambd):
    # torch: x - lambd above lambd, x + lambd below -lambd, +0 on [-lambd, lambd] (as its
    # vectorized loop; the scalar tail loop returns x * 0); NaN passes
    if x >= -lambd and x <= lambd:
        return type(x)(0)
    return x - lambd if x > lambd else x + lambd


# the gradient is hardshrink's: g strictly outside [-lambd, lambd], 0 at NaN; from the output,
# y is 0 exactly on that interval
softshrink_grad = hardshrink_grad
softshrink_grad_result = hardshrink_grad_result


#: this family's public kernels, re-exported by fastact.kernels
__all__ = [
    "hardshrink",
    "hardshrink_grad",
    "hardshrink_grad_result",
    "hardtanh",
    "hardtanh_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "prelu",
    "prelu_grad",
    "prelu_weight_grad",
    "relu",
    "relu6",
    "relu6_grad",
    "relu_grad",
    "rrelu",
    "rrelu_grad",
    "rrelu_noise",
    "softshrink",
    "softshrink_grad",
    "softshrink_grad_result",
    "squared_relu",
    "squared_relu_grad",
    "threshold",
    "threshold_grad",
]
