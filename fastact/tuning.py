"""Tuned thresholds: measured serial/parallel crossovers, stored as a JSON profile per machine.

``fastact tune`` (or :func:`tune`) times the serial and the parallel backend on one cheap
(piecewise-linear: relu) and one transcendental activation (sigmoid, the cheapest of them) for each
dtype over sizes from 2**10 to 2**22 elements, and records for each the smallest size from which
the parallel backend is faster (there and at the next two sizes). The profile is JSON (never
pickle), in the user cache directory, named by a fingerprint of the machine (CPU model, usable
CPUs, Numba version): a profile written on another machine or by another Numba is ignored with a
warning, and so is a corrupted one. ``FASTACT_PROFILE=path`` reads (and ``tune`` writes) that
file instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import hardware
from .registry import PIECEWISE_LINEAR, TRANSCENDENTAL

PROFILE_VERSION = 1
#: the activation timed for each family: the cheapest of the family has the highest crossover
PROBES = {PIECEWISE_LINEAR: "relu", TRANSCENDENTAL: "sigmoid"}
DTYPES = ("float32", "float64")
SIZES = tuple(1 << k for k in range(10, 23))


def fingerprint() -> dict:
    """What a profile is valid for: the CPU, how many CPUs this process may use, Numba."""
    import numba

    return {
        "cpu": hardware.cpu_model(),
        "cpus": len(hardware.affinity()),
        "numba": numba.__version__,
    }


def cache_dir() -> Path:
    """The per-user cache directory for fastact (XDG on Linux, the platform's elsewhere)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "fastact"


def profile_path(fp: dict | None = None) -> Path:
    """Where the profile is read and written: ``FASTACT_PROFILE`` or the cache directory."""
    env = os.environ.get("FASTACT_PROFILE")
    if env:
        return Path(env)
    key = hashlib.sha1(json.dumps(fp or fingerprint(), sort_keys=True).encode()).hexdigest()
    return cache_dir() / f"profile-{key[:12]}.json"


def load_profile(path: Path | None = None) -> dict | None:
    """The profile's thresholds {family: {dtype: elements}}, or None (with a warning if unusable).

    A missing file is silent; an unreadable, malformed or foreign profile warns and is ignored.
    """
    fp = fingerprint()
    path = path or profile_path(fp)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as e:
        warnings.warn(f"fastact: cannot read the tuned profile {path}: {e}", RuntimeWarning,
                      stacklevel=3)
        return None
    try:
        data = json.loads(text)
        if data.get("version") != PROFILE_VERSION:
            raise ValueError(f"version {data.get('version')!r}, expected {PROFILE_VERSION}")
        thresholds = data["thresholds"]
        clean = {}
        for family in PROBES:
            clean[family] = {}
            for dtype in DTYPES:
                value = thresholds[family][dtype]
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"threshold {family}/{dtype} is {value!r}")
                clean[family][dtype] = value
        if "cuda" in thresholds:  # host-streaming thresholds (a GPU machine); None: never
            clean["cuda"] = {}
            for family in PROBES:
                clean["cuda"][family] = {}
                for dtype in DTYPES:
                    value = thresholds["cuda"][family][dtype]
                    if value is not None and (not isinstance(value, int) or isinstance(
                            value, bool) or value < 0):
                        raise ValueError(f"threshold cuda/{family}/{dtype} is {value!r}")
                    clean["cuda"][family][dtype] = value
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        warnings.warn(f"fastact: ignoring the corrupted tuned profile {path} ({e}); "
                      "run `fastact tune` to rewrite it", RuntimeWarning, stacklevel=3)
        return None
    if data.get("fingerprint") != fp:
        warnings.warn(f"fastact: ignoring the tuned profile {path}: it was measured for "
                      f"{data.get('fingerprint')}, this is {fp}; run `fastact tune`",
                      RuntimeWarning, stacklevel=3)
        return None
    return clean


def _median_time(fn, budget=0.04, min_runs=7):
    fn()  # warm: compiled, caches filled
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < budget and len(times) < 200):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def crossover(name: str, dtype: str, sizes=SIZES, progress=None) -> tuple[int, list]:
    """Smallest size from which ``parallel`` beats ``cpu`` on ``name`` (medians of timings).

    The smallest measured size where the parallel backend is faster there and at the next two
    sizes (one noisy point on a shared machine must not move the crossover by 8x). Returns
    (threshold, rows of (size, serial seconds, parallel seconds)); the threshold is one past the
    largest size measured where the parallel backend never wins.
    """
    from .backends import cpu, parallel

    rng = np.random.default_rng(0)
    x = rng.standard_normal(max(sizes)).astype(dtype)
    out = np.empty_like(x)
    dt = np.dtype(dtype)
    rows = []
    for n in sizes:
        xs, os_ = x[:n], out[:n]
        serial = _median_time(lambda xs=xs, os_=os_: cpu.call(name, [xs], os_, dt))
        par = _median_time(lambda xs=xs, os_=os_: parallel.call(name, [xs], os_, dt))
        rows.append((n, serial, par))
        if progress is not None:
            progress()
    return _first_win(rows, sizes), rows


