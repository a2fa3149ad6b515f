"""The vector width of the compute-bound loops.

On x86 CPUs with AVX-512, LLVM's loop vectorizer uses 256-bit vectors by default for the
Intel cores that have them (the CPU models carry LLVM's ``prefer-256-bit`` tuning): 512-bit
instructions once lowered those cores' clock for every program on them. The transcendental
kernels are bound by their arithmetic (polynomials, divides, selects): 16 float32 lanes instead
of 8 make most of their loops 1.2-1.8x faster on the AVX-512 Xeon of docs/serial.md. The
memory-bound piecewise-linear loops keep the default.

:func:`wide` asks for the wider vectors in the one function being compiled, with LLVM's
``"prefer-vector-width"="512"`` function attribute (what clang's ``-mprefer-vector-width=512``
sets): not for the process, so a user's own Numba code keeps its defaults. A CPU without
AVX-512 (AVX2, SSE, Arm) ignores the attribute and vectorizes at its own widest width; the
attribute changes how many elements one instruction holds, never an element's arithmetic, so
results are bit for bit those of the narrower loop.

A function inlined into another is compiled with the attributes of the one it lands in: a loop
that calls a wide loop (the parallel loops' blocks, the bias and gated loops' chunks, the ufunc
inner loops) asks for the same width, or its copy of the callee is split into 256-bit halves.
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

#: the function attribute :func:`wide` adds, as LLVM IR spells a string attribute
PREFER = '"prefer-vector-width"="512"'


def wide_kernels():
    """The element-wise and gated kernels (``spec.ufunc_kernels()`` names) whose loops ask for
    512-bit vectors: those of every family but the piecewise-linear one."""
    from fastact.registry import ELEMENTWISE, GATED, PIECEWISE_LINEAR, of_kind

    return frozenset(name for kind in (ELEMENTWISE, GATED) for spec in of_kind(kind).values()
                     if spec.family != PIECEWISE_LINEAR for name in spec.ufunc_kernels())


@intrinsic
def wide(typingctx):
    """Compile the calling function's loops with 512-bit vectors where the CPU has them (see
    the module's docstring). Generates no code."""

    def codegen(context, builder, sig, args):
        # llvmlite's FunctionAttributes accepts only enum attributes by name; a string
        # attribute is written into the IR as given
        set.add(builder.function.attributes, PREFER)
        return context.get_dummy_value()

    return types.void(), codegen
