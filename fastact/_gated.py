"""The gated kind's public functions: ``f(x, axis=-1)`` on the two halves of x along an axis
(split form) or ``f(gate, up)`` on two arrays (two-input form), and the fused gradients.

- ``f(x)`` / ``f(x, axis=k)`` / ``f(x, k)`` (an integer second argument is the axis, as torch's
  ``dim``): the first half of x along the axis is the gate, the second the up projection; the
  result has x's shape with that axis halved (an odd length is a ValueError).
- ``f(gate, up)``: the two arrays broadcast together.
- ``f_grad(grad_output, x, axis=-1)`` returns grad_x (x's shape); ``f_grad(grad_output, gate,
  up)`` returns ``(grad_gate, grad_up)``, each reduced to its input's shape where it was
  broadcast. ``inplace=True`` writes the gradients into the inputs' memory (x, or gate and up);
  ``out=`` takes an array (split form) or a pair of arrays (two-input form).

A contiguous x (C or Fortran order) is read in place along any axis: its halves are ``rows`` runs
of ``n`` contiguous elements (``n`` = half the axis times the elements after it), the loops index
them with a row stride, and nothing is transposed or copied (bfloat16 too: the loops read its
16-bit words). Other layouts, broadcasting, float16 and integers go through contiguous copies in
the computing dtype. Every check happens before the first write.
"""

from __future__ import annotations

import math

import numpy as np

from . import _bias, _dask, _device, dispatch, hardware
from ._binding import as_array, check_out, check_writeable, on_device, refuse_out_with_inplace
from ._binding import common_order as _order
from ._binding import deliver as _deliver
from ._binding import shares as _shares
from ._dtypes import F32 as _F32
from ._dtypes import common_dtypes, storage, words
from ._split import form as _form
from ._split import half as _half
from ._split import norm_axis as _norm_axis
from ._split import reduce_to as _reduce_to
from ._split import split_geometry as _split_geometry


def _dtypes(name, *arrays):
    return common_dtypes(name, [a.dtype for a in arrays])


def _flat(a, order):
    """The 1-D view of contiguous ``a`` in its memory order (no copy)."""
    return a.reshape(-1, order=order) if a.ndim != 1 else a


class _Operands:
    """The arrays of one call as the row loops see them: 1-D views and their row strides."""

    def __init__(self, views, strides, rows, n):
        self.views, self.strides, self.rows, self.n = views, strides, rows, n


def _split_operands(x, axis, order):
    rows, n = _split_geometry(x.shape, axis, order)
    f = _flat(x, order)
    return rows, n, f, f[n:]


#: (number of operands, in place) -> the operands a gated loop writes: the forward's out (or its
#: gate, in place), the gradient's two outputs (or its gate and up, in place)
_WRITTEN = {(3, False): (2,), (2, True): (0,), (5, False): (3, 4), (3, True): (1, 2)}


def fast_form(spec, kernel, compute, fast_forms=True):
    """The name of gated loop ``kernel`` (``<kernel>[_inplace]``) to run in ``compute``: in
    float32, the loop through the kernel's fast form (``..._f32``) where it has one and the
    backend's loops do (``fast_forms``: the backend module's FAST_FORMS)."""
    if compute == _F32 and fast_forms and kernel.removesuffix("_inplace") in spec.fast_kernels:
        return f"{kernel}_f32"
    return kernel


def _run(spec, kernel, ops, compute, backend, shape, params):
    inplace = kernel.endswith("_inplace")
    impl = dispatch.backend_for(backend, spec, shape, compute, inplace)
    written = _WRITTEN[len(ops.views), inplace]
    kernel = fast_form(spec, kernel, compute, impl.FAST_FORMS)
    impl.run_rows(kernel, ops.views, ops.rows, ops.n, ops.strides,
                  [compute.type(v) for v in spec.scalars(params)], compute.itemsize, written)


