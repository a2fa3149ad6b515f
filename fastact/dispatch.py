"""Which backend runs a call: overrides first, then the policy.

Precedence: ``backend=`` > :func:`use_backend` > ``FASTACT_BACKEND`` > the tuned profile's
thresholds (``fastact tune``) > the built-in thresholds below. ``"auto"`` runs the serial
``"cpu"`` backend below an element-count threshold per activation family and dtype, and the
``"parallel"`` backend from it on (where more than one CPU is usable and the process may launch
threads, see :mod:`fastact.backends.parallel`). CUDA device arrays always run on ``"cuda"`` (an
explicit CPU backend is refused: it cannot read device memory); host arrays go to ``"cuda"`` under
"auto" only from the host-streaming threshold a tuned profile measured (``fastact tune`` on a
machine with a GPU; none by default: the transfer rarely pays for an element-wise kernel).

This module owns the dispatch state (the thresholds in force and where they come from, the
:func:`use_backend` override); other modules reach it only through the functions here:
:func:`thresholds`, :func:`parallel_threshold`, :func:`reload_profile`, :func:`use_thresholds`,
:func:`override`, :func:`resolve`, :func:`choose`, :func:`backend_for` and :func:`router` (the
public functions' fast-path decision). The tuned profile is read through :mod:`fastact.profiles`.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os

import numpy as np

from . import backends, profiles
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

# The dispatch state, owned here: the thresholds in force (None until the first call that needs
# them loads the tuned profile or falls back to the defaults) and where they come from.
_state = {"thresholds": None, "source": "built-in defaults"}


def reload_profile():
    """Forget the loaded profile: the next call reads it again (``tune`` calls this)."""
    _state["thresholds"] = None


def thresholds() -> tuple[dict, str]:
    """(thresholds {family: {dtype: elements}}, where they come from)."""
    table = _state["thresholds"]
    if table is None:
        tuned = profiles.load_profile()
        table = tuned or DEFAULT_THRESHOLDS
        _state["source"] = f"tuned profile {profiles.profile_path()}" if tuned else \
            "built-in defaults"
        _state["thresholds"] = table
    return table, _state["source"]


def streaming_bytes() -> int | None:
    """Output bytes from which the parallel backend's memory-bound loops (the piecewise-linear
    family's, out of place) write with streaming stores: the tuned profile's measurement
    (``fastact tune``); None, never, without one or where they did not win."""
    return thresholds()[0].get("streaming")


backends.parallel.streaming_limit = streaming_bytes


@contextlib.contextmanager
def use_thresholds(table: dict, source: str):
    """Run the calls in this context with thresholds ``table`` ({family: {dtype: elements}},
    optionally with "inplace", "cuda" and "streaming" entries as in a tuned profile); the
    previous state comes back after."""
    before = dict(_state)
    _state.update(thresholds=table, source=source)
    try:
        yield
    finally:
        _state.update(before)


_override: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fastact_backend", default=None
)


def override() -> str | None:
    """The backend :func:`use_backend` set for this context (thread or task), or None."""
    return _override.get()


# FASTACT_BACKEND as the fast path sees it: a lookup in os.environ costs ~0.7 us (a missing key
# raises KeyError inside the mapping), several times a small call's whole cost. The answer is
# kept with the environment's size and looked up again whenever the size changes, which setting
# or removing FASTACT_BACKEND does. Only the fast path reads this; every other call reads
# os.environ itself (:func:`resolve`), and the fast path declines whenever it sees the variable.
_environ_size = getattr(os.environ, "_data", os.environ).__len__  # the dict's own: ~15 ns
_env_seen = [(-1, False)]  # [(size of os.environ then, FASTACT_BACKEND set then)]
_env_quiet = [-1]  # [the size at which FASTACT_BACKEND was last seen unset; -1: it was set]


def backend_env_set() -> bool:
    """Whether FASTACT_BACKEND is set, looked up again only when the environment's size changed
    (then :func:`small_call_state`'s size is updated)."""
    seen = _env_seen[0]
    if seen[0] != _environ_size():
        seen = _env_seen[0] = (_environ_size(), "FASTACT_BACKEND" in os.environ)
        _env_quiet[0] = -1 if seen[1] else seen[0]
    return seen[1]


def serial_below(family: str, dtype: np.dtype) -> tuple[dict, int]:
    """(the thresholds table in force, n): while that table is in force, no override is active
    and FASTACT_BACKEND is unset, "auto" runs a host array of ``dtype`` (float32, float64 or
    bfloat16) of activation family ``family`` with fewer than n elements on the serial loop,
    whatever the machine, unless the call overwrites its input (:func:`parallel_threshold`).
    The fast paths keep the pair and check the rest on each call (see
    :func:`small_call_state`)."""
    table = thresholds()[0]
    key = "float64" if dtype.itemsize == 8 else "float32"
    n = table[family][key]
    gpu = (table.get("cuda") or {}).get(family, {}).get(key)
    return table, n if gpu is None else min(n, gpu)


def small_call_state():
    """(the dispatch state, the override's getter, the environment's size, [the size at which
    FASTACT_BACKEND was last seen unset]): a small call may take the serial loop when
    ``state["thresholds"]`` is the table :func:`serial_below` gave, the getter returns None and
    the environment's size is that size (a call through :func:`router` looks again whenever
    the size changes)."""
    return _state, _override.get, _environ_size, _env_quiet


def router(family: str):
    """``route(size, dtype, backend, inplace=False)`` for the public functions' fast path on a
    plain host array of activation family ``family``: None where the general path must decide
    (an override is active, a backend other than "auto" or "cpu" is named, the thresholds are
    not loaded yet, a tuned profile may send this size to the GPU), else whether "auto" (or
    "cpu": never) runs it on the parallel backend. ``dtype`` is float32, float64 or bfloat16;
    ``inplace``: the call overwrites its input (:func:`parallel_threshold`)."""
    state = _state
    get_override = _override.get
    env_seen, environ_size = _env_seen, _environ_size
    parallel = backends.parallel
    # (the thresholds table, then this family's: float32's and float64's parallel thresholds,
    # float32's and float64's GPU thresholds or None, float32's and float64's in-place
    # parallel thresholds), read again when the table changes
    held = [None]

    def limits_of(table):
        gpu = (table.get("cuda") or {}).get(family, {})
        held[:] = [table, table[family]["float32"], table[family]["float64"],
                   gpu.get("float32"), gpu.get("float64"),
                   *(parallel_threshold(table, family, kind, True)
                     for kind in ("float32", "float64"))]
        return held

    def route(size, dtype, backend, inplace=False):
        if backend == "cpu":  # named: the serial loop, whatever the size or an override
            return False
        table = state["thresholds"]
        if table is None:
            return None
        if backend is None:  # an override could choose another backend
            if get_override() is not None:
                return None
            seen = env_seen[0]
            if seen[0] != environ_size() or seen[1]:
                if backend_env_set():
                    return None
        elif backend != "auto":
            return None
        limits = held if held[0] is table else limits_of(table)
        wide = dtype.itemsize == 8  # float64; float32 and bfloat16 compute in float32
        gpu = limits[4] if wide else limits[3]
        if gpu is not None and size >= gpu:
            return None  # a tuned profile may send this size to the GPU: the general path
        if size < limits[1 + wide + 4 * inplace]:  # (the parallel threshold for this call)
            return False
        return parallel.usable()[0] and parallel.threads() > 1

    return route


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


def parallel_threshold(table: dict, family: str, kind: str, inplace: bool = False) -> int:
    """The element count from which "auto" runs the parallel backend, in thresholds ``table``:
    for a call that overwrites its input (``inplace``: an element-wise or gated call with
    ``inplace=True`` or ``out=`` its first input, ``bias=`` included), the in-place threshold
    where the table has one (a tuned profile: ``fastact tune`` times such calls on an input just
    written, as the operation before leaves it, see :func:`fastact.tuning.crossover`), else the
    family's. Axis-wise calls take the family's."""
    return table.get("inplace", table)[family][kind] if inplace else table[family][kind]


def choose(requested: str, spec, shape, dtype, inplace: bool = False) -> tuple[str, str]:
    """(concrete backend, reason) for a call (``inplace``: one that overwrites its input)."""
    if requested != "auto":
        return requested, "requested"
    n = math.prod(shape)
    table, source = thresholds()
    kind = "float64" if dtype.itemsize > 4 or dtype.kind in "biu" else "float32"
    limit = parallel_threshold(table, spec.family, kind, inplace)
    where = (f"{spec.family} {kind}{' in-place' if inplace and 'inplace' in table else ''} "
             f"threshold {limit} from {source}")
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


def backend_for(requested, spec, shape, dtype, inplace=False):
    """The implementation module that runs the call (``inplace``: it overwrites its input)."""
    if requested == "auto":
        return backends.get(choose(requested, spec, shape, dtype, inplace)[0])
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


def explain(x, name: str = "relu", backend: str | None = None, axis=-1,
            inplace: bool = False) -> str:
    """One line saying which backend would run ``name`` on ``x`` and why (for an axis-wise
    activation, reduced along ``axis``: also how its rows lie in memory; ``inplace``: for a
    call that overwrites ``x``).

    >>> import numpy as np, fastact
    >>> fastact.explain(np.zeros(1000, np.float32), "gelu")  # doctest: +ELLIPSIS
    'gelu on float32[1000] (3.9 KiB): backend cpu, 1000 elements < transcendental ...'
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
    requested = resolve(backend)
    if not isinstance(x, np.ndarray) and (hasattr(x, "__cuda_array_interface__")
                                          or getattr(x, "__cuda_ndarray__", False)):
        return _explain_device(x, name, requested)
    arr = x if isinstance(x, np.ndarray) else np.asarray(x)
    chosen, why = choose(requested, ACTIVATIONS[name], arr.shape, arr.dtype, inplace)
    if requested != "auto":
        origin = "backend=" if backend is not None else (
            "use_backend()" if _override.get() else "FASTACT_BACKEND")
        why = f"requested by {origin}"
        if requested == "cuda":
            ok, gpu = backends.cuda.usable()
            why += (f"; host data streamed through {gpu} in chunks on 2 streams" if ok
                    else f"; refused: the cuda backend is not usable: {gpu}")
    shape = ",".join(map(str, arr.shape))
    line = f"{name} on {arr.dtype}[{shape}] ({_size(arr.nbytes)}): backend {chosen}, {why}"
    if ACTIVATIONS[name].reduction:
        line += "; " + _rows_of(arr, name, axis)
    return line


def _rows_of(arr, name, axis) -> str:
    """How an axis-wise call reads ``arr``: its rows and whether they are read in place."""
    from ._axes import geometry, norm_axes

    axes = norm_axes(name, axis, arr.ndim)
    order = "C" if arr.flags.c_contiguous else ("F" if arr.flags.f_contiguous else None)
    geo = geometry(arr.shape, axes, order) if order and arr.ndim else None
    if geo is None:
        return "through one contiguous copy (strided, or the reduced axes are not neighbours)"
    outer, L, inner = geo
    if inner == 1:
        return f"{outer} rows of {L} contiguous elements, read in place"
    return (f"{outer * inner} rows of {L} elements {inner} apart, read in place as tiles of "
            "contiguous runs")


def _explain_device(x, name, requested) -> str:
    """explain() for a CUDA device array: it runs on "cuda" or is refused."""
    shape = tuple(getattr(x, "shape", ()))
    dtype = np.dtype(getattr(x, "dtype", "float32"))
    size = _size(math.prod(shape) * dtype.itemsize)
    head = f"{name} on {dtype}[{','.join(map(str, shape))}] ({size}, CUDA device array)"
    if requested not in ("auto", "cuda"):
        return f"{head}: refused: backend {requested!r} runs on the CPU"
    ok, why = backends.cuda.usable()
    if not ok:
        return f"{head}: refused: the cuda backend is not usable: {why}"
    return f"{head}: backend cuda, the data is on the GPU ({why})"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover
