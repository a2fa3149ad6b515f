"""Dask arrays: every public function maps itself over the blocks (lazy, same chunks).

Each block is computed by the general call the caller hands in (:func:`fastact._calls.forward` or
``grad``, passed as an argument: this module sits below them), so by fastact's dispatcher (the
parallel backend inside a worker for large blocks). fastact never imports dask unless a dask
array is passed (:func:`is_dask` looks for the dask collection protocol without importing dask).
"""

from __future__ import annotations

import numpy as np

from . import dispatch
from .registry import ACTIVATIONS


def is_dask(a) -> bool:
    """Whether ``a`` is a dask array (duck-typed: no import of dask)."""
    return hasattr(a, "__dask_graph__") and hasattr(a, "chunks") and hasattr(a, "dtype")


def _refuse_out(name, out, inplace):
    if out is not None or inplace:
        raise TypeError(
            f"{name}: out= and inplace=True do not apply to dask arrays (they are immutable "
            "task graphs); use the returned lazy array"
        )


def _meta(ndim, dtype):
    return np.empty((0,) * ndim, dtype=dtype)


def _block_params(params, weight, ndim, location):
    """The parameters for one block: a per-channel weight cut to the block's channels."""
    if weight is None:
        return params
    params = dict(params)
    w = params[weight]
    if np.ndim(w) == 1 and np.size(w) > 1 and ndim >= 2:
        lo, hi = location[1]  # this block's channels (axis 1)
        params[weight] = np.asarray(w)[lo:hi]
    return params


def _weight_name(spec):
    return spec.weight_param.name if spec.has_weight else None


def _block_forward(block, call, name, params, weight, backend, block_info=None):
    params = _block_params(params, weight, block.ndim,
                           block_info[0]["array-location"] if weight else None)
    return call(ACTIVATIONS[name], block, params, None, False, backend, None)


def forward(spec, x, params, out, inplace, backend, result_dtype, call):
    """The lazy forward of activation ``spec`` over dask array ``x``; ``call(spec, block,
    params, out, inplace, backend, stream)`` computes a block."""
    _refuse_out(spec.name, out, inplace)
    return x.map_blocks(_block_forward, call, spec.name, params, _weight_name(spec), backend,
                        dtype=result_dtype, meta=_meta(x.ndim, result_dtype))


def _block_grad(g, x, call, name, params, weight, backend, from_result, block_info=None):
    params = _block_params(params, weight, x.ndim,
                           block_info[1]["array-location"] if weight else None)
    spec = ACTIVATIONS[name]
    res = call(spec, g, None, params, None, backend, x) if from_result else \
        call(spec, g, x, params, None, backend)
    return res[0] if isinstance(res, tuple) else res


def _block_weight_grad(g, x, name, backend):
    spec = ACTIVATIONS[name]
    dtype = np.result_type(g.dtype, x.dtype)
    impl = dispatch.backend_for(dispatch.resolve(backend), spec, g.shape, dtype)
    return impl.call(spec.weight_grad_kernel, [g, x], None, dtype)


def grad(spec, grad_output, x, params, out, inplace, backend, from_result, result_dtype, call):
    """The lazy gradient; with a weight parameter (grad_input, grad_weight), both lazy.
    ``call(spec, grad_output, x, params, out, backend[, result])`` computes a block."""
    import dask.array as da

    name = f"{spec.name}_grad"
    _refuse_out(name, out, inplace)
    g, xa = da.asarray(grad_output), da.asarray(x)
    g, xa = da.broadcast_arrays(g, xa)
    g = g.astype(result_dtype) if g.dtype != result_dtype else g
    xa = xa.astype(result_dtype) if xa.dtype != result_dtype else xa
    gi = da.map_blocks(_block_grad, g, xa, call, spec.name, params, _weight_name(spec),
                       backend, from_result, dtype=result_dtype,
                       meta=_meta(xa.ndim, result_dtype))
    if not spec.has_weight:
        return gi
    contrib = da.map_blocks(_block_weight_grad, g, xa, spec.name, backend, dtype=result_dtype,
                            meta=_meta(xa.ndim, result_dtype))
    w = np.asarray(params[spec.weight_param.name])
    if w.ndim == 1 and w.size > 1:
        gw = contrib.sum(axis=tuple(i for i in range(xa.ndim) if i != 1), dtype=result_dtype)
    else:
        gw = contrib.sum(dtype=result_dtype).reshape(w.shape)
    return gi, gw


