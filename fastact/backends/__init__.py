"""Backends: array loops generated from the scalar kernels named in the registry.

``BACKENDS`` lists the names a user may pass as ``backend=``; ``"auto"`` lets the dispatcher choose.
"""

from . import cpu

#: backend name -> module with ``call(ufunc_name, args, out, dtype)``
_IMPLEMENTATIONS = {"cpu": cpu}
#: every valid ``backend=`` value
BACKENDS = ("auto", *_IMPLEMENTATIONS)


def get(name):
    """The implementation module of a concrete backend."""
    return _IMPLEMENTATIONS[name]
