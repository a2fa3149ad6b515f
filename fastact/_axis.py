"""The axis-wise kind's public functions: softmax, log_softmax, softmin, logsumexp, sparsemax and
their gradients, a reduction along ``axis`` and a map.

- ``axis``: an integer (default -1), a tuple of integers, or None (the whole array, as scipy's);
  a 0-d array is one row of one element.
- ``where=``: a boolean array broadcast to x's shape; False elements are left out of the
  reduction and give 0 (-inf for log_softmax; for logsumexp they are only left out), as JAX's.
- The gradients take ``x`` or ``result=`` (the forward's output: softmax, softmin, log_softmax
  and sparsemax need nothing else; logsumexp's takes both or x alone) and return grad_x in one
  pass over each row.

A contiguous x (C or Fortran order) whose reduced axes are neighbours in memory is read in place:
its memory is ``(outer, L, inner)`` with the reduced elements in the middle, and the loops take
any ``inner`` (the last axis or another) without transposing. Other layouts, axes that are not
neighbours, float16 and integers go through one contiguous copy in the computing dtype. Every
check happens before the first write.
"""

from __future__ import annotations

import math

import numpy as np

from . import _dask, _device, dispatch, hardware
from ._axes import geometry, norm_axes, reduced_shape
from ._binding import (
    as_array,
    check_out,
    check_writeable,
    common_order,
    deliver,
    on_device,
    refuse_out_with_inplace,
    shares,
)
from ._dtypes import common_dtypes, storage


class _Call:
    """One call's arrays in the layout the loops read: the flat views and the geometry."""

    def __init__(self, name, x, axes, compute, extra=()):
        self.name = name
        self.shape = x.shape
        self.axes = axes
        arrays = [x, *extra]
        order = common_order(arrays) if all(a.dtype == compute for a in arrays) else None
        geo = geometry(x.shape, axes, order) if order is not None else None
        self.moved = None
        if geo is None:  # through a contiguous copy, the reduced axes moved to the end
            keep = [i for i in range(x.ndim) if i not in axes]
            self.moved = keep + list(axes)
            arrays = [None if a is None else np.ascontiguousarray(
                np.transpose(a, self.moved), dtype=compute if a.dtype != bool else bool)
                for a in arrays]
            order = "C"
            n = len(axes)
            geo = (math.prod(arrays[0].shape[:x.ndim - n]), math.prod(arrays[0].shape[x.ndim - n:]),
                   1)
        self.order = order
        self.outer, self.L, self.inner = geo
        self.arrays = arrays

    def mask(self, mask):
        """``where=`` (broadcast to x's shape) as a bool array in the loops' layout, or None."""
        if mask is None:
            return None
        if self.moved is not None:
            mask = np.transpose(mask, self.moved)
        return np.array(mask, dtype=bool, order=self.order, copy=True)

    def flat(self, a):
        return None if a is None else a.reshape(-1, order=self.order)

    def empty(self, dtype, reduced=False):
        """A new array for the full result (or the reduced one), in the layout of the views."""
        if reduced:
            return np.empty(self.outer * self.inner, dtype)
        shape = self.arrays[0].shape
        return np.empty(shape, dtype, order=self.order)

    def to_shape(self, res, reduced=False, keepdims=False):
        """The loops' result as an array of the call's (or the reduced) shape."""
        if reduced:  # (outer, inner) in the views' order: the kept axes in theirs
            res = res.reshape(reduced_shape(self.shape, self.axes, False), order=self.order)
            return res.reshape(reduced_shape(self.shape, self.axes, True)) if keepdims else res
        if self.moved is not None:
            res = np.transpose(res, np.argsort(self.moved))
        return res

    def reduced_flat(self, a):
        """A reduced operand (the kept axes, in order) as the loops' flat (outer, inner)."""
        if a is None:
            return None
        return np.asarray(a).reshape(-1, order=self.order) if a.flags.c_contiguous == (
            self.order == "C") or a.ndim <= 1 else np.array(a, order=self.order).reshape(
            -1, order=self.order)


def _where(name, where, shape):
    if where is None:
        return None
    w = np.asarray(where)
    if w.dtype != bool:
        raise TypeError(f"{name}: where must be a boolean array, got dtype {w.dtype}")
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"{name}: where of shape {w.shape} does not broadcast to x's shape "
                         f"{shape}") from None


def _run(spec, loop, arrays, call, compute, backend, shape, scalars=()):
    impl = dispatch.backend_for(backend, spec, shape, compute)
    impl.run_axis(loop, arrays, scalars, call.outer, call.L, call.inner, compute.itemsize)


