"""Dask arrays: every public function maps itself over the blocks (lazy, same chunks).

Each block is computed by the ordinary fastact function, so by fastact's dispatcher (the parallel
backend inside a worker for large blocks). fastact never imports dask unless a dask array is
passed (:func:`is_dask` looks for the dask collection protocol without importing dask).
"""

from __future__ import annotations

import numpy as np


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


def _block_forward(block, name, params, backend, block_info=None):
    import fastact

    params = dict(params)
    w = params.get("weight")
    if w is not None and np.ndim(w) == 1 and np.size(w) > 1 and block.ndim >= 2:
        lo, hi = block_info[0]["array-location"][1]  # this block's channels
        params["weight"] = np.asarray(w)[lo:hi]
    return getattr(fastact, name)(block, **params, backend=backend)


def forward(spec, x, params, out, inplace, backend, result_dtype):
    """The lazy forward of activation ``spec`` over dask array ``x``."""
    _refuse_out(spec.name, out, inplace)
    return x.map_blocks(_block_forward, spec.name, params, backend, dtype=result_dtype,
                        meta=_meta(x.ndim, result_dtype))


def _block_grad(g, x, name, params, backend, from_result, block_info=None):
    import fastact

    params = dict(params)
    w = params.get("weight")
    if w is not None and np.ndim(w) == 1 and np.size(w) > 1 and x.ndim >= 2:
        lo, hi = block_info[1]["array-location"][1]
        params["weight"] = np.asarray(w)[lo:hi]
    fn = getattr(fastact, f"{name}_grad")
    res = fn(g, result=x, **params, backend=backend) if from_result else \
        fn(g, x, **params, backend=backend)
    return res[0] if isinstance(res, tuple) else res


def _block_weight_grad(g, x, backend):
    from . import dispatch
    from .registry import ACTIVATIONS

    dtype = np.result_type(g.dtype, x.dtype)
    impl = dispatch.backend_for(dispatch.resolve(backend), ACTIVATIONS["prelu"], g.shape, dtype)
    return impl.call("prelu_weight_grad", [g, x], None, dtype)


def grad(spec, grad_output, x, params, out, inplace, backend, from_result, result_dtype):
    """The lazy gradient; prelu returns (grad_input, grad_weight), both lazy."""
    import dask.array as da

    name = f"{spec.name}_grad"
    _refuse_out(name, out, inplace)
    g, xa = da.asarray(grad_output), da.asarray(x)
    g, xa = da.broadcast_arrays(g, xa)
    g = g.astype(result_dtype) if g.dtype != result_dtype else g
    xa = xa.astype(result_dtype) if xa.dtype != result_dtype else xa
    gi = da.map_blocks(_block_grad, g, xa, spec.name, params, backend, from_result,
                       dtype=result_dtype, meta=_meta(xa.ndim, result_dtype))
    if "weight" not in params:
        return gi
    contrib = da.map_blocks(_block_weight_grad, g, xa, backend, dtype=result_dtype,
                            meta=_meta(xa.ndim, result_dtype))
    w = np.asarray(params["weight"])
    if w.ndim == 1 and w.size > 1:
        gw = contrib.sum(axis=tuple(i for i in range(xa.ndim) if i != 1), dtype=result_dtype)
    else:
        gw = contrib.sum(dtype=result_dtype).reshape(w.shape)
    return gi, gw
