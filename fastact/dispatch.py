"""Which backend runs a call: overrides first, then the policy.

Precedence: ``backend=`` > :func:`use_backend` > ``FASTACT_BACKEND`` > the tuned profile's
thresholds (``fastact tune``) > the built-in thresholds below. ``"auto"`` runs the serial
``"cpu"`` backend below an element-count threshold per activation family and dtype, and the
``"parallel"`` backend from it on (where more than one CPU is usable and the process may launch
threads, see :mod:`fastact.backends.parallel`). CUDA device arrays always run on ``"cuda"`` (an
explicit CPU backend is refused: it cannot read device memory); host arrays go to ``"cuda"`` under
"auto" only from the host-streaming threshold a tuned profile measured (``fastact tune`` on a
machine with a GPU; none by default: the transfer rarely pays for an element-wise kernel).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os

import numpy as np

from . import backends
from .registry import ACTIVATIONS, PIECEWISE_LINEAR, TRANSCENDENTAL

#: Element counts from which "auto" runs the parallel backend, per family and dtype. Chosen from
#: three runs of ``FASTACT_PROFILE=/tmp/p.json fastact tune`` (fastact.tuning.crossover, sizes
#: 2**10..2**22) on the build machine, a 2-core AMD EPYC (Zen 3, AVX2, 512 KiB L2, 32 MiB L3),
#: Numba 0.68, omp layer, 2026-11-22; measured crossovers: relu 2**16-2**18 (float32) and
#: 2**16-2**18 (float64), sigmoid 2**15-2**17 (float32) and 2**12-2**15 (float64). Below: the
#: upper end for relu (memory-bound: a second thread gains little just above it) and the middle
#: run for sigmoid (the dearer transcendental kernels cross over earlier still). docs/parallel.md.
DEFAULT_THRESHOLDS = {
    PIECEWISE_LINEAR: {"float32": 1 << 18, "float64": 1 << 18},
    TRANSCENDENTAL: {"float32": 1 << 16, "float64": 1 << 13},
}

_profile = {"loaded": False, "thresholds": None, "source": "built-in defaults"}


def reload_profile():
    """Forget the loaded profile: the next call reads it again (``tune`` calls this)."""
    _profile["loaded"] = False


def thresholds() -> tuple[dict, str]:
    """(thresholds {family: {dtype: elements}}, where they come from)."""
    if not _profile["loaded"]:
        from . import tuning

        tuned = tuning.load_profile()
        _profile["thresholds"] = tuned or DEFAULT_THRESHOLDS
        _profile["source"] = f"tuned profile {tuning.profile_path()}" if tuned else \
            "built-in defaults"
        _profile["loaded"] = True
    return _profile["thresholds"], _profile["source"]

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
    n = math.prod(shape)
    table, source = thresholds()
    kind = "float32" if dtype.itemsize <= 4 and dtype.kind == "f" else "float64"
    limit = table[spec.family][kind]
    where = f"{spec.family} {kind} threshold {limit} from {source}"
    gpu = table.get("cuda", {}).get(spec.family, {}).get(kind)
    if gpu is not None and n >= gpu and backends.cuda.usable()[0]:
        return "cuda", f"{n} elements >= cuda host-streaming threshold {gpu} from {source}"
    if n < limit:
        return "cpu", f"{n} elements < {where}"
    ok, why = backends.parallel.usable()
    if not ok:
        return "cpu", f"serial: {why}"
    threads = backends.parallel.threads()
    if threads < 2:
        return "cpu", "serial: one CPU usable (affinity or numba.set_num_threads)"
    return "parallel", f"{threads} threads: {n} elements >= {where}"


def backend_for(requested, spec, shape, dtype):
    """The implementation module that runs the call."""
    if requested == "auto":
        return backends.get(choose(requested, spec, shape, dtype)[0])
    return backends.get(requested)


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
    'gelu on float32[1000] (3.9 KiB): backend cpu, 1000 elements < transcendental ...'
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    requested = resolve(backend)
    if not isinstance(x, np.ndarray) and (hasattr(x, "__cuda_array_interface__")
                                          or getattr(x, "__cuda_ndarray__", False)):
        from . import _device

        return _device.explain(x, name, requested)
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    chosen, why = choose(requested, ACTIVATIONS[name], arr.shape, arr.dtype)
    if requested != "auto":
        origin = "backend=" if backend is not None else (
            "use_backend()" if _override.get() else "FASTACT_BACKEND")
        why = f"requested by {origin}"
        if requested == "cuda":
            ok, gpu = backends.cuda.usable()
            why += (f"; host data streamed through {gpu} in chunks on 2 streams" if ok
                    else f"; refused: the cuda backend is not usable: {gpu}")
    shape = ",".join(map(str, arr.shape))
    return f"{name} on {arr.dtype}[{shape}] ({_size(arr.nbytes)}): backend {chosen}, {why}"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover
