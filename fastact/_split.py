"""The gated kind's two call forms and the geometry of the split form, shared by the host,
device and dask paths: which argument is what, the halved shape, and how the halves of a
contiguous array lie in memory."""

from __future__ import annotations

import math
import numbers

import numpy as np


def form(name, up, axis):
    """(up or None, axis): an integer second argument is the axis (torch's ``dim``)."""
    if isinstance(up, numbers.Integral) and not isinstance(up, bool | np.bool_):
        if axis is not None:
            raise TypeError(f"{name}() got the axis twice: as its second argument ({up}) and "
                            f"as axis={axis}")
        return None, int(up)
    return up, -1 if axis is None else axis


def norm_axis(name, axis, ndim):
    if isinstance(axis, bool | np.bool_) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{name}: axis must be an integer, got {type(axis).__name__}")
    if ndim == 0:
        raise ValueError(f"{name}: the split form needs an array with an axis to halve; got a "
                         "0-d input (pass gate and up for the two-input form)")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(int(axis), ndim, name)
    return int(axis) % ndim


def half(name, shape, axis):
    length = shape[axis]
    if length % 2:
        raise ValueError(f"{name}: x has length {length} along axis {axis}, which is odd: the "
                         "split form takes its first and second halves")
    return shape[:axis] + (length // 2,) + shape[axis + 1:]


def split_geometry(shape, axis, order):
    """(rows, n) of the halves of a contiguous array of ``shape`` along ``axis`` in ``order``:
    row r of the gate starts at flat element ``2 n r``, of up at ``2 n r + n``."""
    if order == "F":  # the C layout of the reversed shape
        shape, axis = shape[::-1], len(shape) - 1 - axis
    rows = math.prod(shape[:axis])
    return rows, (shape[axis] // 2) * math.prod(shape[axis + 1:])


def reduce_to(full, shape):
    """``full`` (a NumPy or dask array) summed over the axes along which an input of ``shape``
    was broadcast to it: the gradient of that input."""
    shape = tuple(shape)
    if tuple(full.shape) == shape:
        return full
    lead = full.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and full.shape[lead + i] != 1)
    with np.errstate(over="ignore", invalid="ignore"):  # inf, or NaN from inf - inf: no warning
        return full.sum(axis=axes, keepdims=True).reshape(shape)
