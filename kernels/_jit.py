"""The decorators every scalar kernel uses: :func:`kernel`, and ``kernel.by_dtype`` for a kernel
with a float32 form of its own.

Scalar kernels are ``njit(forceinline=True)`` so that the backends (the serial, parallel and CUDA
loops, the NumPy ufuncs) and a user's own ``@njit``, ``@vectorize`` and ``@cuda.jit`` functions
inline them into their own loops: the math of an activation is written once.

``forceinline`` is LLVM's ``alwaysinline``: Numba types and lowers a kernel once per signature,
and LLVM inlines the compiled kernel into each loop before vectorizing it. Numba's own inlining
(``inline="always"``, into the caller's Numba IR) gives the loops the same machine code, but
types the kernel, and every helper it calls, again in each caller: about twice the compile
time.
"""

import inspect

import numpy as np
from numba import njit, types
from numba.extending import overload

#: The fast-math flags the loops are compiled with: only ``contract`` (a*b + c -> FMA), which
#: halves the cost of every polynomial and only ever removes a rounding. Not ``nnan``/``ninf``
#: (they break NaN/inf semantics and comparisons), ``nsz`` (relu(-0.0) is -0.0), ``reassoc``
#: (it undoes the error-free transformations: ``(t + SHIFTER) - SHIFTER``, Fast2Sum, log1p's
#: correction), nor ``arcp``/``afn`` (no speed here: there is no approximate divide to use).
#: Every kernel is compiled with these flags (``KERNEL_OPTIONS``), and so are the backends' loops.
FASTMATH = {"contract"}

#: Compiler options shared by every kernel. ``error_model="numpy"``: Python's error model adds a
#: zero-division check that blocks SIMD.
KERNEL_OPTIONS = {"forceinline": True, "cache": True, "error_model": "numpy",
                  "fastmath": FASTMATH}
#: the same, less ``cache``, for the two forms behind a ``kernel.by_dtype`` kernel (an overload)
_OVERLOAD_OPTIONS = {k: v for k, v in KERNEL_OPTIONS.items() if k != "cache"}


def kernel(func):
    """Compile ``func`` as an always-inlined scalar Numba kernel."""
    return njit(**KERNEL_OPTIONS)(func)


#: (stub, selector) of every kernel.by_dtype kernel, for :func:`register_cuda`
_SPLIT = []
_CUDA_REGISTERED = []


def by_dtype(float32, *, on=None):
    """Decorator: the kernel whose float64 form is the decorated function and whose float32 form
    is ``float32`` (a function with the same parameters), chosen when the caller is compiled, by
    the type of the argument named ``on`` (default: ``x`` if there is one, else the first).

        def _gelu32(x): ...          # float32 arithmetic

        @kernel.by_dtype(float32=_gelu32)
        def gelu(x): ...             # the float64 form

    The result is a kernel like any other (an always-inlined ``njit`` dispatcher named after the
    decorated function, with its docstring), callable from ``@njit``, ``@vectorize`` and, after
    :func:`register_cuda`, ``@cuda.jit`` code; other argument types are a typing error.

    How: the two forms become one Numba ``overload`` (inlined, as the kernels are) of a stub, and
    the kernel is a one-line function calling that stub. The function is compiled from source
    with the decorated function's file and line, so Numba's on-disk cache of the ufuncs built
    from it (``cache=True``, keyed on the source file and the line) works as for a written
    function; the generated loops name the kernel itself (``fastact.kernels.<name>``).
    """
    def split(impl64):
        name = impl64.__name__
        params = list(inspect.signature(impl64).parameters)
        if list(inspect.signature(float32).parameters) != params:
            raise TypeError(f"{name}: the float32 and float64 forms take different parameters")
        key = params.index(on or ("x" if "x" in params else params[0]))

        def pick(*types_):
            t = types_[key]
            if t == types.float32:
                return float32
            if t == types.float64:
                return impl64
            return None

        def refuse():  # pragma: no cover - only the compiled versions run
            raise TypeError(f"{name} is callable only from compiled kernels")

        # Numba matches an overload's parameter names with the implementation's: spell them out
        args = ", ".join(params)
        env = {"pick": pick, "refuse": refuse}
        exec(f"def stub({args}):\n    refuse()\n\n"
             f"def select({args}):\n    return pick({args})\n", env)
        stub = env["stub"]
        stub.__name__ = stub.__qualname__ = f"{name}_by_dtype"
        overload(stub, target="cpu", jit_options=_OVERLOAD_OPTIONS)(env["select"])
        _SPLIT.append((stub, env["select"]))

        code = impl64.__code__
        source = "\n" * (code.co_firstlineno - 1) + (
            f"def {name}({args}):\n    return _split({args})\n")
        glob = {"_split": stub, "__name__": impl64.__module__}
        exec(compile(source, code.co_filename, "exec"), glob)
        public = glob[name]
        public.__qualname__ = impl64.__qualname__
        public.__doc__ = impl64.__doc__
        dispatcher = kernel(public)
        dispatcher.float32, dispatcher.float64 = float32, impl64  # the two forms, for reading
        return dispatcher

    return split


kernel.by_dtype = by_dtype


def register_cuda():
    """Register every ``kernel.by_dtype`` kernel for numba.cuda (once; imports numba.cuda).

    Call it before compiling a ``@cuda.jit`` function that uses the kernels for a GPU (the CUDA
    backend does; the simulator runs the CPU versions and needs nothing). numba-cuda keeps its
    own registry of overloads: it does not use the CPU's.
    """
    if not _CUDA_REGISTERED:
        try:
            from numba.cuda.extending import overload as cuda_overload  # numba-cuda
            options = {}
        except ImportError:  # pragma: no cover - Numba's built-in numba.cuda
            cuda_overload, options = overload, {"target": "cuda"}
        for stub, select in _SPLIT:
            cuda_overload(stub, inline="always", **options)(select)
        _CUDA_REGISTERED.append(True)


@kernel
def wide(x):
    """``x`` as float64, for the float32 kernels evaluated in float64 with the float64 kernel's
    own math (mish and its gradient).

    Where a kernel composes several float32 roundings on an ill-conditioned path, its float32
    error would exceed the 4-ULP bound; evaluated in float64 (still SIMD, 4 lanes instead of 8)
    and rounded once it stays within 0.5 ULP. Most such kernels instead have a float32 form
    written in plain float64 with float32-grade polynomials (``kernel.by_dtype`` with
    ``exp_lean``: the tanh-form GELU, the sigmoid and tanh gradients, the swish gradient for
    beta != 1), about twice as fast; a few found a float32 arithmetic form within the bound
    (softplus, logsigmoid, exact GELU and its gradient, the silu gradient).
    ``float64`` in gives ``float64``.
    """
    return np.float64(x)