def _first_win(rows, sizes):
    """The smallest size where the second timing wins there and at the next two sizes, else one
    past the largest size."""
    wins = [b < a for _, a, b in rows]
    for i, (n, _, _) in enumerate(rows):
        if all(wins[i:i + 3]):
            return n
    return max(sizes) + 1


#: Sizes for the host-streaming crossover (transfers need large arrays to pay, if ever).
GPU_SIZES = tuple(2 ** k for k in range(18, 27, 2))


def gpu_crossover(name: str, dtype: str, sizes=GPU_SIZES, progress=None):
    """Smallest size from which streaming host data through the GPU (``backend="cuda"``) beats
    the best CPU backend on ``name``, or None where it never does; with the rows of (size, CPU
    seconds, cuda seconds)."""
    from . import dispatch
    from .backends import cuda
    from .registry import ACTIVATIONS

    rng = np.random.default_rng(0)
    x = rng.standard_normal(max(sizes)).astype(dtype)
    out = np.empty_like(x)
    dt = np.dtype(dtype)
    spec = ACTIVATIONS[name]
    rows = []
    for n in sizes:
        xs, os_ = x[:n], out[:n]
        best = dispatch.backends.get(dispatch.choose("auto", spec, (n,), dt)[0])
        if best is cuda:  # a profile already sending this size to the GPU: compare with parallel
            best = dispatch.backends.get("parallel")
        host = _median_time(lambda xs=xs, os_=os_, b=best: b.call(name, [xs], os_, dt))
        gpu = _median_time(lambda xs=xs, os_=os_: cuda.call(name, [xs], os_, dt))
        rows.append((n, host, gpu))
        if progress is not None:
            progress()
    thr = _first_win(rows, sizes)
    return (None if thr > max(sizes) else thr), rows


def tune(path: str | os.PathLike | None = None, progress: bool | None = None) -> dict:
    """Measure the serial/parallel crossovers on this machine and save them as the profile.

    Where a GPU is usable it also measures, per family and dtype, from which size streaming host
    arrays through it beats the CPU ("auto" then sends such host arrays to ``"cuda"``).

    Takes well under a minute (a few seconds more the first time, compiling the loops). Returns
    the profile written; later calls in this and new processes use its thresholds.
    ``progress`` (default: when stderr is a terminal) draws a progress bar on stderr.
    """
    from . import dispatch
    from .backends import cuda

    fp = fingerprint()
    target = Path(path) if path is not None else profile_path(fp)
    show = sys.stderr.isatty() if progress is None else progress
    gpu = cuda.usable()[0] and not cuda.simulated()
    total = len(PROBES) * len(DTYPES) * (len(SIZES) + (len(GPU_SIZES) if gpu else 0))
    done = [0]

    def step():
        done[0] += 1
        if show:
            bar = "#" * (30 * done[0] // total)
            sys.stderr.write(f"\rfastact tune [{bar:<30}] {done[0]}/{total}")
            sys.stderr.flush()

    start = time.perf_counter()
    thresholds, measurements = {}, {}
    for family, name in PROBES.items():
        thresholds[family] = {}
        for dtype in DTYPES:
            thr, rows = crossover(name, dtype, progress=step)
            thresholds[family][dtype] = thr
            measurements[f"{name}/{dtype}"] = [
                {"n": n, "cpu_s": s, "parallel_s": p} for n, s, p in rows]
    if gpu:  # after the CPU thresholds: the comparison is against what "auto" would run
        thresholds["cuda"] = {}
        dispatch._profile.update(thresholds=thresholds, loaded=True)
        for family, name in PROBES.items():
            thresholds["cuda"][family] = {}
            for dtype in DTYPES:
                thr, rows = gpu_crossover(name, dtype, progress=step)
                thresholds["cuda"][family][dtype] = thr
                measurements[f"{name}/{dtype}/cuda"] = [
                    {"n": n, "best_cpu_s": h, "cuda_s": c} for n, h, c in rows]
    if show:
        sys.stderr.write("\n")
    profile = {
        "version": PROFILE_VERSION,
        "fingerprint": fp,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.perf_counter() - start, 1),
        "thresholds": thresholds,
        "measurements": measurements,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(profile, indent=1))
    os.replace(tmp, target)  # atomic: a concurrent reader sees the old or the new file
    dispatch.reload_profile()
    profile["path"] = str(target)
    return profile