def _contiguous(a, dtype, shape=None):
    """``a`` (broadcast to ``shape``) as a new C-contiguous array of ``dtype``."""
    if shape is not None and a.shape != shape:
        a = np.broadcast_to(a, shape)
    return np.array(a, dtype=dtype, order="C", copy=True)


# -- forward ---------------------------------------------------------------------------------


def forward(spec, x, up, axis, params, out=None, inplace=False, backend=None, stream=None,
            bias=None):
    name = spec.name
    up, axis = _form(name, up, axis)
    requested = backend
    backend = dispatch.resolve(backend)
    if bias is not None:
        _refuse_bias(name, x, up, bias, out, stream)
        if _dask.is_dask(x) or _dask.is_dask(bias):
            return forward(spec, x + bias, None, axis, params, out, inplace, requested)
        return _bias_forward(spec, spec.kernels(params)[0], params, x, axis, bias, out,
                             inplace, backend)
    if any(on_device(a) for a in (x, up, out)):
        return _device.gated_forward(spec, x, up, axis, params, out, inplace, backend, stream)
    if _dask.is_dask(x) or _dask.is_dask(up):
        return _dask.gated_forward(spec, x, up, axis, params, out, inplace, requested, forward)
    kernel = spec.kernels(params)[0]
    if up is None:
        return _split_forward(spec, kernel, params, x, axis, out, inplace, backend)
    return _pair_forward(spec, kernel, params, x, up, out, inplace, backend)


def _refuse_bias(name, x, up, bias, out, stream):
    """bias= goes with the split form on NumPy or dask arrays."""
    if up is not None:
        raise TypeError(f"{name}: bias= applies to the split form {name}(x, axis=...), the "
                        "output of a linear layer; in the two-input form add the biases to gate "
                        "and up")
    if stream is not None or any(on_device(a) for a in (x, bias, out)):
        raise TypeError(f"{name}: bias= works on NumPy and dask arrays; for CUDA device arrays "
                        "add the bias first")


def _bias_plan(name, x, axis, bias, extra_dtypes=()):
    """A split-form call with a bias, checked: (x, the bias, the dtype of x + bias, the axis,
    the half shape, the computing and result dtypes, the fused plan or None)."""
    arr = as_array(x)
    b, hd = _bias.operand(name, bias, arr, arr.shape)
    compute, result = common_dtypes(name, [hd, *extra_dtypes])
    axis = _norm_axis(name, axis, arr.ndim)
    shape = _half(name, arr.shape, axis)
    plan = _bias.fused(arr, b, hd, compute, result, None) if arr.size else None
    return arr, b, hd, axis, shape, compute, result, plan


def _bias_loop(spec, kernel, compute, backend, shape):
    """(the fused loop's name, the backend that runs it: a CUDA one forms the sum first)."""
    where = _bias.backend_name(backend, spec, shape, compute)
    return f"{fast_form(spec, kernel, compute)}_bias", where


def _run_bias(loop, where, ops, compact, geo, scalars, sums=None):
    """Run fused gated bias loop ``loop`` on the row operands ``ops`` (the split halves of x
    start ``ops.n`` apart in its memory)."""
    from .backends import cpu, parallel

    views = [words(v) for v in ops.views]
    run = cpu.gated_bias_runner(loop, views, ops.strides, (0, ops.n), words(compact.ravel()),
                                geo[1:], scalars, sums)
    if where == "parallel":
        return parallel.run_items(run, ops.rows, ops.n, views[0].itemsize, sums)
    return cpu.run_items(run, ops.rows, ops.n, sums)


