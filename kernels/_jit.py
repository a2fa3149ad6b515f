"""The one decorator every scalar kernel uses, and the float64 widening helper.

Scalar kernels are ``njit(inline="always")`` so that the backends (NumPy ufunc loops now; parallel
and CUDA loops later) inline them into their own loops: the math of an activation is written once.
"""

import numpy as np
from numba import njit

#: Compiler options shared by every kernel.
#: - ``error_model="numpy"``: Python's error model adds a zero-division check that blocks SIMD.
#: - no ``fastmath``: its ``nnan``/``ninf`` flags break NaN/inf semantics, and ``contract`` would
#:   fuse the error-free products of ``two_prod`` below. A measured subset is for the SIMD work.
KERNEL_OPTIONS = {"inline": "always", "cache": True, "error_model": "numpy"}


def kernel(func):
    """Compile ``func`` as an always-inlined scalar Numba kernel."""
    return njit(**KERNEL_OPTIONS)(func)


@kernel
def wide(x):
    """``x`` as float64.

    Transcendental kernels evaluate in float64 and let the float32 loop round the result once: the
    float32 outputs are then within about 0.5 ULP of the exact value on the whole float32 range,
    tails and subnormal intermediates included. (The SIMD work replaces this with float32-native
    range-reduced math where it keeps the accuracy bound.)
    """
    return np.float64(x)
