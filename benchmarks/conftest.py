"""Shared machinery for the benchmark suites: modes, machine info, data, honest timing."""

from __future__ import annotations

import gc
import os
import platform
import time

import numpy as np
import psutil
import pytest

#: "full" (default) or "quick" (BENCH=quick: fewer sizes and activations, same columns)
MODE = os.environ.get("BENCH", "full").strip().lower() or "full"
if MODE not in ("full", "quick"):
    raise pytest.UsageError(f"BENCH must be 'full' or 'quick', got {MODE!r}")

#: seconds of measurement per benchmark once an array is large enough to time one call at a time
TARGET_SECONDS = 0.25 if MODE == "quick" else 0.3
MIN_ROUNDS, MAX_ROUNDS = 3, 1000


def machine_info() -> dict:
    import numba

    import fastact
    from fastact import hardware

    info = {
        "cpu_model": hardware.cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "affinity": hardware.affinity(),
        "cpu_freq_mhz": getattr(psutil.cpu_freq(), "current", None),
        "caches": hardware.cache_sizes(),
        "memory_total": psutil.virtual_memory().total,
        "memory_available": psutil.virtual_memory().available,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threading_layer": fastact.info()["threading_layer"],
        "numba_num_threads": numba.config.NUMBA_NUM_THREADS,
        "fastact": fastact.__version__,
        "bench_mode": MODE,
    }
    for name in ("torch", "jax", "numexpr", "scipy"):
        try:
            mod = __import__(name)
            info[name] = mod.__version__
        except ImportError:
            info[name] = None
    if info["torch"]:
        import torch

        info["torch_num_threads"] = torch.get_num_threads()
    if info["numexpr"]:
        import numexpr

        info["numexpr_num_threads"] = numexpr.get_num_threads()
    return info


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info.update(globals()["machine_info"]())


def pytest_report_header(config):
    return f"fastact benchmarks, mode {MODE} (BENCH=quick for the short run)"


# -- data --------------------------------------------------------------------------------------


class Data:
    """Random normal inputs (never zeros), one size at a time to bound memory."""

    def __init__(self):
        self._key = None
        self._arrays = None

    def get(self, n: int, dtype) -> dict:
        key = (n, np.dtype(dtype).name)
        if key != self._key:
            self._arrays = None
            gc.collect()
            rng = np.random.default_rng(12345)
            x = (rng.standard_normal(n, dtype=np.float64) * 3).astype(dtype)
            g = rng.standard_normal(n, dtype=np.float64).astype(dtype)
            self._arrays = {"x": x, "g": g, "out": np.empty_like(x), "work": x.copy()}
            self._key = key
        return self._arrays


DATA = Data()


def skip_if_no_memory(n: int, itemsize: int, arrays: int) -> None:
    """Skip, saying why, when ``arrays`` arrays of n elements would not fit in free memory."""
    need = n * itemsize * arrays
    have = psutil.virtual_memory().available
    if need > 0.8 * have:
        reason = (f"needs ~{need / 2**30:.1f} GiB for N={n:.0e}, only {have / 2**30:.1f} GiB "
                  "available")
        print(f"\nSKIP: {reason}")
        pytest.skip(reason)


#: seconds under which a call is timed as a loop of calls (see :func:`interleaved`)
SHORT = 1e-4


def measure(benchmark, fn, setup=None, once=None):
    """Time ``fn`` (already called once, so warm): calibrated rounds for fast calls, otherwise one
    call per round for about TARGET_SECONDS; ``setup`` (untimed) runs before every round.
    ``once`` is a previous call's duration (else one more call measures it)."""
    # the warm-up call may have included a compile or a cache load (up to seconds): time one
    # more call unless that costs seconds, or a 2 us kernel would be timed in 3 single-call rounds
    if once is None or once < 2.0:
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        once = time.perf_counter() - t0
    if setup is None and once < SHORT:
        benchmark(fn)  # pytest-benchmark calibrates iterations per round
        return
    rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, TARGET_SECONDS / max(once, 1e-9))))
    benchmark.pedantic(fn, setup=setup, rounds=rounds, iterations=1, warmup_rounds=0)


#: the relative spread (interquartile range / median) above which a row is measured again, and
#: marked noisy where it stays above it
NOISY = 0.2
MIN_INTERLEAVED = 7


def _fastest(fn, setup=None):
    """The fastest of 3 calls of ``fn`` (a first call may wait on a waking thread), and for a
    call under SHORT of 3 more after those: the first calls may still load or compile, and a
    short call timed slow there would be timed as a loop of one call."""
    best = np.inf
    for i in range(6):
        if i == 3:
            if best >= SHORT:
                break
            best = np.inf
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def interleaved(calls: dict, seconds: float | None = None, setups: dict | None = None) -> dict:
    """Time ``calls`` ({impl: fn}, each warm) in rounds that call every one once, in an order
    drawn anew each round, so that a slow moment of a shared machine lands on all of them;
    ``setups`` ({impl: fn}) run untimed before their call. A call shorter than 0.1 ms is
    timed as a loop of enough calls for 0.1 ms, per sample (counted by :func:`_fastest`), after
    one untimed call: the first call after another impl pays for the caches and
    pages that impl left (and a wait after its parallel launch), a cost an impl whose loop
    held fewer calls carried more of per call.
    Returns {impl: {"median", "spread", "rounds", "noisy"}}: a set of rounds whose spread is
    above NOISY for some impl is followed by as many again, once, and the impl is marked noisy
    if it stays there."""
    seconds = TARGET_SECONDS if seconds is None else seconds
    setups = setups or {}
    once = {k: _fastest(fn, setups.get(k)) for k, fn in calls.items()}
    loops = {k: 1 if k in setups else max(1, int(SHORT / max(t, 1e-9))) for k, t in once.items()}
    per_round = sum(once[k] * loops[k] for k in calls)
    rounds = int(min(MAX_ROUNDS, max(MIN_INTERLEAVED, seconds * len(calls) / max(per_round,
                                                                                  1e-9))))
    samples = {k: [] for k in calls}
    order = np.random.default_rng(0)

    def run(n):
        for _ in range(n):
            # a new order each round: a call that leaves the machine busy (a parallel launch's
            # threads spin on after it) does not always precede the same one
            for k in order.permutation(list(calls)):
                fn = calls[k]
                if k in setups:
                    setups[k]()
                reps = loops[k]
                if once[k] < SHORT and k not in setups:  # a loop of short calls: its first
                    fn()  # call, untimed, takes the misses the previous impl left
                t0 = time.perf_counter()
                for _ in range(reps):
                    fn()
                samples[k].append((time.perf_counter() - t0) / reps)

    def stats():
        out = {}
        for k, s in samples.items():
            q1, med, q3 = np.percentile(s, [25, 50, 75])
            out[k] = {"median": float(med), "spread": float((q3 - q1) / med),
                      "rounds": len(s)}
        return out

    run(rounds)
    result = stats()
    if any(v["spread"] > NOISY for v in result.values()):
        run(rounds)
        result = stats()
    for v in result.values():
        v["noisy"] = v["spread"] > NOISY
    return result