def _bias_forward(spec, kernel, params, x, axis, bias, out, inplace, backend):
    """The split form of ``f(x + bias)``: fused (the halves' sums formed a chunk at a time in
    cache) where x is contiguous and the bias has a geometry, else the sum first."""
    name = spec.name
    arr, b, hd, axis, shape, compute, result, plan = _bias_plan(name, x, axis, bias)
    if inplace:
        refuse_out_with_inplace(name, out)
        _check_inplace(name, x, "x", result)
    elif out is not None:
        check_out(name, out, shape, result)
    loop, where = _bias_loop(spec, kernel, compute, backend, shape)
    if plan is None or where == "cuda" or hd != result:
        if inplace:
            np.add(x, b, out=x)
            return _split_forward(spec, kernel, params, x, axis, None, True, backend)
        return _split_forward(spec, kernel, params, np.add(arr, b), axis, out, False, backend)
    compact, order, geo = plan
    rows, n, fa, fb = _split_operands(arr, axis, order)
    scalars = [compute.type(v) for v in spec.scalars(params)]
    if inplace:  # the halves' sums are formed in scratch: the gate half may be the output
        _run_bias(loop, where, _Operands([fa, fb, fa], [2 * n] * 3, rows, n), compact, geo,
                  scalars)
        return x[(slice(None),) * axis + (slice(0, shape[axis]),)]
    hardware.check_fits(name, math.prod(shape) * result.itemsize)
    res = out if (out is not None and out.dtype == arr.dtype and _order([out]) == order
                  and not _shares(out, arr)) else np.empty(shape, arr.dtype, order=order)
    _run_bias(loop, where, _Operands([fa, fb, _flat(res, order)], [2 * n, 2 * n, n], rows, n),
              compact, geo, scalars)
    return _deliver(res, out, result)


def _bias_grad(spec, kernel, params, grad_output, x, axis, bias, out, inplace, backend):
    """``(grad_x, grad_bias)`` of the split form of ``f(x + bias)``."""
    name = f"{spec.name}_grad"
    g = as_array(grad_output)
    arr, b, hd, axis, shape, compute, result, plan = _bias_plan(name, x, axis, bias, (g.dtype,))
    _check_grad_output(name, g, shape)
    _check_split_grad_target(name, x, g, out, inplace, arr.shape, result)
    loop, where = _bias_loop(spec, kernel, compute, backend, shape)
    if plan is not None and not (g.dtype == arr.dtype and g.shape == shape
                                 and _order([g]) == plan[1]):
        plan = None
    if plan is None or where == "cuda" or hd != result:
        gx = _split_grad(spec, kernel, params, grad_output, np.add(arr, b), axis, out, False,
                         backend)
        if inplace:
            x[...] = gx
            gx = x
        return gx, _bias.reduce(gx, b, result)
    compact, order, geo = plan
    rows, n, fa, fb = _split_operands(arr, axis, order)
    if inplace:
        res = x
    else:
        hardware.check_fits(name, arr.size * result.itemsize)
        res = out if (out is not None and out.dtype == arr.dtype and _order([out]) == order
                      and not (_shares(out, arr) or _shares(out, g))) else \
            np.empty(arr.shape, arr.dtype, order=order)
    fr = _flat(res, order)
    reduce = compact.size != arr.size
    sums = _run_bias(loop, where, _Operands([_flat(g, order), fa, fb, fr, fr[n:]],
                                            [n] + [2 * n] * 4, rows, n), compact, geo,
                     [compute.type(v) for v in spec.scalars(params)],
                     compact.size if reduce else 0)
    gx = res if inplace else _deliver(res, out, result)
    gb = _bias.bias_grad(sums, compact, order, b) if reduce else gx.reshape(b.shape)
    return gx, np.array(gb, dtype=result)


