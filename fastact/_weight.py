"""Parameters of kind "weight" (prelu's): a scalar or one value per channel (axis 1).

A weight is passed to the kernels after the real parameters, as an array that broadcasts along
the channel axis; its gradient is the sum of the entry's weight-gradient kernel over all but that
axis, returned beside grad_input.
"""

from __future__ import annotations

import numpy as np

from . import dispatch
from ._dtypes import is_bf16, is_real


def channel_weight(name, x_shape, weight, compute):
    """A "weight" parameter as an array that broadcasts along x's channel axis (axis 1)."""
    w = np.asarray(weight)
    if not is_real(w.dtype):
        raise TypeError(f"{name}: weight has unsupported dtype {w.dtype}")
    if w.ndim > 1:
        raise ValueError(f"{name}: weight must be a scalar or 1-D, got shape {w.shape}")
    w = w.astype(compute)
    if w.ndim == 0 or w.size == 1:
        return w.reshape(())
    channels = x_shape[1] if len(x_shape) >= 2 else None
    if channels is None:
        raise ValueError(
            f"{name}: a {len(x_shape)}-D input has no channel axis and takes a scalar or "
            f"length-1 weight, got length {w.size}"
        )
    if w.size != channels:
        raise ValueError(
            f"{name}: weight has length {w.size}, but x has {channels} channels (x.shape[1])"
        )
    return w.reshape((channels,) + (1,) * (len(x_shape) - 2))


def weight_grad(spec, params, g, arr, w, shape, compute, res_dtype, backend):
    """d(loss)/d(weight): the weight-gradient kernel's per-element contributions, summed over
    all but the channel axis (every axis for a scalar weight)."""
    # the contributions in the computing dtype (a bfloat16 call's loops would round them)
    into = np.empty(shape, compute) if is_bf16(res_dtype) else None
    contrib = dispatch.backend_for(backend, spec, shape, compute).call(
        spec.weight_grad_kernel, [g, arr], into, compute
    )
    contrib = np.broadcast_to(contrib, shape)
    axes = None if w.ndim == 0 else tuple(i for i in range(len(shape)) if i != 1)
    with np.errstate(over="ignore"):  # a float32 sum past float16's range: inf, no warning
        total = np.asarray(weight_sum(contrib, compute, axes), dtype=res_dtype)
    total = total.reshape(np.shape(params[spec.weight_param.name]))
    return total if total.ndim else total[()]


def weight_sum(contrib, dtype, axes=None):
    """A weight's gradient from the per-element contributions (NumPy's pairwise sum)."""
    # a sum of huge values overflows to inf, and one of inf and -inf is NaN, as torch's: no
    # warning
    with np.errstate(over="ignore", invalid="ignore"):
        return contrib.sum(axis=axes, dtype=dtype)
