"""The steps of the generated inner loops of the fast paths' ufuncs (``_ufunc_loops``).

Calling a Numba entry point unboxes each array into a new memory-info record and the caller
allocates the output with ``np.empty``: ~0.5-0.7 us of a 1e3-element relu whose loop takes 0.1
us. A NumPy ufunc does the same work in C for ~0.3 us. :func:`fastact.backends.cpu.loop_ufunc`
makes one from a generated serial loop: a C callback (a Numba ``cfunc`` of ``_ufunc_loops``,
cached on disk like the loops) is the ufunc's inner loop for one dtype; it runs the loop on the
operands as 1-D arrays where they are contiguous (the only way the fast paths call it) and one
element at a time otherwise (:func:`item`). The activation's scalar parameters are held in a
small array the ufunc passes to the callback (its ``data``).

NumPy checks the floating-point status flags after a ufunc's loop and warns (``invalid value
encountered``) where they are set; the loops set them as a matter of course (a vector compare
of a NaN, an exp that overflows into a saturated result) and the public functions never warn,
so the callback clears them (:func:`clear_fp_status`, x86's MXCSR: the ufuncs are built on x86
only).
"""

from __future__ import annotations

from llvmlite import ir
from numba import carray, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: the C signature of a ufunc's inner loop: (operand pointers, [length], strides, data)
SIGNATURE = types.void(types.CPointer(types.voidptr), types.CPointer(types.intp),
                       types.CPointer(types.intp), types.voidptr)

#: MXCSR's exception flags: invalid, denormal, divide-by-zero, overflow, underflow, precision
_MXCSR_FLAGS = 0x3F


@intrinsic
def _offset(typingctx, ptr, nbytes):
    """``ptr`` advanced by ``nbytes`` bytes."""
    if not (ptr == types.voidptr and isinstance(nbytes, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        step = context.cast(builder, args[1], sig.args[1], types.intp)
        return builder.gep(args[0], [step])

    return types.voidptr(ptr, nbytes), codegen


@intrinsic
def clear_fp_status(typingctx):
    """Clear the SSE exception flags (x86 only: the callbacks are built there alone)."""
    def codegen(context, builder, sig, args):
        i32, i8p = ir.IntType(32), ir.IntType(8).as_pointer()
        slot = cgutils.alloca_once(builder, i32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p])
        get = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.stmxcsr")
        put = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.ldmxcsr")
        raw = builder.bitcast(slot, i8p)
        builder.call(get, [raw])
        builder.store(builder.and_(builder.load(slot), ir.Constant(i32, ~_MXCSR_FLAGS)), slot)
        builder.call(put, [raw])
        return context.get_dummy_value()

    return types.void(), codegen


@njit(cache=True)
def item(args, steps, k, i, dtype):
    """Element ``i`` of operand ``k`` as a 1-element array (for operands that are not
    contiguous: a step of 0, negative, or more than the itemsize)."""
    return carray(_offset(args[k], i * steps[k]), 1, dtype)
