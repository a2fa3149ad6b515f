"""Tuned thresholds: measured serial/parallel crossovers, saved as the machine's profile.

``fastact tune`` (or :func:`tune`) times the serial and the parallel backend on one cheap
(piecewise-linear: relu) and one transcendental activation (sigmoid, the cheapest of them) for each
dtype over sizes from 2**10 to 2**22 elements, and records for each the smallest size from which
the parallel backend is faster (there and at the next two sizes), into another array and in place
(the input just written, as the operation before an in-place call leaves it); and from which output
size the parallel backend's streaming stores win on relu ``out=`` (:func:`streaming_crossover`,
None where they never do: never assumed). The profile is stored and read by
:mod:`fastact.profiles` (JSON, per machine, ``FASTACT_PROFILE=path`` to choose the file).
"""

from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from . import dispatch, hardware
from .backends import cpu, cuda, parallel
from .profiles import (  # noqa: F401 - fastact.tuning's names for the profile, as before
    DTYPES,
    PROFILE_VERSION,
    cache_dir,
    fingerprint,
    load_profile,
    profile_path,
    save_profile,
)
from .registry import ACTIVATIONS, PIECEWISE_LINEAR, TRANSCENDENTAL

#: the activation timed for each family: the cheapest of the family has the highest crossover
PROBES = {PIECEWISE_LINEAR: "relu", TRANSCENDENTAL: "sigmoid"}
SIZES = tuple(1 << k for k in range(10, 23))


def _median_times(a, b, budget=0.08, min_runs=7, setup=None):
    """The median times of calls ``a`` and ``b``, alternating (A/B/A/B): on a shared machine a
    busy moment then slows both, where timing one after the other could credit it to one.
    ``setup``, where given, runs untimed before each call."""
    a(), b()  # warm: compiled, caches filled
    times = ([], [])
    start = time.perf_counter()
    while len(times[0]) < min_runs or (time.perf_counter() - start < budget
                                       and len(times[0]) < 200):
        for fn, into in ((a, times[0]), (b, times[1])):
            if setup is not None:
                setup()
            t = time.perf_counter()
            fn()
            into.append(time.perf_counter() - t)
    return tuple(float(np.median(t)) for t in times)


