"""What the machine has: cores, affinity, memory, caches; and the out-of-memory guard."""

from __future__ import annotations

import os
import platform

import psutil

#: Outputs below this size are allocated without asking psutil (which costs ~20 us a call).
MEMORY_CHECK_BYTES = 64 << 20


def check_fits(name: str, nbytes: int) -> None:
    """MemoryError, before anything is allocated, if an output of ``nbytes`` cannot fit."""
    if nbytes < MEMORY_CHECK_BYTES:
        return
    available = psutil.virtual_memory().available
    if nbytes > available:
        raise MemoryError(
            f"{name}: the result needs {nbytes / 2**30:.2f} GiB but only "
            f"{available / 2**30:.2f} GiB is available; pass inplace=True or out= to reuse memory"
        )


_AFFINITY: list[int] | None = None


def affinity(refresh: bool = False) -> list[int]:
    """The CPUs this process may run on (read once: psutil takes ~30 us; ``refresh`` re-reads)."""
    global _AFFINITY
    if _AFFINITY is None or refresh:
        try:
            _AFFINITY = sorted(psutil.Process().cpu_affinity())
        except (AttributeError, psutil.Error, OSError):  # macOS has no affinity
            _AFFINITY = list(range(os.cpu_count() or 1))
    return list(_AFFINITY)


_CACHES: dict[str, int] | None = None


def cache_sizes() -> dict[str, int]:
    """CPU cache sizes in bytes by level ("L1d", "L2", "L3"), from Linux's sysfs (read once)."""
    global _CACHES
    if _CACHES is None:
        _CACHES = _read_cache_sizes()
    return dict(_CACHES)


def _read_cache_sizes() -> dict[str, int]:
    sizes = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return sizes
    for entry in entries:
        if not entry.startswith("index"):
            continue
        try:
            with open(f"{base}/{entry}/level") as f:
                level = f.read().strip()
            with open(f"{base}/{entry}/type") as f:
                kind = f.read().strip()
            with open(f"{base}/{entry}/size") as f:
                text = f.read().strip()
        except OSError:
            continue
        if kind == "Instruction":
            continue
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        size = int(text.rstrip("KMG")) * mult
        sizes[f"L{level}" + ("d" if kind == "Data" else "")] = size
    return sizes


def cuda_presence() -> str:
    """Whether a CUDA driver is installed (without importing numba.cuda), in words."""
    import ctypes.util

    driver = ctypes.util.find_library("cuda") or ctypes.util.find_library("nvcuda")
    return f"driver found ({driver})" if driver else "no CUDA driver found"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
