"""The one decorator every scalar kernel uses.

Scalar kernels are ``njit(inline="always")`` so that the backends (NumPy ufunc loops now; parallel
and CUDA loops later) inline them into their own loops: the math of an activation is written once.
"""

import numpy as np
from numba import njit

#: The fast-math flags the loops are compiled with: only ``contract`` (a*b + c -> FMA), which
#: halves the cost of every polynomial and only ever removes a rounding. Not ``nnan``/``ninf``
#: (they break NaN/inf semantics and comparisons), ``nsz`` (relu(-0.0) is -0.0), ``reassoc``
#: (it undoes the error-free transformations: ``(t + SHIFTER) - SHIFTER``, Fast2Sum, log1p's
#: correction), nor ``arcp``/``afn`` (no speed here: there is no approximate divide to use).
FASTMATH = {"contract"}

#: Compiler options shared by every kernel. ``error_model="numpy"``: Python's error model adds a
#: zero-division check that blocks SIMD.
KERNEL_OPTIONS = {"inline": "always", "cache": True, "error_model": "numpy",
                  "fastmath": FASTMATH}


def kernel(func):
    """Compile ``func`` as an always-inlined scalar Numba kernel."""
    return njit(**KERNEL_OPTIONS)(func)


@kernel
def wide(x):
    """``x`` as float64, for the float32 kernels evaluated in float64 with the float64 kernel's
    own math (mish and its gradient).

    Where a kernel composes several float32 roundings on an ill-conditioned path, its float32
    error would exceed the 4-ULP bound; evaluated in float64 (still SIMD, 4 lanes instead of 8)
    and rounded once it stays within 0.5 ULP. Most such kernels instead have a float32 form
    written in plain float64 with float32-grade polynomials (``kernels._math.by_dtype`` with
    ``exp_lean``: the tanh-form GELU, the sigmoid and tanh gradients, the swish gradient for
    beta != 1), about twice as fast; a few found a float32 arithmetic form within the bound
    (softplus, logsigmoid, exact GELU and its gradient, the silu gradient).
    ``float64`` in gives ``float64``.
    """
    return np.float64(x)
