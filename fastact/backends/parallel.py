"""The multi-threaded CPU backend: Numba ``prange`` over cache-sized blocks of the serial loops.

Contiguous operands (the same cases as the serial fast path) run the generated loops of
``_par_loops``: the array is cut into blocks of about half the L2 cache (all operands together),
``prange`` hands each thread a contiguous run of blocks (numexpr's scheme: fixed blocks, several
per thread, every block full but the last) and each block runs the serial SIMD loop. Other layouts
(strided views, broadcasting, per-channel prelu weights, float16) are cut along their first axis
and the pieces run through the kernel's NumPy ufunc on a small thread pool: no copy of the input.

Safety, whatever the threading layer:
- ``workqueue`` (Numba's fallback layer) aborts the process when two threads launch parallel code
  at once, so until the layer is known to be another one, a launch holds a lock, and a thread that
  finds it taken runs the serial loop instead of waiting.
- GNU OpenMP does not survive ``fork``: Numba terminates a child that launches parallel code after
  its parent did. A child forked after a parallel launch on that layer runs the serial loops.
- The number of threads is Numba's (``numba.set_num_threads`` lowers it, per Python thread),
  capped by the CPUs this process may run on (its affinity).
- Starting Numba's thread pool leaves the OpenMP thread count of the libraries beside it alone:
  Numba's ``omp`` layer sets it to its own (``omp_set_num_threads``) when the pool starts, which
  in a process that shares that OpenMP runtime with PyTorch silently undid
  ``torch.set_num_threads(1)``. fastact puts the count of every OpenMP runtime already loaded
  back (see :func:`_start_pool`); Numba's own loops name their thread count explicitly.
- Calls are launched in pieces of at most PIECE elements, so Ctrl-C interrupts a long call
  between pieces (Python handles signals only between calls into compiled code).
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from .. import hardware
from .._dtypes import words
from ..kernels._math import two_sum
from . import cpu

#: whether the gated kernels' float32 fast-form loops (``<loop>_f32``) exist here
FAST_FORMS = True

#: whether this machine has the streaming stores of fastact.backends._stream (x86-64: 32-byte
#: non-temporal vector stores and ``sfence``)
STREAMING_STORES = platform.machine().lower() in ("x86_64", "amd64")

#: Elements per parallel launch (64 MiB of float32): Ctrl-C is seen between launches; each costs
#: ~10 us of thread wake-up, < 0.1% of the launch's own time.
PIECE = 1 << 24

#: L2 size assumed where the OS does not report one.
DEFAULT_L2 = 256 << 10

_launch_lock = threading.Lock()
_state = {"layer": None, "forked_from_gnu_omp": False, "pool": None, "pool_started": False}


#: OpenMP runtimes Numba's omp layer may share with other libraries (GNU, Intel, LLVM)
OPENMP_LIBRARIES = ("libgomp.so.1", "libiomp5.so", "libomp.so.5", "libomp.so",
                    "libgomp.1.dylib", "libiomp5.dylib", "libomp.dylib")

_pool_lock = threading.Lock()


def _loaded_openmp() -> list:
    """ctypes handles of the OpenMP runtimes already in this process (none is loaded here)."""
    noload = getattr(os, "RTLD_NOLOAD", None)
    if noload is None:  # pragma: no cover - Windows
        return []
    found = []
    for name in OPENMP_LIBRARIES:
        try:
            lib = ctypes.CDLL(name, mode=noload | getattr(os, "RTLD_LAZY", 1))
            lib.omp_get_max_threads.restype = ctypes.c_int
        except (OSError, AttributeError):
            continue
        found.append(lib)
    return found


def _start_pool() -> None:
    """Start Numba's thread pool (once per process), keeping the OpenMP thread counts as they were.

    Numba's ``omp`` layer calls ``omp_set_num_threads(<its count>)`` as its pool starts; in a
    process where PyTorch (or any other library) uses the same OpenMP runtime, that overwrote the
    thread count the user gave it (``torch.set_num_threads(1)`` became 2 after fastact's first
    parallel call here). The counts are read before and put back after; Numba's own parallel
    regions pass their thread count explicitly, so they are unaffected.
    """
    if _state["pool_started"]:
        return
    with _pool_lock:
        if _state["pool_started"]:
            return
        saved = [(lib, lib.omp_get_max_threads()) for lib in _loaded_openmp()]
        numba.get_num_threads()  # starts the pool, under the threading layer Numba picks
        for lib, count in saved:
            if lib.omp_get_max_threads() != count:
                lib.omp_set_num_threads(ctypes.c_int(count))
        _state["pool_started"] = True


def threads() -> int:
    """Threads a parallel call uses in this Python thread: Numba's, capped by the affinity."""
    _start_pool()
    return max(1, min(numba.get_num_threads(), len(hardware.affinity())))


