"""The pieces the registry's reference formulas are written with.

Each activation's entry carries a :class:`Reference`: its f and f' in float64 NumPy/SciPy
(vectorized, stable formulations accurate to a few float64 ULP on every float32 input: ``expit``,
``log_expit``, ``ndtr``), used to check float32 results; and in mpmath at 50 digits on an exact
float64 input, used to check float64. SciPy and mpmath are test and tool dependencies, not
fastact's: :data:`sp` and :data:`mp` import them on first use, so ``import fastact`` never does.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

INF = math.inf

#: mpmath's working precision for the references, in decimal digits
MP_DIGITS = 50


class _Lazy:
    """A module imported on first attribute access."""

    def __init__(self, name, setup=None):
        self._name, self._setup, self._module = name, setup, None

    def __getattr__(self, attr):
        if self._module is None:
            module = importlib.import_module(self._name)
            if self._setup is not None:
                self._setup(module)
            self._module = module
        return getattr(self._module, attr)


def _set_digits(mpmath):
    mpmath.mp.dps = MP_DIGITS


#: scipy.special, imported when a reference is first evaluated
sp = _Lazy("scipy.special")
#: mpmath at :data:`MP_DIGITS` digits, imported when a reference is first evaluated
mp = _Lazy("mpmath", _set_digits)


@dataclass(frozen=True)
class Reference:
    """An activation's references: float64 ``f(x, **p)``, ``df(x, **p)``; mpmath ``mf(x, **p)``,
    ``mdf(x, **p)`` (``x`` an mpf holding a float64 exactly)."""

    f: Callable
    df: Callable
    mf: Callable
    mdf: Callable
    #: the parameter sets the tests run (the defaults first); a choice parameter is not listed
    #: here: each variant has its own reference
    params: tuple[dict, ...] = ({},)
    #: zeros of f' (near them a relative error of the gradient is meaningless: the tests use an
    #: absolute bound)
    roots: tuple[float, ...] = ()


def limits(x, y, neg, pos):
    """y with its values at x = -inf / +inf replaced by the limits."""
    y = np.where(x == -INF, neg, y)
    return np.where(x == INF, pos, y)


def mp_piecewise(f):
    """The mpmath reference of an exact piecewise-linear float64 formula ``f``."""
    return lambda x, **p: mp.mpf(float(f(np.float64(x), **p)))


def mp_sigmoid(z):
    return 1 / (1 + mp.exp(-z))
