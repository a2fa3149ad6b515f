"""Scalar activation kernels: the math of every activation, written once.

Installed as ``fastact.kernels``. Each activation ``f`` has a forward kernel ``f(x, *params)`` and a
gradient kernel ``f_grad(g, x, *params) = g * f'(x)``; all are ``@njit(inline="always")`` scalar
functions, with no arrays, dispatch or I/O. The backends in ``fastact.backends`` compile them into
array loops; ``fastact.registry`` says which kernel pair belongs to which public activation.

Each family module lists its public kernels in ``__all__``; this package re-exports them, so a new
kernel is public once its family's ``__all__`` names it.
"""

from . import exponential, gated, hard, rectifier, sigmoidal
from .exponential import *  # noqa: F403
from .gated import *  # noqa: F403
from .hard import *  # noqa: F403
from .rectifier import *  # noqa: F403
from .sigmoidal import *  # noqa: F403

__all__ = sorted(
    name for family in (exponential, gated, hard, rectifier, sigmoidal) for name in family.__all__
)