def loop_scalars(spec, compute):
    """The loops' trailing scalars of a softmax-family activation: its sign (in the computing
    dtype) and whether it returns the log."""
    return (compute.type(spec.sign), spec.log) if spec.reduction == "softmax" else ()


# -- forward ---------------------------------------------------------------------------------


def _check_options(spec, name, keepdims, where):
    if keepdims and not spec.reduces:
        raise TypeError(f"{name}() got an unexpected argument keepdims (the result keeps x's "
                        "shape)")
    if where is not None and not spec.masks:
        raise TypeError(f"{name}() got an unexpected keyword argument 'where'")


def forward(spec, x, axis, keepdims, where, out, backend, stream=None):
    name = spec.name
    _check_options(spec, name, keepdims, where)
    requested = backend
    backend = dispatch.resolve(backend)
    if on_device(x) or on_device(out) or on_device(where):
        return _device.axis_forward(spec, x, axis, keepdims, where, out, backend, stream)
    if _dask.is_dask(x) or _dask.is_dask(where):
        return _dask.axis_forward(spec, x, axis, keepdims, where, out, requested, forward)
    arr = as_array(x)
    compute, result = common_dtypes(name, [arr.dtype])
    axes = norm_axes(name, axis, arr.ndim)
    if arr.ndim == 0:
        res = forward(spec, arr.reshape(1), 0, keepdims, None if where is None else
                      np.asarray(where).reshape(1), None, requested)
        res = np.asarray(res).reshape(()) if not spec.reduces or not keepdims else res
        return deliver(np.asarray(res, dtype=result), out, result)
    shape = reduced_shape(arr.shape, axes, keepdims) if spec.reduces else arr.shape
    mask = _where(name, where, arr.shape)
    if out is not None:
        check_out(name, out, shape, result)
    else:
        hardware.check_fits(name, math.prod(shape) * result.itemsize)
    if spec.reduces and math.prod(shape) and not arr.size:  # sums over empty rows
        return deliver(np.full(shape, -np.inf, result), out, result)
    if not arr.size:
        return deliver(np.empty(shape, result), out, result)
    held = storage(compute, result)
    src = arr if arr.dtype == held else arr.astype(held)
    call = _Call(name, src, axes, held)
    cx = call.arrays[0]
    m = call.mask(mask)
    if spec.reduces:
        res = call.empty(held, reduced=True)
        args = (call.flat(cx), call.flat(m), res)
        _run(spec, "logsumexp", args, call, compute, backend, arr.shape)
        return deliver(call.to_shape(res, reduced=True, keepdims=keepdims), out, result)
    direct = (out is not None and call.moved is None and out.dtype == held
              and common_order([out]) == call.order and not shares(out, arr))
    res = out if direct else call.empty(held)
    if spec.reduction == "sparsemax":
        args = (call.flat(cx), call.flat(res))
        _run(spec, "sparsemax", args, call, compute, backend, arr.shape)
    else:
        args = (call.flat(cx), call.flat(m), call.flat(res))
        _run(spec, "softmax", args, call, compute, backend, arr.shape, loop_scalars(spec, compute))
    return deliver(call.to_shape(res), out, result)


# -- gradients -------------------------------------------------------------------------------


def grad(spec, grad_output, x, axis, keepdims, where, result, out, inplace, backend,
         stream=None):
    name = f"{spec.name}_grad"
    _check_options(spec, name, keepdims, where)
    requested = backend
    backend = dispatch.resolve(backend)
    if any(on_device(a) for a in (grad_output, x, result, out, where)):
        return _device.axis_grad(spec, grad_output, x, axis, keepdims, where, result, out,
                                 inplace, backend, stream)
    if any(_dask.is_dask(a) for a in (grad_output, x, result, where)):
        return _dask.axis_grad(spec, grad_output, x, axis, keepdims, where, result, out,
                               inplace, requested, grad)
    if spec.reduces:
        if x is None:
            raise TypeError(f"{name}: needs x (result= alone does not determine the gradient)")
    elif (x is None) == (result is None):
        raise TypeError(f"{name}: pass x or result= (the forward's output), not both"
                        if x is not None else f"{name}: pass x or result= (the forward's output)")
    g = as_array(grad_output)
    xa = as_array(x) if x is not None else None
    ya = as_array(result) if result is not None else None
    full = xa if xa is not None else ya
    compute, res_dtype = common_dtypes(name, [a.dtype for a in (g, xa, ya) if a is not None])
    axes = norm_axes(name, axis, full.ndim)
    if full.ndim == 0:
        gg = g.reshape(()) if spec.reduces else g
        res = grad(spec, gg if spec.reduces else np.reshape(gg, 1), None if xa is None else
                   xa.reshape(1), 0, False, None if where is None else
                   np.asarray(where).reshape(1), None if ya is None else
                   (ya.reshape(()) if spec.reduces else ya.reshape(1)), None, False, requested)
        return deliver(np.asarray(res, dtype=compute).reshape(()), out, res_dtype)
    if xa is not None and ya is not None:
        want = reduced_shape(xa.shape, axes, keepdims) if spec.reduces else xa.shape
        if ya.shape != want:
            raise ValueError(f"{name}: result has shape {ya.shape}, but the forward's output "
                             f"has shape {want}")
    if spec.reduces:
        gshape = reduced_shape(full.shape, axes, keepdims)
        if np.broadcast_shapes(g.shape, gshape) != gshape:
            raise ValueError(f"{name}: grad_output of shape {g.shape} does not broadcast to the "
                             f"result's shape {gshape}")
    elif np.broadcast_shapes(g.shape, full.shape) != full.shape:
        raise ValueError(f"{name}: grad_output of shape {g.shape} does not broadcast to the "
                         f"result's shape {full.shape}")
    mask = _where(name, where, full.shape) if spec.masks else None
    if inplace:
        refuse_out_with_inplace(name, out)
        if spec.reduces:
            raise ValueError(f"{name}: inplace=True needs grad_output of x's shape; logsumexp's "
                             "is reduced: pass out=")
        if not isinstance(grad_output, np.ndarray):
            raise TypeError(f"{name}: inplace=True needs grad_output to be a NumPy array")
        check_writeable(name, grad_output, "grad_output (inplace=True)")
        if grad_output.shape != full.shape or grad_output.dtype != res_dtype:
            raise ValueError(f"{name}: inplace=True needs grad_output of the gradient's shape "
                             f"{full.shape} and dtype {res_dtype}")
        out = grad_output
    elif out is not None:
        check_out(name, out, full.shape, res_dtype)
    else:
        hardware.check_fits(name, full.size * res_dtype.itemsize)
    if not full.size:
        return deliver(np.empty(full.shape, compute), out, res_dtype)
    held = storage(compute, res_dtype)
    if spec.reduces:
        g_red = np.ascontiguousarray(np.broadcast_to(g, gshape), dtype=compute)
        g_red = g_red.reshape(reduced_shape(full.shape, axes, False))
        lse = None if ya is None else np.ascontiguousarray(ya, dtype=compute).reshape(
            g_red.shape)
        src = xa if xa.dtype == held else xa.astype(held)
        call = _Call(name, src, axes, held)
        m = call.mask(mask)
        if lse is None:  # NaN: the loop computes each row's logsumexp
            lse = np.full(g_red.shape, np.nan, compute)
        g_flat, lse_flat = call.reduced_flat(g_red), call.reduced_flat(lse)
        res = call.empty(held)
        args = (g_flat, call.flat(call.arrays[0]), lse_flat, call.flat(m), call.flat(res))
        _run(spec, "logsumexp_grad", args, call, compute, backend, full.shape)
        return deliver(call.to_shape(res), out, res_dtype)
    gb = g if g.shape == full.shape else np.broadcast_to(g, full.shape)
    gb = gb if gb.dtype == held else gb.astype(held)
    other = full if full.dtype == held else full.astype(held)
    call = _Call(name, gb, axes, held, extra=(other,))
    cg, co = call.arrays
    m = call.mask(mask)
    if spec.reduction == "sparsemax" and xa is not None:  # the support from sparsemax(x)
        co = call.empty(compute)
        _run(spec, "sparsemax", (call.flat(call.arrays[1]), call.flat(co)), call, compute,
             backend, full.shape)
        xa = None
    direct = (out is not None and call.moved is None and out.dtype == held
              and common_order([out]) == call.order and not shares(out, co)
              and (out is grad_output or not shares(out, cg)))
    res = out if direct else call.empty(held)
    if spec.reduction == "sparsemax":
        args = (call.flat(cg), call.flat(co), call.flat(res))
        _run(spec, "sparsemax_grad", args, call, compute, backend, full.shape)
    else:
        loop = "softmax_grad_x" if xa is not None else "softmax_grad"
        args = (call.flat(cg), call.flat(co), call.flat(m), call.flat(res))
        _run(spec, loop, args, call, compute, backend, full.shape, loop_scalars(spec, compute))
    return deliver(call.to_shape(res), out, res_dtype)
