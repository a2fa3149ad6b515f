"""Streaming (non-temporal) stores for the parallel loops of memory-bound kernels.

An ordinary store to a line that is not in cache first reads the line (a read for ownership),
so a loop that reads one array and writes another moves 1.5x the bytes it needs. A
non-temporal vector store writes the line without reading it (and without keeping it in cache):
the ``<loop>_stream`` loops of ``_par_loops`` compute each STREAM_BYTES of output into a
buffer that stays in L1, with the kernel's own vectorized serial loop, and copy it out with
32-byte non-temporal stores. Whether that wins depends on the machine (it lost on a Zen 3 VM);
:func:`fastact.tuning.tune` measures it, and the parallel backend streams only where the tuned
profile says so (:func:`fastact.dispatch.streaming_bytes`).

LLVM's loop vectorizer leaves a store marked non-temporal scalar (x86 has no scalar
non-temporal store of a float), so the copy writes its 32-byte vectors itself (``_store32``).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from fastact.kernels._jit import FASTMATH

_OPTIONS = {"cache": True, "nogil": True, "fastmath": FASTMATH, "error_model": "numpy"}

#: bytes of output computed into the buffer at a time, then streamed out: 8192 float32
#: elements (measured on relu out= of 1e8 float32 elements: 4096 to 16384 elements within 7%)
STREAM_BYTES = 32768

#: bytes of a streaming store: an AVX vector
VECTOR = 32


@intrinsic
def _address(typingctx, arr):
    """The address of ``arr``'s first element."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, ir.IntType(64))

    return types.int64(arr), codegen


@intrinsic
def _store32(typingctx, src, i, dst, j):
    """``dst[j:j + k] = src[i:i + k]`` (k elements of 32 bytes) as one non-temporal store;
    ``dst`` at ``j`` aligned to 32 bytes, ``src`` anywhere."""
    if not (isinstance(src, types.Array) and isinstance(dst, types.Array)
            and src.dtype == dst.dtype):
        return None

    def codegen(context, builder, sig, args):
        sty, dty = sig.args[0], sig.args[2]
        s = context.make_array(sty)(context, builder, args[0])
        d = context.make_array(dty)(context, builder, args[2])
        element = context.get_data_type(dty.dtype)
        size = context.get_abi_sizeof(element)
        vector = ir.VectorType(element, VECTOR // size)
        sp = cgutils.get_item_pointer(context, builder, sty, s, [args[1]], wraparound=False)
        dp = cgutils.get_item_pointer(context, builder, dty, d, [args[3]], wraparound=False)
        value = builder.load(builder.bitcast(sp, vector.as_pointer()), align=size)
        store = builder.store(value, builder.bitcast(dp, vector.as_pointer()), align=VECTOR)
        store.set_metadata("nontemporal",
                           builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()

    return types.void(src, i, dst, j), codegen


@intrinsic
def fence(typingctx):
    """``sfence``: the streaming stores before it are ordered before any store after it (and
    visible to the thread that joins this one)."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse.sfence")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@njit(**_OPTIONS)
def unaligned(out):
    """Elements of ``out`` before its first 32-byte boundary (all of a shorter ``out``)."""
    return min(out.size, (-_address(out) % VECTOR) // out.itemsize)


@njit(**_OPTIONS)
def buffer(out):
    """A buffer of STREAM_BYTES of ``out``'s dtype, for one thread's blocks."""
    return np.empty(STREAM_BYTES // out.itemsize, out.dtype)


@njit(**_OPTIONS)
def stream(src, dst):
    """``dst[:] = src`` with streaming stores; ``dst`` starts on a 32-byte boundary."""
    n, k = dst.size, VECTOR // dst.itemsize
    j = 0
    while j + 4 * k <= n:
        _store32(src, j, dst, j)
        _store32(src, j + k, dst, j + k)
        _store32(src, j + 2 * k, dst, j + 2 * k)
        _store32(src, j + 3 * k, dst, j + 3 * k)
        j += 4 * k
    while j + k <= n:
        _store32(src, j, dst, j)
        j += k
    for i in range(j, n):
        dst[i] = src[i]