def _split_forward(spec, kernel, params, x, axis, out, inplace, backend):
    name = spec.name
    arr = as_array(x)
    compute, result = _dtypes(name, arr)
    axis = _norm_axis(name, axis, arr.ndim)
    shape = _half(name, arr.shape, axis)
    target = None
    if inplace:
        refuse_out_with_inplace(name, out)
        _check_inplace(name, x, "x", result)
        target = x[(slice(None),) * axis + (slice(0, shape[axis]),)]  # the gate half
    elif out is not None:
        check_out(name, out, shape, result)
    else:
        hardware.check_fits(name, math.prod(shape) * result.itemsize)
    held = storage(compute, result)
    order = _order([arr]) if arr.dtype == held else None
    direct = target if target is not None else out
    if order is not None and arr.size:
        rows, n, a, b = _split_operands(arr, axis, order)
        if target is not None:  # into the gate half: the in-place loop
            ops = _Operands([a, b], [2 * n, 2 * n], rows, n)
            _run(spec, f"{kernel}_inplace", ops, compute, backend, shape, params)
            return target
        if direct is not None and direct.dtype == held and _order([direct]) == order \
                and not _shares(direct, arr):
            res = direct
        else:
            res = np.empty(shape, held, order=order)
        ops = _Operands([a, b, _flat(res, order)], [2 * n, 2 * n, n], rows, n)
        _run(spec, kernel, ops, compute, backend, shape, params)
        return _deliver(res, direct, result)
    # another layout, dtype or an empty array: through a contiguous copy
    copy = _contiguous(arr, compute)
    res = np.empty(shape, compute)
    if copy.size:
        rows, n, a, b = _split_operands(copy, axis, "C")
        _run(spec, kernel, _Operands([a, b, res.reshape(-1)], [2 * n, 2 * n, n], rows, n),
             compute, backend, shape, params)
    return _deliver(res, direct, result)


def _check_split_grad_target(name, x, g, out, inplace, shape, result):
    """The checks of where a split-form gradient goes: x itself (inplace=True), or out."""
    if inplace:
        refuse_out_with_inplace(name, out)
        _check_inplace(name, x, "x", result)
        if np.may_share_memory(x, g):
            raise ValueError(f"{name}: inplace=True: grad_output shares memory with x")
    elif out is not None:
        check_out(name, out, shape, result)


def _check_inplace(name, a, what, result, shape=None):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name}: inplace=True needs {what} to be a NumPy array, got "
                        f"{type(a).__name__}")
    check_writeable(name, a, f"{what} (inplace=True)")
    if a.dtype != result:
        raise TypeError(f"{name}: cannot work in place on a {a.dtype} {what}: the result is "
                        f"{result}; convert it first or pass out=")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name}: inplace=True needs {what} of the result's shape {shape}, got "
                         f"{a.shape} (it is broadcast)")


def _check_grad_output(name, g, shape):
    """grad_output must broadcast to the result's shape (and not beyond it)."""
    if _broadcast(name, (g.shape, shape), ("grad_output", "the result")) != shape:
        raise ValueError(f"{name}: grad_output of shape {g.shape} does not broadcast to the "
                         f"result's shape {shape}")


def _broadcast(name, shapes, what):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: " + " and ".join(
            f"{w} of shape {s}" for w, s in zip(what, shapes, strict=True))
            + " do not broadcast together") from None


def _pair_forward(spec, kernel, params, gate, up, out, inplace, backend):
    name = spec.name
    a, b = as_array(gate), as_array(up)
    compute, result = _dtypes(name, a, b)
    shape = _broadcast(name, (a.shape, b.shape), ("gate", "up"))
    target = None
    if inplace:
        refuse_out_with_inplace(name, out)
        _check_inplace(name, gate, "gate", result, shape)
        if np.may_share_memory(gate, b) and not _same(gate, b):
            raise ValueError(f"{name}: inplace=True: gate partly overlaps up")
        target = gate
    elif out is not None:
        check_out(name, out, shape, result)
    else:
        hardware.check_fits(name, math.prod(shape) * result.itemsize)
    size = math.prod(shape)
    held = storage(compute, result)
    order = _order([a, b]) if (a.dtype == held and b.dtype == held
                               and a.shape == b.shape == shape) else None
    if order is not None and size:
        fa, fb = _flat(a, order), _flat(b, order)
        if target is not None:
            _run(spec, f"{kernel}_inplace", _Operands([fa, fb], [size, size], 1, size), compute,
                 backend, shape, params)
            return target
        if out is not None and out.dtype == held and _order([out]) == order and (
                not (_shares(out, a) or _shares(out, b)) or _same(out, a)):
            if _same(out, a):  # out is the gate itself: the in-place loop
                _run(spec, f"{kernel}_inplace", _Operands([fa, fb], [size, size], 1, size),
                     compute, backend, shape, params)
                return out
            res = out
        else:
            res = np.empty(shape, held, order=order)
        _run(spec, kernel, _Operands([fa, fb, _flat(res, order)], [size] * 3, 1, size),
             compute, backend, shape, params)
        return _deliver(res, out, result)
    ca, cb = _contiguous(a, compute, shape), _contiguous(b, compute, shape)
    res = np.empty(shape, compute)
    if size:
        _run(spec, kernel, _Operands([ca.reshape(-1), cb.reshape(-1), res.reshape(-1)],
                                     [size] * 3, 1, size), compute, backend, shape, params)
    return _deliver(res, target if target is not None else out, result)


