"""Which backend runs a call: overrides first, then the policy.

Precedence: ``backend=`` > :func:`use_backend` > ``FASTACT_BACKEND`` > the automatic choice.
In this version the only concrete backend is the serial SIMD ``"cpu"`` backend, so ``"auto"``
resolves to it for every size and dtype; the parallel and CUDA backends add measured thresholds.
"""

from __future__ import annotations

import contextlib
import contextvars
import os

import numpy as np

from . import backends
from .registry import ACTIVATIONS

_override: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fastact_backend", default=None
)


def _validate(name, origin):
    if name not in backends.BACKENDS:
        raise ValueError(
            f"unknown backend {name!r}{origin}; valid backends: {', '.join(backends.BACKENDS)}"
        )
    return name


def resolve(backend: str | None) -> str:
    """The requested backend name after the precedence rules (may be ``"auto"``)."""
    if backend is not None:
        return _validate(backend, "")
    name = _override.get()
    if name is not None:
        return name
    env = os.environ.get("FASTACT_BACKEND")
    if env:
        return _validate(env, " (from FASTACT_BACKEND)")
    return "auto"


def choose(requested: str, spec, shape, dtype) -> tuple[str, str]:
    """(concrete backend, reason) for a call."""
    if requested != "auto":
        return requested, "requested"
    return "cpu", "serial SIMD loops (the only CPU backend in this version)"


def backend_for(requested, spec, shape, dtype):
    """The implementation module that runs the call."""
    return backends.get(choose(requested, spec, shape, dtype)[0])


@contextlib.contextmanager
def use_backend(name: str):
    """Run the calls in this context (thread or task) on backend ``name``.

    >>> import fastact
    >>> with fastact.use_backend("cpu"):
    ...     fastact.relu([-1.0, 1.0])
    array([0., 1.])
    """
    token = _override.set(_validate(name, ""))
    try:
        yield
    finally:
        _override.reset(token)


def explain(x, name: str = "relu", backend: str | None = None) -> str:
    """One line saying which backend would run ``name`` on ``x`` and why.

    >>> import numpy as np, fastact
    >>> fastact.explain(np.zeros(1000, np.float32), "gelu")  # doctest: +ELLIPSIS
    'gelu on float32[1000] (3.9 KiB): backend cpu, serial SIMD loops ...'
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    requested = resolve(backend)
    chosen, why = choose(requested, ACTIVATIONS[name], arr.shape, arr.dtype)
    if requested != "auto":
        origin = "backend=" if backend is not None else (
            "use_backend()" if _override.get() else "FASTACT_BACKEND")
        why = f"requested by {origin}"
    shape = ",".join(map(str, arr.shape))
    return f"{name} on {arr.dtype}[{shape}] ({_size(arr.nbytes)}): backend {chosen}, {why}"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover
