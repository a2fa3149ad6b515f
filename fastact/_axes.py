"""The axis-wise kind's axes, shared by the host, device and dask paths: which axes a call
reduces, the reduced shape, and how the rows of a contiguous array lie in memory."""

from __future__ import annotations

import math
import numbers

import numpy as np


def norm_axes(name, axis, ndim):
    """The sorted tuple of non-negative axes ``axis`` names (None: all)."""
    if axis is None:
        return tuple(range(ndim))
    single = isinstance(axis, numbers.Integral)
    items = (axis,) if single else axis
    if not isinstance(items, tuple | list) or any(
            isinstance(a, bool | np.bool_) or not isinstance(a, numbers.Integral) for a in items):
        raise TypeError(f"{name}: axis must be an integer, a tuple of integers or None, got "
                        f"{axis!r}")
    span = max(ndim, 1)  # a 0-d array reduces as one element along axis 0 or -1
    out = []
    for a in items:
        if not -span <= a < span:
            raise np.exceptions.AxisError(int(a), ndim, name)
        out.append(int(a) % span)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {tuple(items)}")
    return tuple(sorted(out)) if ndim else ()


def geometry(shape, axes, order):
    """``(outer, L, inner)`` of a contiguous array of ``shape`` in ``order`` reduced along
    ``axes``, or None where the axes are not neighbours in memory."""
    if order == "F":
        shape = shape[::-1]
        axes = sorted(len(shape) - 1 - a for a in axes)
    if not axes:
        return math.prod(shape), 1, 1
    if list(axes) != list(range(axes[0], axes[-1] + 1)):
        return None
    return (math.prod(shape[:axes[0]]), math.prod(shape[axes[0]:axes[-1] + 1]),
            math.prod(shape[axes[-1] + 1:]))


def reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)