def _same(a, b):
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides and a.shape == b.shape)


# -- gradients -------------------------------------------------------------------------------


def grad(spec, grad_output, x, up, axis, params, out=None, inplace=False, backend=None,
         stream=None, bias=None):
    name = f"{spec.name}_grad"
    up, axis = _form(name, up, axis)
    requested = backend
    backend = dispatch.resolve(backend)
    if bias is not None:
        _refuse_bias(name, x, up, bias, out, stream)
        if any(_dask.is_dask(a) for a in (grad_output, x, bias)):
            gx = grad(spec, grad_output, x + bias, None, axis, params, out, inplace, requested)
            return gx, _bias.reduce_lazy(gx, bias if _dask.is_dask(bias) else as_array(bias))
        return _bias_grad(spec, f"{spec.kernels(params)[0]}_grad", params, grad_output, x, axis,
                          bias, out, inplace, backend)
    if any(on_device(a) for a in (grad_output, x, up)) or (
            isinstance(out, tuple) and any(on_device(o) for o in out)) or on_device(out):
        return _device.gated_grad(spec, grad_output, x, up, axis, params, out, inplace,
                                  backend, stream)
    if any(_dask.is_dask(a) for a in (grad_output, x, up)):
        return _dask.gated_grad(spec, grad_output, x, up, axis, params, out, inplace, requested,
                                grad)
    kernel = f"{spec.kernels(params)[0]}_grad"
    if up is None:
        return _split_grad(spec, kernel, params, grad_output, x, axis, out, inplace, backend)
    return _pair_grad(spec, kernel, params, grad_output, x, up, out, inplace, backend)


def _split_grad(spec, kernel, params, grad_output, x, axis, out, inplace, backend):
    name = f"{spec.name}_grad"
    arr, g = as_array(x), as_array(grad_output)
    compute, result = _dtypes(name, arr, g)
    axis = _norm_axis(name, axis, arr.ndim)
    shape = _half(name, arr.shape, axis)
    _check_grad_output(name, g, shape)
    _check_split_grad_target(name, x, g, out, inplace, arr.shape, result)
    if inplace:
        out = x
    else:
        hardware.check_fits(name, arr.size * result.itemsize)
    held = storage(compute, result)
    order = _order([arr]) if arr.dtype == held else None
    plain = (order is not None and g.dtype == held and g.shape == shape
             and _order([g]) == order)
    if plain and arr.size:
        rows, n, a, b = _split_operands(arr, axis, order)
        fg = _flat(g, order)
        if out is x:  # into x's own halves
            ops = _Operands([fg, a, b], [n, 2 * n, 2 * n], rows, n)
            _run(spec, f"{kernel}_inplace", ops, compute, backend, shape, params)
            return x
        if out is not None and out.dtype == held and _order([out]) == order and not (
                _shares(out, arr) or _shares(out, g)):
            res = out
        else:
            res = np.empty(arr.shape, held, order=order)
        fr = _flat(res, order)
        ops = _Operands([fg, a, b, fr, fr[n:]], [n, 2 * n, 2 * n, 2 * n, 2 * n], rows, n)
        _run(spec, kernel, ops, compute, backend, shape, params)
        return _deliver(res, out, result)
    if not arr.size:
        return _deliver(np.empty(arr.shape, compute), out, result)
    ca, cg = _contiguous(arr, compute), _contiguous(g, compute, shape)
    res = np.empty(arr.shape, compute)
    rows, n, a, b = _split_operands(ca, axis, "C")
    fr = res.reshape(-1)
    _run(spec, kernel, _Operands([cg.reshape(-1), a, b, fr, fr[n:]],
                                 [n, 2 * n, 2 * n, 2 * n, 2 * n], rows, n), compute, backend,
         shape, params)
    return _deliver(res, out, result)


