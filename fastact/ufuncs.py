"""The raw NumPy ufuncs behind the public functions, one per kernel: ``fastact.ufuncs.relu``.

Each is a real :class:`numpy.ufunc` compiled by Numba (float32 and float64 loops; relu also has
integer loops), built on first access and cached on disk. They take the activation's parameters
as further inputs and support broadcasting, ``out=``, ``where=`` and the ufunc protocol
(``__array_ufunc__``), but none of the public functions' checks or dtype rules:

>>> import numpy as np
>>> from fastact import ufuncs
>>> ufuncs.leaky_relu(np.array([-2.0, 3.0]), 0.5)
array([-1.,  3.])
>>> ufuncs.relu_grad(np.ones(2), np.array([-1.0, 1.0]))
array([0., 1.])
"""

from .backends.cpu import KERNELS, ufunc


def __getattr__(name):
    if name in KERNELS:
        return ufunc(name)
    raise AttributeError(f"module 'fastact.ufuncs' has no attribute {name!r}")


def __dir__():
    return sorted(KERNELS)
