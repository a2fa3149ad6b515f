"""The element maps of the axis-wise activations: softmax, softmin, log_softmax, logsumexp and
sparsemax, each the final step after a reduction along the axis.

The row loops (``fastact.backends._axis_loops``) reduce a row to its maximum ``m``, the sum
``s = sum(exp(x - m))`` (in float64, compensated) and, for the gradients, a dot product; these
kernels then map each element. The arguments share x's dtype (the row's constants rounded to it):

- ``x - m`` is carried exactly, as ``hi + lo`` (Knuth's TwoSum), and ``lo`` is taken off the
  exponential's reduced argument: a row's small probabilities keep their digits (a plain
  ``exp(x - m)`` loses ``|x - m|`` half-ULPs, 40 ULP at ``x - m = -80``);
- softmax is ``exp_shifted(x, m) * (1/s)``: three roundings after the exponential's own error;
- the gradients' differences may cancel: they are within an ULP or two of their terms.
"""

import numpy as np

from ._bits import fma, scale_pow2_neg
from ._jit import kernel
from ._math import _exp_floor, _exp_split, exp, two_sum


@kernel
def _exp_parts(x, m):
    """``(p, kf)`` with ``exp(x - m) = p 2**k`` for ``x <= m`` (NaN passes), the rounding error
    of ``x - m`` taken off the reduced argument."""
    hi, lo = two_sum(x, -m)
    floor = _exp_floor(hi)
    d = -lo if hi > floor else type(hi)(0)  # lo is NaN at x = -inf
    return _exp_split(max(hi, floor), d)  # NaN passes (the first argument)


@kernel
def exp_shifted(x, m):
    """``exp(x - m)`` for ``x <= m``, as if ``x - m`` were exact; NaN passes."""
    p, kf = _exp_parts(x, m)
    return scale_pow2_neg(p, kf)


@kernel
def log_softmax_term(x, m, log_s):
    """``(x - m) - log(s)``: log_softmax of one element (both terms are <= 0: no cancellation)."""
    hi, lo = two_sum(x, -m)
    d = lo if (lo - lo) == 0 else type(hi)(0)  # lo is NaN at x = -inf
    return (hi - log_s) + d


@kernel
def softmax_grad_term(g, y, dot):
    """``y (g - dot)``, ``dot = sum(g * y)`` over the row: softmax's gradient from its output y
    (ATen's ``_softmax_backward_data``), in y's dtype: within an ULP of the terms ``y g`` and
    ``y dot`` (where they cancel the result is smaller than they are)."""
    return y * (g - dot)


@kernel
def log_softmax_grad_term(g, y, sum_g):
    """``g - exp(y) sum(g)``: log_softmax's gradient from its output y, one FMA after the
    exponential, in y's dtype (within an ULP or two of the terms ``g`` and ``exp(y) sum(g)``)."""
    return fma(-exp(y), sum_g, g)


@kernel
def logsumexp_grad_term(g, x, lse):
    """``g exp(x - lse)``: logsumexp's gradient (the softmax of the row times g)."""
    return g * exp_shifted(x, lse)


@kernel
def sparsemax_term(x, tau):
    """``max(x - tau, 0)``: sparsemax of one element, ``tau`` the row's threshold."""
    d = np.float64(x) - tau
    return d if not d <= 0.0 else 0.0  # NaN passes


@kernel
def sparsemax_grad_term(g, y, mean_g):
    """``g - mean(g over the support)`` where ``y > 0``, else 0: sparsemax's gradient."""
    return np.float64(g) - mean_g if not y <= 0 else 0.0  # NaN passes


__all__ = [
    "exp_shifted",
    "log_softmax_grad_term",
    "log_softmax_term",
    "logsumexp_grad_term",
    "softmax_grad_term",
    "sparsemax_grad_term",
    "sparsemax_term",
]
