"""fastact: neural-network activation functions at hardware speed from plain NumPy code.

>>> import numpy as np, fastact
>>> fastact.relu(np.array([-1.0, 0.5], dtype=np.float32))
array([0. , 0.5], dtype=float32)

Every activation ``f`` in :data:`ACTIVATIONS` has a forward function ``fastact.f(x, *params, *,
out=None, inplace=False, backend=None)`` and a fused backward ``fastact.f_grad(grad_output, x,
*params, *, out=None, backend=None) = grad_output * f'(x)``; both are generated from the registry.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from . import _calls, _generate
from .analysis import analyze, dead_fraction, plot
from .backends import BACKENDS
from .chunked import chunked
from .dispatch import explain, use_backend
from .registry import ACTIVATIONS
from .tuning import tune

try:
    __version__ = _version("fastact")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

_FUNCTIONS = _generate.public_functions()
globals().update(_FUNCTIONS)
derivative = _calls.derivative


def warmup(progress=None) -> int:
    """Build every kernel's ufunc now (compiled, or loaded from Numba's cache); returns how many.

    The ufuncs serve broadcasting, strided and float16 calls; the contiguous fast-path loops are
    compiled on their first call per dtype (and cached on disk too). ``progress``, if given, is
    called as ``progress(done, total, name)`` after each ufunc.
    """
    from .backends import cpu

    names = sorted(cpu.KERNELS)
    for i, name in enumerate(names, 1):
        cpu.ufunc(name)
        if progress is not None:
            progress(i, len(names), name)
    return len(names)


def info() -> dict:
    """The machine and the configuration fastact runs with, as a dict of plain values."""
    import os
    import platform

    import numba
    import numpy
    import psutil

    from . import dispatch, hardware
    from .backends import parallel

    layer = parallel.layer() or f"not loaded yet (configured: {numba.config.THREADING_LAYER})"
    usable, why = parallel.usable()
    thresholds, source = dispatch.thresholds()
    mem = psutil.virtual_memory()
    return {
        "fastact": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "cpu": hardware.cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "affinity": hardware.affinity(),
        "caches": hardware.cache_sizes(),
        "memory_total": mem.total,
        "memory_available": mem.available,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "parallel_threads": parallel.threads() if usable else 1,
        "parallel": "usable" if usable else why,
        "threading_layer": layer,
        "block_elements_float32": parallel.block_elements(2, 4),
        "thresholds": thresholds,
        "thresholds_from": source,
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR") or "(next to the sources)",
        "backends": list(BACKENDS),
        "cuda": _cuda_info(),
        "activations": list(ACTIVATIONS),
    }


def _cuda_info() -> str:
    """The cuda backend's state in words (imports numba.cuda only where a driver or the simulator
    could make it usable)."""
    import os

    from . import hardware
    from .backends import cuda

    presence = hardware.cuda_presence()
    if presence.startswith("no CUDA driver") and not os.environ.get("NUMBA_ENABLE_CUDASIM"):
        return f"not usable: {presence}"
    try:
        ok, why = cuda.usable()
    except Exception as e:  # noqa: BLE001 - diagnostics must not fail
        ok, why = False, f"{type(e).__name__}: {e}"
    return f"usable: {why}" if ok else f"not usable: {why}"


__all__ = [
    "ACTIVATIONS", "BACKENDS", "analyze", "chunked", "dead_fraction", "derivative", "explain",
    "info", "plot", "tune", "use_backend", "warmup",
    *_FUNCTIONS,
]
