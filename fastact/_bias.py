"""``bias=``: an element-wise activation of ``x + bias``, and its gradient with the bias's.

``f(x, bias=b)`` is ``f(x + b)``, bit for bit: the sum is formed in the dtype NumPy gives
``x + b`` (a Python scalar bias is weak, as in NumPy) and the activation applied to it. Where
x and the bias share one loop dtype (float32, float64 or bfloat16), x is contiguous (C or
Fortran order) and the bias's broadcast has the geometry below, the generated loops of
fastact.backends._bias_loops do both in one pass over memory; otherwise the sum is formed first
(into ``out``, x itself with ``inplace=True``, or a new array) and the activation applied to it
in place.

``f_grad(g, x, bias=b)`` returns ``(grad_input, grad_bias)``: ``grad_input = g * f'(x + b)``
and ``grad_bias`` its sum over the axes along which ``b`` was broadcast, of b's shape, summed
in float64 with compensation (in the same pass, where fused). With ``result=y`` the gradient
comes from the output and the bias only gives grad_bias's shape.

Geometry. The bias seen through its broadcast to x's shape, in x's memory order, is cut into
runs of ``n`` contiguous elements of x (the last axes whose bias strides coalesce): along a run
the bias is a contiguous run of its own (``sn == 1``: a bias over the last axis, or the whole
shape) or one element (``sn == 0``: a per-channel bias such as ``(C, 1, 1)`` on NCHW). The
``rows`` runs then find their bias at ``((r // d) % q) * sq``: at most one group of axes before
the run may move through the bias. Any other broadcast (two separate groups of such axes) is
computed unfused.
"""

from __future__ import annotations

import math

import numpy as np

from . import _dask, dispatch, hardware
from ._binding import (
    as_array,
    check_inplace_x,
    check_out,
    check_writeable,
    on_device,
    refuse_out_with_inplace,
)
from ._dtypes import LOOP_DTYPES, dtypes, is_bf16, storage, words
from .backends.cpu import overwrites, same_memory


def _bias_array(name, bias, x, shape):
    """The bias as an array, checked to broadcast to x's ``shape`` without enlarging it."""
    b = as_array(bias)
    if b.dtype.kind not in "biuf" and not is_bf16(b.dtype):
        raise TypeError(f"{name}: bias must be a real array, got dtype {b.dtype}")
    try:
        ok = np.broadcast_shapes(shape, b.shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: bias of shape {b.shape} does not broadcast to x's shape "
                         f"{shape}")
    return b


def operand(name, bias, arr, shape):
    """(the bias as an array of its own dtype, the dtype of ``x + bias`` in NumPy). A Python
    scalar is weak, as in NumPy: it takes x's dtype where x's kind holds it."""
    if isinstance(bias, (int, float)):
        hd = np.result_type(arr.dtype, bias)
        return np.asarray(bias, dtype=hd), hd
    b = _bias_array(name, bias, arr, shape)
    hd = np.result_type(arr.dtype, b.dtype)
    if b.dtype != hd and hd.kind == "f" and np.can_cast(b.dtype, hd, "safe"):
        b = b.astype(hd)  # exact: NumPy's addition casts it so
    return b, hd


def geometry(bias, shape):
    """``(rows, n, d, q, sq, sn)`` of a C-contiguous ``bias`` broadcast to the C-ordered
    ``shape`` (see the module's docstring), or None where it has no such geometry."""
    view = np.broadcast_to(bias, shape)
    dims = []  # (length, stride in elements) from the outermost axis in, coalesced
    for m, st in zip(shape, view.strides, strict=True):
        if m == 1:
            continue
        st //= max(bias.itemsize, 1)
        if dims and dims[-1][1] == st * m:
            dims[-1] = (dims[-1][0] * m, st)
        else:
            dims.append((m, st))
    if not dims:
        return 1, math.prod(shape), 1, 1, 0, 0
    n, last = dims[-1]
    outer = dims[:-1]
    moving = [i for i, (_, st) in enumerate(outer) if st]
    if len(moving) > 1:
        return None
    rows = math.prod(m for m, _ in outer)
    if not moving:
        return rows, n, 1, 1, 0, int(last != 0)
    i = moving[0]
    return rows, n, math.prod(m for m, _ in outer[i + 1:]), outer[i][0], outer[i][1], \
        int(last != 0)


def fused(arr, b, hd, compute, result, out):
    """The call's operands in memory order, where the fused loops can run it:
    ``(compact bias, order, geometry)``, else None. The compact bias is C-contiguous in the
    loops' element type and x's memory order (Fortran order: the transpose)."""
    held = storage(compute, result)
    if hd != result or arr.dtype != held or b.dtype != held or not arr.size or not (
            held in LOOP_DTYPES or is_bf16(held)):
        return None
    order = "C" if arr.flags.c_contiguous else ("F" if arr.flags.f_contiguous else None)
    if order is None or out is not None and not (
            out.flags.c_contiguous if order == "C" else out.flags.f_contiguous):
        return None
    full = b.reshape((1,) * (arr.ndim - b.ndim) + b.shape)
    compact = full if order == "C" else full.T
    if not compact.flags.c_contiguous:
        compact = compact.copy()
    geo = geometry(compact, arr.shape if order == "C" else arr.shape[::-1])
    return None if geo is None else (compact, order, geo)


def bias_grad(sums, compact, order, b):
    """The bias gradient in ``b``'s shape from the sums in the compact bias's order."""
    total = sums.reshape(compact.shape)
    return (total if order == "C" else total.T).reshape(b.shape)


def backend_name(backend, spec, shape, compute, inplace=False):
    """The name of the backend that runs the call (``inplace``: it overwrites its input)."""
    return (dispatch.choose(backend, spec, shape, compute, inplace)[0] if backend == "auto"
            else backend)


def _run(loop, arrays, geo, scalars, backend, grad=None):
    from .backends import cpu, parallel

    if backend == "parallel":
        return parallel.run_bias(loop, arrays, geo, scalars, grad)
    return cpu.run_bias(loop, arrays, geo, scalars, grad)


def forward(spec, x, params, bias, out, inplace, backend, call, fusable=True):
    """``f(x + bias)``. ``call(h, out, inplace, backend)`` is the plain forward on an array
    ``h`` (the unfused route); ``fusable`` False sends the call that way (a weight, rrelu's
    sampling)."""
    name = spec.name
    requested = backend
    backend = dispatch.resolve(backend)
    if on_device(x) or on_device(out) or on_device(bias):
        raise TypeError(f"{name}: bias= works on NumPy and dask arrays; for CUDA device arrays "
                        "add the bias first")
    if _dask.is_dask(x) or _dask.is_dask(bias):
        return call(x + bias, out, inplace, requested)
    arr = as_array(x)
    b, hd = operand(name, bias, arr, arr.shape)
    compute, result = dtypes(name, hd, spec.keeps_integers)
    if inplace:
        check_inplace_x(name, x, out, result)
        out = x
    elif out is not None:
        check_out(name, out, arr.shape, result)
    if out is not None and np.may_share_memory(b, out):
        b = b.copy()  # else written before it is read
    in_place = overwrites(out, arr)  # (into x's own elements: the in-place loop)
    where = backend_name(backend, spec, arr.shape, compute, in_place)
    plan = fused(arr, b, hd, compute, result, out) if fusable and where != "cuda" else None
    if plan is None:
        if out is not None and out.dtype == hd:
            np.add(arr, b, out=out)
            return call(out, None, True, requested)
        h = np.add(arr, b)
        return call(h, out, out is None and h.dtype == result, requested)
    compact, order, geo = plan
    if out is not None and np.may_share_memory(out, arr) and not same_memory(out, arr):
        arr = arr.copy(order=order)  # a partly overlapping out: x is read before it is written
    res = out
    if res is None:
        hardware.check_fits(name, arr.size * result.itemsize)
        res = np.empty(arr.shape, result, order=order)
    ufname = spec.kernels(params)[0]
    scalars = [compute.type(v) for v in spec.scalars(params)]
    bias_words = words(compact.ravel())
    if in_place:
        _run(f"{ufname}_bias_inplace", [_flat(res, order), bias_words], geo, scalars, where)
    else:
        _run(f"{ufname}_bias", [_flat(arr, order), bias_words, _flat(res, order)], geo, scalars,
             where)
    return res if (out is not None or res.ndim) else res[()]


def _flat(a, order):
    """The 1-D view of contiguous ``a`` in its memory order (bfloat16: its words)."""
    return words(a.ravel(order))


def _reduced_axes(shape, bshape):
    full = (1,) * (len(shape) - len(bshape)) + tuple(bshape)
    return tuple(i for i, (m, k) in enumerate(zip(shape, full, strict=True)) if k == 1 and m != 1)


def reduce(gi, b, dtype):
    """grad_input summed over the axes ``b`` was broadcast along, in ``b``'s shape: float64
    sums (NumPy's pairwise summation along the contiguous axis)."""
    axes = _reduced_axes(gi.shape, b.shape)
    # inf - inf in a sum: NaN, as in the fused sums; a float64 sum past the result dtype: inf
    with np.errstate(invalid="ignore", over="ignore"):
        total = np.sum(gi, axis=axes, dtype=np.float64, keepdims=True) if axes else gi
        return np.array(total, dtype=dtype).reshape(b.shape)


def grad(spec, grad_output, x, params, bias, out, inplace, backend, result, call,
         fusable=True):
    """``(g * f'(x + bias), grad_bias)``. ``call(g, h, out, inplace, from_result, backend)`` is
    the plain gradient (the unfused route); ``result=`` takes x's place (no bias added)."""
    name = f"{spec.name}_grad"
    requested = backend
    backend = dispatch.resolve(backend)
    from_result = result is not None
    if x is not None and from_result:
        raise TypeError(f"{name}() takes x or result=, not both")
    xin = result if from_result else x
    if xin is None:
        raise TypeError(f"{name}() needs x (the forward input) or result= (its output)")
    if any(on_device(a) for a in (grad_output, xin, out, bias)):
        raise TypeError(f"{name}: bias= works on NumPy and dask arrays; for CUDA device arrays "
                        "add the bias first")
    if any(_dask.is_dask(a) for a in (grad_output, xin, bias)):
        h = xin if from_result else xin + bias
        gi = call(grad_output, h, out, inplace, from_result, requested)
        first = gi[0] if isinstance(gi, tuple) else gi
        return _with_bias_grad(gi, reduce_lazy(first, as_array(bias) if not _dask.is_dask(
            bias) else bias))
    arr, g = as_array(xin), as_array(grad_output)
    b, hd = operand(name, bias, arr, arr.shape)
    if from_result:
        hd = arr.dtype
    compute, res_dtype = dtypes(name, np.result_type(hd, g.dtype), spec.keeps_integers)
    try:
        shape = np.broadcast_shapes(g.shape, arr.shape)
    except ValueError:
        raise ValueError(f"{name}: grad_output of shape {g.shape} does not broadcast with x of "
                         f"shape {arr.shape}") from None
    if inplace:
        refuse_out_with_inplace(name, out)
        if not isinstance(grad_output, np.ndarray):
            raise TypeError(f"{name}: inplace=True needs grad_output to be a NumPy array, got "
                            f"{type(grad_output).__name__}")
        check_writeable(name, grad_output, "grad_output (inplace=True)")
        if grad_output.dtype != res_dtype or grad_output.shape != shape:
            raise TypeError(f"{name}: cannot write a {res_dtype}{list(shape)} gradient into "
                            f"grad_output of {grad_output.dtype}{list(grad_output.shape)}; "
                            "pass out=")
        out = grad_output
    elif out is not None:
        check_out(name, out, shape, res_dtype)
    where = backend_name(backend, spec, shape, compute, overwrites(out, g))
    plan = None
    if fusable and g.shape == arr.shape and g.dtype == arr.dtype and where != "cuda":
        plan = fused(arr, b, hd, compute, res_dtype, out)
        if plan is not None and not (g.flags.c_contiguous if plan[1] == "C"
                                     else g.flags.f_contiguous):
            plan = None
    if plan is None:
        h = arr if from_result else np.add(arr, b)
        gi = call(g, h, out, inplace, from_result, requested)
        first = gi[0] if isinstance(gi, tuple) else gi
        return _with_bias_grad(gi, reduce(np.asarray(first), b, res_dtype))
    compact, order, geo = plan
    res = out if out is not None else None
    if res is not None and any(np.may_share_memory(a, res) and not same_memory(a, res)
                               for a in (g, arr)):
        res = None  # partly overlapping: computed apart, then copied into out
    if res is None:
        hardware.check_fits(name, arr.size * res_dtype.itemsize)
        res = np.empty(shape, res_dtype, order=order)
    kernel = f"{spec.name}_grad_result" if from_result else f"{spec.kernels(params)[0]}_grad"
    scalars = [compute.type(v) for v in spec.scalars(params)]
    summed = compact.size != arr.size
    arrays = [_flat(arr, order), words(compact.ravel())]
    if same_memory(res, g):
        loop, arrays = f"{kernel}_bias_inplace", [_flat(res, order), *arrays]
    else:
        loop, arrays = f"{kernel}_bias", [_flat(g, order), *arrays, _flat(res, order)]
    sums = _run(loop, arrays, geo, scalars, where,
                (not from_result, compact.size if summed else 0))
    if out is not None and res is not out:
        out[...] = res
        res = out
    gb = bias_grad(sums, compact, order, b) if summed else res.reshape(b.shape)
    gb = np.array(gb, dtype=res_dtype)
    return (res if (out is not None or res.ndim) else res[()]), gb


def _with_bias_grad(gi, gb):
    """The gradient's result with the bias's appended: ``(grad_input, grad_bias)``, or
    ``(grad_input, grad_weight, grad_bias)`` for an activation with a weight."""
    return (*gi, gb) if isinstance(gi, tuple) else (gi, gb)


def reduce_lazy(gi, b):
    """:func:`reduce` of a dask grad_input (lazy)."""
    axes = _reduced_axes(gi.shape, b.shape)
    total = gi.astype(np.float64).sum(axis=axes, keepdims=True) if axes else gi
    return total.reshape(b.shape).astype(gi.dtype)
