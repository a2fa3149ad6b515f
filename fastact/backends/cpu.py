"""The serial CPU backend: one NumPy ufunc per kernel, compiled by Numba ``@vectorize``.

Ufuncs are built on first use (import stays fast) with float32 and float64 loops (plus the integer
loops of activations that keep integer dtypes) and ``cache=True``, so a new process loads them
from Numba's cache instead of compiling. NumPy's ufunc machinery then gives broadcasting, strides,
casting (float16 through the float32 loop) and overlap handling of ``out=``.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import vectorize

from ..registry import ACTIVATIONS

FLOAT_TYPES = ("float32", "float64")
INTEGER_TYPES = (
    "boolean", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
)


def _kernel_table():
    table = {}
    for spec in ACTIVATIONS.values():
        for name, (kern, nin) in spec.ufunc_kernels().items():
            integer = spec.keeps_integers and name == spec.name
            table[name] = (kern, nin, FLOAT_TYPES + (INTEGER_TYPES if integer else ()))
    return table


#: ufunc name -> (scalar kernel, number of inputs, loop types)
KERNELS = _kernel_table()

_lock = threading.Lock()
_dufuncs: dict = {}  # name -> Numba DUFunc: owns the compiled loops of one np.ufunc
_ready: dict = {}  # (name, dtype char) -> np.ufunc whose loop for that dtype is compiled


def _dufunc(name):
    dufunc = _dufuncs.get(name)
    if dufunc is None:
        kern, _, _ = KERNELS[name]  # KeyError for an unknown name
        dufunc = _dufuncs.setdefault(name, vectorize(cache=True)(kern.py_func))
    return dufunc


def _ensure(name: str, dtype: np.dtype) -> np.ufunc:
    """The ufunc of kernel ``name`` with its loop for ``dtype`` compiled (or loaded from cache).

    Loops are added one dtype at a time: loading a cached loop still costs tens of milliseconds
    (Numba rebuilds the ufunc wrapper), so a float32 user never pays for the float64 loop.
    """
    key = (name, dtype.char)
    uf = _ready.get(key)
    if uf is not None:
        return uf
    _, nin, types = KERNELS[name]
    if dtype.name not in types and not (dtype.kind == "b" and "boolean" in types):
        raise TypeError(f"{name}: no {dtype} loop")
    with _lock:
        dufunc = _dufunc(name)
        if key not in _ready:
            t = "boolean" if dtype.kind == "b" else dtype.name
            dufunc.add(f"{t}({', '.join([t] * nin)})")
            _ready[key] = dufunc.ufunc
    return _ready[key]


def ufunc(name: str) -> np.ufunc:
    """The NumPy ufunc of kernel ``name`` (``"relu"``, ``"gelu_tanh_grad"``...), all loops built."""
    for t in KERNELS[name][2]:
        uf = _ensure(name, np.dtype("bool" if t == "boolean" else t))
    return uf


def call(name, args, out, dtype):
    """Apply kernel ``name`` element-wise in ``dtype``; ``out`` is None (allocate) or checked."""
    uf = _ensure(name, dtype)
    # The loops raise IEEE flags that are not errors here (an ordered SIMD compare with NaN sets
    # "invalid"; exp underflows in the tails): NumPy would turn them into RuntimeWarnings.
    with np.errstate(all="ignore"):
        if out is None:
            return uf(*args, dtype=dtype)
        return uf(*args, out=out, dtype=dtype)
