"""Streaming (non-temporal) stores for the parallel loops of memory-bound kernels.

An ordinary store to a line that is not in cache first reads the line (a read for ownership),
so a loop that reads one array and writes another moves 1.5x the bytes it needs. A
non-temporal vector store writes the line without reading it (and without keeping it in cache).
The ``<loop>_stream`` loops of ``_par_loops`` run each block's first elements, up to a 32-byte
boundary, and its last, past the last whole vector, through the plain serial loop, and the
rest through ``<loop>_nt`` of ``_cpu_loops``: the serial loop with its stores made by
:func:`put`. Whether that wins depends on the machine (an earlier form lost on a Zen 3 VM);
:func:`fastact.tuning.tune` measures it, and the parallel backend streams only where the tuned
profile says so (:func:`fastact.dispatch.streaming_bytes`).

LLVM's loop vectorizer widens a store marked non-temporal only where the vector store is legal
as one (x86: aligned to the vector's size), so :func:`put` declares the 32-byte alignment that
the vectorized loop's stores have (``<loop>_nt`` is only called on a run that starts on a
32-byte boundary and holds whole 32-byte vectors); an element the vectorizer leaves scalar is
an ordinary scalar store on x86, which has no alignment requirement.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from fastact.kernels._jit import FASTMATH

_OPTIONS = {"cache": True, "nogil": True, "fastmath": FASTMATH, "error_model": "numpy"}

#: bytes of a streaming store: an AVX vector, the alignment :func:`put` declares
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
def put(typingctx, arr, i, v):
    """``arr[i] = v`` (``v`` cast to the array's dtype, as an assignment casts it), a store
    marked non-temporal and declared 32-byte aligned: see the module's docstring for where that
    holds."""
    if not (isinstance(arr, types.Array) and isinstance(v, types.Number)):
        return None

    def codegen(context, builder, sig, args):
        aty = sig.args[0]
        a = context.make_array(aty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aty, a, [args[1]], wraparound=False)
        value = context.cast(builder, args[2], sig.args[2], aty.dtype)
        store = builder.store(value, ptr, align=VECTOR)
        store.set_metadata("nontemporal",
                           builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()

    return types.void(arr, i, v), codegen


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
def whole(count, out):
    """The most elements of ``out``'s dtype, at most ``count``, that fill whole 32-byte
    vectors."""
    return count - count % (VECTOR // out.itemsize)