def _cap_threads() -> int:
    """Lower this Python thread's Numba thread count to the affinity; the count in use."""
    _start_pool()
    cap = max(1, len(hardware.affinity()))
    n = numba.get_num_threads()
    if n > cap:
        numba.set_num_threads(cap)
        n = cap
    return n


_L2 = None


def block_elements(n_operands: int, itemsize: int, n: int | None = None,
                   threads: int = 1) -> int:
    """Elements per block: all operands' blocks together fill about half of the L2 cache.

    With the 512 KiB L2 of the build machine: 32768 float32 elements for an out-of-place forward
    (2 operands, 128 KiB each). Smaller for an array of ``n`` elements that would otherwise give
    some of the ``threads`` threads fewer than 4 blocks (down to 1024 elements), so that every
    thread has work. Always a multiple of 1024 elements (of 64-byte cache lines).
    """
    global _L2
    if _L2 is None:
        _L2 = hardware.cache_sizes().get("L2", DEFAULT_L2)
    block = max(1024, _L2 // (2 * n_operands * itemsize))
    if n is not None:
        block = min(block, max(1024, n // (4 * threads)))
    return block - block % 1024


def usable() -> tuple[bool, str]:
    """(whether parallel loops may launch in this process, why not)."""
    if _state["forked_from_gnu_omp"]:
        return False, "this process was forked after a GNU OpenMP parallel launch (not fork-safe)"
    return True, ""


def layer() -> str | None:
    """The threading layer Numba loaded, or None before the first parallel launch."""
    return _state["layer"]


def _launch(loop, n_operands, n, itemsize, run, module=None) -> bool:
    """Run parallel loop ``loop`` (of ``_par_loops``, or ``module``) over ``n`` elements of
    ``n_operands`` arrays as ``run(fn, block)``; False (nothing written) where it must not
    launch now."""
    if _state["forked_from_gnu_omp"]:
        return False
    fn = getattr(module or _par_loops(), loop)
    guarded = _state["layer"] in (None, "workqueue")
    if guarded and not _launch_lock.acquire(blocking=False):
        return False  # another thread is in a launch on a layer that is not thread-safe
    try:
        threads = _cap_threads()
        run(fn, block_elements(n_operands, itemsize, n, threads))
        if _state["layer"] is None:
            _state["layer"] = numba.threading_layer()
    finally:
        if guarded:
            _launch_lock.release()
    return True


def run_loop(loop, views, scalars, itemsize, stream=False):
    """Run generated loop ``loop`` on 1-D views with all threads (serially where it must not
    launch now: see _launch). Where ``stream`` (the output is the caller's ``out=``), the loop
    has a streaming-store form and the output is as large as :func:`streaming_limit`, that form.
    Not into a new array: the kernel zeroes each of its pages on first touch, which costs what
    streaming saves (relu on 1e8 float32 elements: the same time either way); not for bfloat16
    words, which LLVM stores with ordinary stores there (x86 has no 16-bit non-temporal
    store for the vectorizer to widen)."""
    n = views[0].size
    if (stream and itemsize >= 4 and n * itemsize >= _stream_from()
            and hasattr(_par_loops(), f"{loop}_stream")):
        loop = f"{loop}_stream"

    def run(fn, block):
        if n <= PIECE:
            fn(*views, block, *scalars)
        else:
            for s in range(0, n, PIECE):
                fn(*[v[s:s + PIECE] for v in views], block, *scalars)

    if not _launch(loop, len(views), n, itemsize, run):
        cpu.run_serial(loop, views, scalars)


def streaming_limit() -> int | None:
    """Output bytes from which out-of-place loops stream their stores (None: never).
    fastact.dispatch replaces it with the tuned profile's (dispatch.streaming_bytes)."""
    return None


def _stream_from() -> float:
    limit = streaming_limit()
    return float("inf") if limit is None or not STREAMING_STORES else limit


def run_rows(loop, views, rows, n, strides, scalars, itemsize, written=()):
    """Run generated row loop ``loop`` (see :func:`fastact.backends.cpu.run_rows`) with all
    threads: ``prange`` over (row, block) pairs (serially where it must not launch now)."""
    def run(fn, block):
        for v, r, m in cpu.row_pieces([words(v) for v in views], rows, n, strides, PIECE):
            fn(*v, r, m, *strides, block, *scalars)

    if not _launch(loop, len(views), rows * n, itemsize, run):
        cpu.run_rows(loop, views, rows, n, strides, scalars)


def run_axis(loop, arrays, scalars, outer, L, inner, itemsize):
    """Run axis-wise loop ``loop`` (see :func:`fastact.backends.cpu.run_axis`) with all
    threads: its units (rows, or tiles of a non-last axis split so that every thread has some)
    in about 4 ranges per thread, each on a thread of the pool (the loop releases the GIL)."""
    n = threads()
    arrays, finish = cpu.with_bf16(loop, arrays, inner)
    tile = cpu.axis_tile(outer, inner, n)
    units = cpu.axis_units(outer, inner, tile)
    run = cpu.axis_runner(loop, arrays, scalars, outer, L, inner, tile)
    step = max(1, -(-units // (4 * n)))
    ranges = [(lo, min(units, lo + step)) for lo in range(0, units, step)]
    if len(ranges) < 2 or n < 2:
        run(0, units)
    else:
        for _ in _pool(n).map(lambda r: run(*r), ranges):
            pass
    finish()


def run_items(run, rows, n, itemsize, sums=None):
    """Run a bias runner (see :func:`fastact.backends.cpu.run_items`) with all threads: pieces
    of rows (or of long rows) in about 4 ranges per thread, each on a thread of the pool (the
    loops release the GIL); a gradient's ranges sum into accumulators of their own, added at
    the end."""
    n_threads = threads()
    total = rows * n
    items = cpu.bias_items(rows, n, max(4096, min(PIECE, -(-total // (4 * n_threads)))))
    ranges = min(len(items), 4 * n_threads)
    if sums:  # the accumulators stay below a quarter of x's bytes
        ranges = max(1, min(ranges, total * itemsize // (64 * sums)))
    if ranges < 2 or n_threads < 2:
        return cpu.run_items(run, rows, n, sums)
    edges = np.linspace(0, len(items), ranges + 1).astype(int)
    groups = [items[lo:hi] for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    acc = None if sums is None else np.zeros((ranges, 2, max(sums, 1)))
    for _ in _pool(n_threads).map(lambda i: run(groups[i], None if acc is None else acc[i]),
                                  range(ranges)):
        pass
    return None if acc is None else cpu.bias_total(_merged(acc))


def _merged(acc):
    """The accumulators ``acc`` of the ranges (ranges, sums and compensations, bias elements)
    added into one, with compensation (TwoSum): the per-range sums of a float64 gradient may
    cancel, and their total keeps the ranges' accuracy."""
    s, c = acc[0, 0], acc[0, 1].copy()
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, set aside by bias_total
        for a in acc[1:]:
            s, e = two_sum.py_func(s, a[0])  # the kernel's arithmetic, on whole arrays
            c += e + a[1]
    return np.stack([s, c])


def run_bias(loop, arrays, geometry, scalars, grad=None):
    """Run fused bias loop ``loop`` (see :func:`fastact.backends.cpu.bias_runner`) with all
    threads (:func:`run_items`)."""
    run = cpu.bias_runner(loop, arrays, geometry, scalars, grad)
    return run_items(run, *geometry[:2], arrays[1].itemsize, None if grad is None else grad[1])


def _par_loops():
    from . import _par_loops

    return _par_loops


def call(name, args, out, dtype):
    """Apply kernel ``name`` element-wise in ``dtype`` with all threads; ``out`` is checked."""
    p = cpu.plan(name, args, out, dtype)
    if p is None:
        return _call_strided(name, args, out, dtype)
    loop, views, scalars, result = p
    run_loop(loop, views, scalars, views[0].itemsize, out is not None)  # bfloat16: words' size
    return cpu.finish(result, out)


def _pool(n):
    held = _state["pool"]  # (executor, its number of threads), or None
    if held is None or held[1] != n:
        with _launch_lock:
            held = _state["pool"]
            if held is None or held[1] != n:
                held = _state["pool"] = (ThreadPoolExecutor(n, thread_name_prefix="fastact"), n)
    return held[0]


def _call_strided(name, args, out, dtype):
    """The ufunc path, split along the first axis over a thread pool where that is safe."""
    k = cpu.n_arrays(name)
    arrays = [np.asarray(a) for a in args[:k]]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    n = threads()
    if not shape or shape[0] < 2 or n < 2 or out is not None and _overlaps(arrays, out):
        return cpu.call_ufunc(name, args, out, dtype)
    res = np.empty(shape, dtype) if out is None else out
    rows = shape[0]

    def piece(lo, hi):
        part = [a[lo:hi] if a.ndim == len(shape) and a.shape[0] == rows else a for a in arrays]
        cpu.call_ufunc(name, [*part, *args[k:]], res[lo:hi], dtype)

    edges = np.linspace(0, rows, min(n, rows) + 1).astype(int)
    futures = [_pool(n).submit(piece, lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    for f in futures:
        f.result()
    return res


def _overlaps(arrays, out):
    """Whether ``out`` shares memory with an input other than as exactly that input."""
    return any(np.may_share_memory(a, out) and not cpu.same_memory(a, out) for a in arrays)


def _after_fork_in_child():
    _state["pool"] = None  # its threads did not survive the fork
    if _state["layer"] == "omp":
        from numba.np.ufunc import omppool

        if getattr(omppool, "openmp_vendor", "GNU") == "GNU":
            _state["forked_from_gnu_omp"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