def crossover(name: str, dtype: str, sizes=SIZES, progress=None,
              inplace: bool = False) -> tuple[int, list]:
    """Smallest size from which ``parallel`` beats ``cpu`` on ``name`` (medians of timings,
    the two alternating).

    The smallest measured size where the parallel backend takes under CROSSOVER_GAIN of the
    serial loop's time, and under HOLD_GAIN at the next two sizes (one noisy point on a shared
    machine must not move the crossover by 8x). Returns (threshold, rows of (size, serial seconds,
    parallel seconds)); the threshold is one past the largest size measured where the parallel
    backend never wins.

    ``inplace``: each call overwrites its input, which this thread copies in first, untimed.
    An in-place call finds its input as the operation before it left it, in this core's caches,
    and a second thread must fetch its half from there; a serial loop, and a call into another
    array (which the tune times on data both threads left in their own caches), do not.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal(max(sizes)).astype(dtype)
    out = np.empty_like(x)
    dt = np.dtype(dtype)
    rows = []
    for n in sizes:
        xs, os_ = x[:n], out[:n]
        src = os_ if inplace else xs  # in place: the output is the input, copied in first
        serial, par = _median_times(
            *(partial(impl.call, name, [src], os_, dt) for impl in (cpu, parallel)),
            setup=partial(np.copyto, os_, xs) if inplace else None)
        rows.append((n, serial, par))
        if progress is not None:
            progress()
    return _first_win(rows, sizes), rows


#: the share of the serial loop's time the parallel loop (or the GPU, of the best CPU
#: backend's) must stay under to count as a win. Where the two are close the serial loop is
#: kept, which leaves the other cores free: a parallel loop that wins by less than a quarter
#: in the tune loses that, and more, whenever another process takes one of its cores; the
#: serial loop kept there takes at most 1.25x the parallel one's time (docs/parallel.md)
CROSSOVER_GAIN = 0.8
#: the share it must stay under at the next two sizes: larger arrays that leave the caches
#: gain less from more cores (bound by memory, docs/parallel.md), and a win there still keeps
#: the parallel loop
HOLD_GAIN = 0.9


def _first_win(rows, sizes):
    """The size from which the second timing wins: the first measured size where it takes
    under CROSSOVER_GAIN of the first's time and under HOLD_GAIN at the next two sizes, moved
    down to where the ratio of the two timings crosses CROSSOVER_GAIN between the size before
    it and that one (interpolated in log-size: the sizes are a factor 2 apart, and a crossover
    at 1.9x one of them should not become 2x); one past the largest size where it never does."""
    ratios = [b / a for _, a, b in rows]
    for i, (n, _, _) in enumerate(rows):
        if ratios[i] < CROSSOVER_GAIN and all(r < HOLD_GAIN for r in ratios[i + 1:i + 3]):
            if i == 0:
                return n
            before, r0, r1 = rows[i - 1][0], ratios[i - 1], ratios[i]
            t = (r0 - CROSSOVER_GAIN) / (r0 - r1)  # in (0, 1]: r1 < gain <= r0
            return int(round(before * (n / before) ** t))
    return max(sizes) + 1


#: float32 elements of relu ``out=`` for the streaming-store measurement (32 to 128 MiB out).
#: Smaller outputs are left out: one may stay in a shared L3 for the operation that reads it
#: next, which streaming stores would evict, and a call timed alone cannot see that cost.
STREAM_SIZES = tuple(1 << k for k in (23, 24, 25))
#: the share of the plain loop's time streaming stores must stay under to be used
STREAM_GAIN = 0.95


def streaming_crossover(sizes=None, progress=None) -> tuple[int | None, list]:
    """Output bytes from which the streaming-store loops (fastact.backends._stream) beat the
    plain ones on this machine, or None where they never do (or the machine has none); with
    the rows of (bytes, plain seconds, streaming seconds).

    Times relu ``out=`` in float32 with all threads, the two loops alternating (medians of
    pairs), at each size that fits in a quarter of the available memory; the threshold is the
    smallest size from which streaming takes under STREAM_GAIN of the plain loop's time there
    and at every larger size."""
    if not parallel.STREAMING_STORES:
        return None, []
    sizes = STREAM_SIZES if sizes is None else sizes
    free = hardware.psutil.virtual_memory().available
    sizes = [n for n in sizes if 8 * n <= free // 4]
    if not sizes:
        return None, []
    loops = parallel._par_loops()
    x = np.random.default_rng(0).standard_normal(max(sizes)).astype(np.float32)
    out = np.empty_like(x)
    rows = []
    for n in sizes:
        xs, os_ = x[:n], out[:n]
        block = parallel.block_elements(2, 4, n, parallel.threads())
        runs = {False: [], True: []}
        for stream in (False, True, False, True):  # warm: compiled, pages touched
            (loops.relu_stream if stream else loops.relu)(xs, os_, block)
        for _ in range(7):
            for stream in (False, True):
                t = time.perf_counter()
                (loops.relu_stream if stream else loops.relu)(xs, os_, block)
                runs[stream].append(time.perf_counter() - t)
        rows.append((4 * n, float(np.median(runs[False])), float(np.median(runs[True]))))
        if progress is not None:
            progress()
    wins = [s < STREAM_GAIN * p for _, p, s in rows]
    first = next((i for i in range(len(rows)) if all(wins[i:])), None)
    return (None if first is None else rows[first][0]), rows


#: Sizes for the host-streaming crossover (transfers need large arrays to pay, if ever).
GPU_SIZES = tuple(2 ** k for k in range(18, 27, 2))


def gpu_crossover(name: str, dtype: str, sizes=GPU_SIZES, progress=None):
    """Smallest size from which streaming host data through the GPU (``backend="cuda"``) beats
    the best CPU backend on ``name``, or None where it never does; with the rows of (size, CPU
    seconds, cuda seconds)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(max(sizes)).astype(dtype)
    out = np.empty_like(x)
    dt = np.dtype(dtype)
    spec = ACTIVATIONS[name]
    rows = []
    for n in sizes:
        xs, os_ = x[:n], out[:n]
        best = dispatch.backend_for("auto", spec, (n,), dt)
        if best is cuda:  # a profile already sending this size to the GPU: compare with parallel
            best = parallel
        host, gpu = _median_times(
            lambda xs=xs, os_=os_, b=best: b.call(name, [xs], os_, dt),
            lambda xs=xs, os_=os_: cuda.call(name, [xs], os_, dt))
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
    fp = fingerprint()
    target = Path(path) if path is not None else profile_path(fp)
    show = sys.stderr.isatty() if progress is None else progress
    gpu = cuda.usable()[0] and not cuda.simulated()
    total = (len(PROBES) * len(DTYPES) * (2 * len(SIZES) + (len(GPU_SIZES) if gpu else 0))
             + len(STREAM_SIZES))
    done = [0]

    def step():
        done[0] += 1
        if show:
            bar = "#" * (30 * done[0] // total)
            sys.stderr.write(f"\rfastact tune [{bar:<30}] {done[0]}/{total}")
            sys.stderr.flush()

    start = time.perf_counter()
    thresholds, measurements = {"inplace": {}}, {}
    for family, name in PROBES.items():
        thresholds[family], thresholds["inplace"][family] = {}, {}
        for dtype in DTYPES:
            for inplace, into, key in ((False, thresholds[family], f"{name}/{dtype}"),
                                       (True, thresholds["inplace"][family],
                                        f"{name}/{dtype}/inplace")):
                into[dtype], rows = crossover(name, dtype, progress=step, inplace=inplace)
                measurements[key] = [
                    {"n": n, "cpu_s": s, "parallel_s": p} for n, s, p in rows]
    streaming, rows = streaming_crossover(progress=step)
    thresholds["streaming"] = streaming
    measurements["relu/float32/out/streaming"] = [
        {"bytes": b, "plain_s": p, "streaming_s": s} for b, p, s in rows]
    if gpu:  # after the CPU thresholds: the comparison is against what "auto" would run
        gpu_table = {}
        with dispatch.use_thresholds(dict(thresholds), "fastact tune"):
            for family, name in PROBES.items():
                gpu_table[family] = {}
                for dtype in DTYPES:
                    thr, rows = gpu_crossover(name, dtype, progress=step)
                    gpu_table[family][dtype] = thr
                    measurements[f"{name}/{dtype}/cuda"] = [
                        {"n": n, "best_cpu_s": h, "cuda_s": c} for n, h, c in rows]
        thresholds["cuda"] = gpu_table
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
    save_profile(profile, target)
    dispatch.reload_profile()
    profile["path"] = str(target)
    return profile