# -- the gated kind -----------------------------------------------------------------------------
#
# The split form needs both halves of x in one block: the split axis is rechunked to a single
# chunk (dask's rechunk; a no-op where it already is one), every other axis keeps its chunks. The
# two-input form maps over the blocks of gate and up broadcast together.


def _gated_dtype(name, arrays):
    from ._dtypes import common_dtypes, dtype_of

    return common_dtypes(name, map(dtype_of, arrays))[1]


def _one_chunk(x, axis):
    return x.rechunk({axis: -1}) if len(x.chunks[axis]) > 1 else x


def _gated_block(*blocks, call, activation, axis, params, backend, split, grad):
    spec = ACTIVATIONS[activation]
    if grad:
        if split:
            return call(spec, blocks[0], blocks[1], None, axis, params, None, False, backend,
                        None)
        # both gradients straight into the block's (2, ...) result
        from ._dtypes import common_dtypes

        both = np.empty((2, *blocks[1].shape), common_dtypes(spec.name, [
            b.dtype for b in blocks])[1])
        call(spec, blocks[0], blocks[1], blocks[2], axis, params, (both[0], both[1]), False,
             backend, None)
        return both
    return call(spec, blocks[0], None if split else blocks[1], axis, params, None, False,
                backend, None)


def gated_forward(spec, x, up, axis, params, out, inplace, backend, call):
    """The lazy gated forward; ``call(spec, x, up, axis, params, out, inplace, backend,
    stream)`` computes a block."""
    import dask.array as da

    from ._split import half, norm_axis

    name = spec.name
    _refuse_out(name, out, inplace)
    result = _gated_dtype(name, [x] if up is None else [x, up])
    kw = {"call": call, "activation": name, "params": params, "backend": backend,
          "grad": False}
    if up is None:
        x = da.asarray(x)
        axis = norm_axis(name, axis, x.ndim)
        half(name, x.shape, axis)
        x = _one_chunk(x, axis)
        chunks = tuple(((c[0] // 2,) if i == axis else c) for i, c in enumerate(x.chunks))
        return x.map_blocks(_gated_block, axis=axis, split=True, chunks=chunks, dtype=result,
                            meta=_meta(x.ndim, result), **kw)
    a, b = da.broadcast_arrays(da.asarray(x), da.asarray(up))
    return da.map_blocks(_gated_block, a, b, axis=axis, split=False, dtype=result,
                         meta=_meta(a.ndim, result), **kw)


def gated_grad(spec, grad_output, x, up, axis, params, out, inplace, backend, call):
    """The lazy gated gradient: grad_x, or (grad_gate, grad_up) reduced to their inputs'
    shapes; ``call(spec, grad_output, x, up, axis, params, out, inplace, backend, stream)``
    computes a block."""
    import dask.array as da

    from ._split import half, norm_axis, reduce_to

    name = f"{spec.name}_grad"
    _refuse_out(name, out, inplace)
    result = _gated_dtype(name, [grad_output, x] + ([] if up is None else [up]))
    kw = {"call": call, "activation": spec.name, "params": params, "backend": backend,
          "grad": True}
    if up is None:
        x = da.asarray(x)
        axis = norm_axis(name, axis, x.ndim)
        shape = half(name, x.shape, axis)
        x = _one_chunk(x, axis)
        g_chunks = tuple(((shape[axis],) if i == axis else c) for i, c in enumerate(x.chunks))
        g = da.broadcast_to(da.asarray(grad_output), shape).rechunk(g_chunks)
        return da.map_blocks(_gated_block, g, x, axis=axis, split=True, chunks=x.chunks,
                             dtype=result, meta=_meta(x.ndim, result), **kw)
    gate, upa = da.asarray(x), da.asarray(up)
    g, a, b = da.broadcast_arrays(da.asarray(grad_output), gate, upa)
    both = da.map_blocks(_gated_block, g, a, b, axis=axis, split=False, new_axis=0,
                         chunks=((2,), *a.chunks), dtype=result,
                         meta=_meta(a.ndim + 1, result), **kw)
    return reduce_to(both[0], gate.shape), reduce_to(both[1], upa.shape)


# -- axis-wise: each block holds whole rows -------------------------------------------------


def _axis_block(*blocks, call, activation, axis, keepdims, roles, grad):
    """One block of an axis-wise call: ``roles`` names the blocks (x, where, g, result)."""
    spec = ACTIVATIONS[activation]
    kw = dict(zip(roles, blocks, strict=True))
    if grad:
        return call(spec, kw["g"], kw.get("x"), axis, keepdims, kw.get("where"),
                    kw.get("result"), None, False, kw["backend"])
    return call(spec, kw["x"], axis, keepdims, kw.get("where"), None, kw["backend"])


def _whole_rows(a, axes):
    """``a`` with each reduced axis in one chunk: a block then holds whole rows (the rule: the
    reduced axes are never split; dask rechunks them, the other axes keep their chunks)."""
    return a.rechunk({ax: -1 for ax in axes}) if any(len(a.chunks[ax]) > 1 for ax in axes) \
        else a


def axis_forward(spec, x, axis, keepdims, where, out, backend, call):
    """The lazy axis-wise forward; ``call(spec, x, axis, keepdims, where, out, backend)``
    computes a block."""
    import dask.array as da

    from ._axes import norm_axes, reduced_shape

    name = spec.name
    _refuse_out(name, out, False)
    x = da.asarray(x)
    result = _gated_dtype(name, [x])
    axes = norm_axes(name, axis, x.ndim)
    x = _whole_rows(x, axes)
    arrays, roles = [x], ["x"]
    if where is not None:
        arrays.append(_whole_rows(da.broadcast_to(da.asarray(where), x.shape).rechunk(x.chunks),
                                  axes))
        roles.append("where")
    kw = {"call": call, "activation": name, "axis": axes, "keepdims": keepdims,
          "roles": roles + ["backend"], "grad": False}
    if not spec.reduces:
        return da.map_blocks(_axis_block, *arrays, backend, dtype=result,
                             meta=_meta(x.ndim, result), **kw)
    if keepdims:
        chunks = tuple((1,) if i in axes else c for i, c in enumerate(x.chunks))
        return da.map_blocks(_axis_block, *arrays, backend, chunks=chunks, dtype=result,
                             meta=_meta(x.ndim, result), **kw)
    return da.map_blocks(_axis_block, *arrays, backend, drop_axis=list(axes), dtype=result,
                         meta=_meta(len(reduced_shape(x.shape, axes, False)), result), **kw)


def axis_grad(spec, grad_output, x, axis, keepdims, where, result, out, inplace, backend, call):
    """The lazy axis-wise gradient (x's chunks); ``call(spec, g, x, axis, keepdims, where,
    result, out, inplace, backend)`` computes a block."""
    import dask.array as da

    from ._axes import norm_axes, reduced_shape

    name = f"{spec.name}_grad"
    _refuse_out(name, out, inplace)
    full = da.asarray(x if x is not None else result)
    dtype = _gated_dtype(name, [a for a in (grad_output, x, result) if a is not None])
    axes = norm_axes(name, axis, full.ndim)
    full = _whole_rows(full, axes)
    g = da.asarray(grad_output)
    if spec.reduces:  # g (and result) are reduced: broadcast them back along the axes
        shape = reduced_shape(full.shape, axes, True)
        g = da.broadcast_to(g.reshape(shape) if g.ndim else g, full.shape)
        if result is not None:
            result = da.broadcast_to(da.asarray(result).reshape(shape), full.shape)
    arrays, roles = [g.rechunk(full.chunks)], ["g"]
    for role, a in (("x", x), ("result", result), ("where", where)):
        if a is not None:
            arrays.append(da.broadcast_to(da.asarray(a), full.shape).rechunk(full.chunks))
            roles.append(role)
    kw = {"call": _reduced_call(call) if spec.reduces else call, "activation": spec.name,
          "axis": axes, "keepdims": spec.reduces, "roles": roles + ["backend"], "grad": True}
    return da.map_blocks(_axis_block, *arrays, backend, dtype=dtype, meta=_meta(full.ndim, dtype),
                         **kw)


def _reduced_call(call):
    """``call`` for logsumexp_grad on blocks whose g and result were broadcast along the axes:
    each is cut back to one element per row (keepdims) first."""
    def reduced(spec, g, x, axis, keepdims, where, result, out, inplace, backend):
        cut = tuple(slice(0, 1) if i in axis else slice(None) for i in range(g.ndim))
        return call(spec, g[cut], x, axis, True, where, None if result is None else result[cut],
                    out, inplace, backend)

    return reduced
