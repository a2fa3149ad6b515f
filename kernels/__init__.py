"""Scalar activation kernels: the math of every activation, written once, as a public Numba API.

Installed as ``fastact.kernels``. Each activation ``f`` has a forward kernel ``f(x, *params)`` and a
gradient kernel ``f_grad(g, x, *params) = g * f'(x)`` (and, where f' follows from the output,
``f_grad_result(g, y, *params)``), with the parameters of the public function in its order
(``softplus(x, beta, threshold)``, ``hardtanh(x, min_val, max_val)``; a ``"choice"`` parameter
selects a kernel instead: ``gelu`` and ``gelu_tanh``). The kernels are:

- scalar: numbers in, a number out; no arrays, dispatch or I/O;
- dtype-generic: float32 arguments give a float32 result computed in float32 (or in float64 and
  rounded once), float64 arguments a float64 result; parameters of the argument's type. Other
  types are not supported (a typing error for the kernels with a float32 form of their own);
- ``@njit(forceinline=True)``: callable only from compiled code, where LLVM inlines them, so a
  loop calling them is vectorized (SIMD) as if the formula were written in it. They are callable
  from a user's ``@njit``, ``@vectorize`` and ``@cuda.jit`` functions (for a GPU, call
  :func:`register_cuda` once before compiling; the CUDA simulator needs nothing).

A kernel is compiled with fastact's own options, whatever its caller's. Compile the caller with
the same two, as fastact's backends are: ``fastmath=FASTMATH`` (FMA contraction only), so that
the caller's own arithmetic around the kernel rounds as fastact's does, and
``error_model="numpy"`` (Python's adds a zero-division check that stops vectorization), to get
fastact's results bit for bit and at its speed::

    from numba import njit
    from fastact import kernels as K

    @njit(fastmath=K.FASTMATH, error_model="numpy")
    def bias_gelu(x, b, out):
        for i in range(x.size):
            out[i] = K.gelu(x[i] + b[i % b.size])

The backends in ``fastact.backends`` compile them into array loops; ``fastact.registry`` says which
kernel pair belongs to which public activation. Each family module lists its public kernels in
``__all__``; this package re-exports them, so a new kernel is public once its family's ``__all__``
names it.
"""

from . import axiswise, exponential, gated, gated_linear, hard, rectifier, sigmoidal
from ._jit import FASTMATH, register_cuda
from .axiswise import *  # noqa: F403
from .exponential import *  # noqa: F403
from .gated import *  # noqa: F403
from .gated_linear import *  # noqa: F403
from .hard import *  # noqa: F403
from .rectifier import *  # noqa: F403
from .sigmoidal import *  # noqa: F403

#: the names of the scalar kernels
KERNELS = tuple(sorted(
    name for family in (axiswise, exponential, gated, gated_linear, hard, rectifier, sigmoidal)
    for name in family.__all__
))

__all__ = ["FASTMATH", "KERNELS", "register_cuda", *KERNELS]