def _pair_grad(spec, kernel, params, grad_output, gate, up, out, inplace, backend):
    name = f"{spec.name}_grad"
    a, b, g = as_array(gate), as_array(up), as_array(grad_output)
    compute, result = _dtypes(name, a, b, g)
    shape = _broadcast(name, (a.shape, b.shape), ("gate", "up"))
    _check_grad_output(name, g, shape)
    if inplace:
        refuse_out_with_inplace(name, out)
        _check_inplace(name, gate, "gate", result, shape)
        _check_inplace(name, up, "up", result, shape)
        if np.may_share_memory(gate, up) or np.may_share_memory(gate, g) or \
                np.may_share_memory(up, g):
            raise ValueError(f"{name}: inplace=True needs gate, up and grad_output in separate "
                             "memory")
        outs = (gate, up)
    elif out is not None:
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise TypeError(f"{name}: out must be a pair (grad_gate, grad_up) for the "
                            "two-input form")
        check_out(name, out[0], a.shape, result, what="out[0]", of="grad_gate")
        check_out(name, out[1], b.shape, result, what="out[1]", of="grad_up")
        if np.may_share_memory(out[0], out[1]):
            raise ValueError(f"{name}: out[0] and out[1] share memory")
        outs = tuple(out)
    else:
        hardware.check_fits(name, (a.size + b.size) * result.itemsize)
        outs = None
    size = math.prod(shape)
    if not size:
        return tuple(_deliver(np.empty(s, compute), o, result)
                     for s, o in zip((a.shape, b.shape), outs or (None, None), strict=True))
    held = storage(compute, result)
    order = _order([a, b, g]) if all(t.dtype == held and t.shape == shape
                                     for t in (a, b, g)) else None
    if order is not None and inplace:
        fa, fb, fg = _flat(a, order), _flat(b, order), _flat(g, order)
        _run(spec, f"{kernel}_inplace", _Operands([fg, fa, fb], [size] * 3, 1, size), compute,
             backend, shape, params)
        return gate, up
    if order is not None:
        ins = [_flat(g, order), _flat(a, order), _flat(b, order)]
        free = outs is not None and all(
            o.dtype == held and _order([o]) == order and not any(
                _shares(o, t) for t in (a, b, g)) for o in outs)
        res = outs if free else (np.empty(shape, held, order=order),
                                 np.empty(shape, held, order=order))
    else:
        ins = [_contiguous(t, compute, shape).reshape(-1) for t in (g, a, b)]
        res = (np.empty(shape, compute), np.empty(shape, compute))
        order = "C"
    _run(spec, kernel, _Operands(ins + [_flat(r, order) for r in res], [size] * 5, 1, size),
         compute, backend, shape, params)
    da, db = _reduce_to(res[0], a.shape), _reduce_to(res[1], b.shape)
    if outs is not None:
        return tuple(_deliver(d, o, result) for d, o in zip((da, db), outs, strict=True))
    return _deliver(da, None, result), _deliver(db, None, result)
