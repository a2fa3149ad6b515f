"""``chunked``: any element-wise NumPy formula, block by block on all cores, in cache."""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import hardware
from .backends import parallel
from .backends.cpu import same_memory

#: Smallest block: below ~16k elements NumPy's per-call overhead (~1 us per ufunc) dominates.
MIN_BLOCK = 1 << 14
#: L3 size assumed where the OS does not report one
DEFAULT_L3 = 8 << 20

_pool_lock = threading.Lock()
_pool_state = {"pool": None}  # (executor, its number of threads), or None
_THREAD_PREFIX = "fastact-chunked"


def _pool(n):
    with _pool_lock:
        held = _pool_state["pool"]
        if held is None or held[1] < n:
            held = _pool_state["pool"] = (ThreadPoolExecutor(n, thread_name_prefix=_THREAD_PREFIX),
                                          n)
        return held[0]


def _whole_array_bytes():
    """Below this many bytes of operands and temporaries, one call on the whole array wins:
    with everything in L3 the blocks only add per-call overhead (benchmarks/test_chunked.py;
    the figures are in docs/parallel.md, "fastact.chunked")."""
    return hardware.cache_sizes().get("L3", DEFAULT_L3) // 2


if hasattr(os, "register_at_fork"):  # the pool's threads do not survive a fork
    os.register_at_fork(after_in_child=lambda: _pool_state.update(pool=None))


def chunked(func, x, *args, out=None, block=None, threads=None):
    """``func(x, *args)`` computed block by block over threads, so its temporaries stay in cache.

    A formula of several ufuncs (``0.5 * x * (1 + np.tanh(...))``) on a whole large array makes
    each ufunc stream the whole array through memory once, with a full-size temporary each.
    ``chunked`` applies ``func`` to blocks of about half the L2 cache instead, writes each block's
    result into ``out`` and runs contiguous runs of blocks on ``threads`` threads (NumPy releases
    the GIL inside its loops): one pass over memory, temporaries of one block.

    ``func`` must be element-wise: its result for a block is the block of its result. ``args``
    are scalars or arrays of ``x``'s shape (cut like ``x``). Without ``out`` the result array is
    allocated with the dtype ``func`` returns; with ``out`` (``x``'s shape) the blocks are cast
    into it (``same_kind``) and ``out`` is returned. ``block`` is in elements (default from the L2
    size), ``threads`` defaults to the parallel backend's thread count. Without ``block``, an
    array whose operands and temporaries fit in half the L3 cache is computed in one call (the
    blocks would only add overhead); ``func`` called from inside ``chunked`` runs serially.

    >>> import numpy as np, fastact
    >>> x = np.linspace(-3, 3, 100_000, dtype=np.float32)
    >>> y = fastact.chunked(lambda v: v * np.tanh(np.log1p(np.exp(v))), x)  # mish
    >>> bool(np.allclose(y, fastact.mish(x), rtol=1e-5, atol=1e-6))
    True
    """
    if not callable(func):
        raise TypeError(f"chunked: func must be callable, got {type(func).__name__}")
    x = np.asarray(x)
    arrays = []
    for i, a in enumerate(args):
        if np.ndim(a) == 0:
            continue
        a = np.asarray(a)
        if a.shape != x.shape:
            raise ValueError(f"chunked: argument {i + 1} has shape {a.shape}; arrays must have "
                             f"x's shape {x.shape} (scalars are passed as they are)")
        arrays.append(i)
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"chunked: out must be a NumPy array, got {type(out).__name__}")
        if out.shape != x.shape:
            raise ValueError(f"chunked: out has shape {out.shape}, x has shape {x.shape}")
        if not out.flags.writeable:
            raise ValueError("chunked: out is read-only")
        for a in [x, *(args[i] for i in arrays)]:
            a = np.asarray(a)
            if np.may_share_memory(a, out) and not same_memory(a, out):
                raise ValueError("chunked: out partly overlaps an input (out may be an input "
                                 "itself, not a shifted view of one)")
    threads = parallel.threads() if threads is None else int(threads)
    if threads < 1:
        raise ValueError(f"chunked: threads must be >= 1, got {threads}")
    n_ops = 2 + len(arrays) + 2  # inputs, output and about two live temporaries
    nested = threading.current_thread().name.startswith(_THREAD_PREFIX)
    if block is None:
        if n_ops * x.nbytes <= _whole_array_bytes():
            block = max(1, x.size)  # in cache as a whole: one call
        else:
            # the whole L2 (not half, as the compiled loops): NumPy's per-call cost favours
            # larger blocks (docs/parallel.md, "fastact.chunked")
            block = max(MIN_BLOCK, 2 * parallel.block_elements(n_ops, max(x.itemsize, 4)))
    block = int(block)
    if block < 1:
        raise ValueError(f"chunked: block must be >= 1 element, got {block}")

    operands = [x, *(np.asarray(args[i]) for i in arrays)]
    order, flat = _flat_views(operands + ([out] if out is not None else []))
    if flat is not None:  # contiguous: 1-D blocks of `block` elements
        views = flat[:len(operands)]
        n, step = x.size, block
    else:  # strided: blocks of whole rows along the first axis, no copy
        views = operands
        n = x.shape[0] if x.ndim else 1
        step = max(1, block // max(1, math.prod(x.shape[1:])))
        if x.ndim == 0:
            views = [v.reshape(1) for v in views]

    def compute(lo, hi):
        part = list(args)
        for j, i in enumerate(arrays):
            part[i] = views[j + 1][lo:hi]
        return np.asarray(func(views[0][lo:hi], *part))

    if n == 0:
        res = np.asarray(func(x, *args))
        if out is None:
            return res
        out[...] = res
        return out
    first = compute(0, min(step, n))  # runs func once to learn the result dtype
    if out is None:
        out = np.empty(x.shape, first.dtype, order=order or "C")
        flat_out = out.reshape(-1, order=order) if flat is not None else (
            out if x.ndim else out.reshape(1))
    else:
        flat_out = flat[-1] if flat is not None else (out if x.ndim else out.reshape(1))

    def store(lo, hi, res):
        if res.shape != flat_out[lo:hi].shape:
            raise ValueError(f"chunked: func returned shape {res.shape} for a block of shape "
                             f"{flat_out[lo:hi].shape}; it must be element-wise")
        np.copyto(flat_out[lo:hi], res, casting="same_kind")

    store(0, min(step, n), first)
    starts = list(range(step, n, step))
    if starts:
        runs = np.array_split(np.array(starts), min(threads, len(starts)))

        def work(run):
            for lo in run:
                hi = min(lo + step, n)
                store(lo, hi, compute(lo, hi))

        if len(runs) == 1 or nested:
            for r in runs:
                work(r)
        else:
            pool = _pool(len(runs))
            for f in [pool.submit(work, r) for r in runs]:
                f.result()
    return out


def _flat_views(arrays):
    """(order, 1-D views) of arrays that share one contiguous layout, or (None, None)."""
    for order, flag in (("C", "C_CONTIGUOUS"), ("F", "F_CONTIGUOUS")):
        if all(a.flags[flag] for a in arrays):
            return order, [a.reshape(-1, order=order) for a in arrays]
    return None, None
