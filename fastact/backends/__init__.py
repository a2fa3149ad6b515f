"""Backends: array loops generated from the scalar kernels named in the registry.

``BACKENDS`` lists the names a user may pass as ``backend=``; ``"auto"`` lets the dispatcher choose.
"""

from . import cpu, cuda, parallel

#: backend name -> module with ``call(ufunc_name, args, out, dtype)``
_IMPLEMENTATIONS = {"cpu": cpu, "parallel": parallel, "cuda": cuda}
#: every valid ``backend=`` value
BACKENDS = ("auto", *_IMPLEMENTATIONS)


def get(name):
    """The implementation module of a concrete backend."""
    return _IMPLEMENTATIONS[name]
