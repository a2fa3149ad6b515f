"""The CUDA backend: the generated numba.cuda kernels on device arrays and on streamed host arrays.

Device arrays (anything with ``__cuda_array_interface__``: CuPy, PyTorch CUDA tensors, Numba
device arrays) are computed where they are, on one stream: ``stream=`` if given, else the stream
the array's interface names (v3), else the default stream. The result is allocated by the input's
own library (``torch.empty_like`` / ``cupy.empty_like``) or as a Numba device array. No host
round trip, no synchronization: the call returns once the kernel is queued, as CuPy and PyTorch do.

Host arrays with ``backend="cuda"`` are streamed: chunks of ``HOST_CHUNK_BYTES`` go through
pinned staging buffers and device buffers on two streams, so that the copy in of one chunk, the
kernel of another and the copy out of a third overlap; the host copies into and out of the pinned
buffers overlap the transfers of the other stream. The result is a host ndarray.

Launch configuration: 256 threads per block, blocks enough for one element per thread up to 32
blocks per multiprocessor; each kernel is a grid-stride loop, so any size runs with that grid.

Nothing here imports numba.cuda until a CUDA call needs it (``import fastact`` stays light).
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

from .._dtypes import is_bf16
from .cpu import n_arrays

#: whether the gated kernels' float32 fast-form loops (``<loop>_f32``) exist here
FAST_FORMS = False

THREADS_PER_BLOCK = 256
BLOCKS_PER_SM = 32
#: Bytes per staging buffer of the host streaming path (per operand, per stream).
HOST_CHUNK_BYTES = 16 << 20

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
DEVICE_DTYPES = (_F16, _F32, _F64)

_state: dict = {}
_lock = threading.Lock()


class CudaUnavailable(RuntimeError):
    """``backend="cuda"`` (or a device array) where no GPU is usable; says what is missing."""


def simulated() -> bool:
    """Whether Numba's CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1``; CPU-only testing)."""
    from numba.core import config

    return bool(config.ENABLE_CUDASIM)


def _cuda():
    from numba import cuda

    return cuda


def usable() -> tuple[bool, str]:
    """(whether CUDA calls can run, why not / which device), in words; cached."""
    if "usable" not in _state:
        _state["usable"] = _probe()
    return _state["usable"]


def _probe() -> tuple[bool, str]:
    try:
        cuda = _cuda()
    except ImportError as e:  # pragma: no cover - numba without its cuda package
        return False, f"numba.cuda cannot be imported ({e}); install fastact[cuda] (numba-cuda)"
    if simulated():
        return True, "Numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1): CPU emulation, for tests"
    import importlib.util

    hint = "" if importlib.util.find_spec("numba_cuda") else (
        "; numba-cuda is not installed either (pip install fastact[cuda])")
    import ctypes.util

    if not (ctypes.util.find_library("cuda") or os.path.exists("/usr/lib/wsl/lib/libcuda.so")):
        return False, f"no CUDA driver (libcuda) found: no NVIDIA driver installed{hint}"
    try:
        if not cuda.is_available():
            err = cuda.cuda_error()
            return False, f"CUDA driver present but no usable device ({err}){hint}"
        dev = cuda.get_current_device()
        name = dev.name.decode() if isinstance(dev.name, bytes) else dev.name
        cc = ".".join(map(str, dev.compute_capability))
        return True, (f"{name} (compute capability {cc}, {dev.MULTIPROCESSOR_COUNT} "
                      f"multiprocessors)")
    except Exception as e:  # noqa: BLE001 - any driver error means: not usable
        return False, f"CUDA initialisation failed: {e}{hint}"


def require(what: str) -> None:
    """Raise :class:`CudaUnavailable` (naming what is missing) unless CUDA calls can run."""
    ok, why = usable()
    if not ok:
        raise CudaUnavailable(f"{what}: the cuda backend is not usable: {why}")


# -- device arrays ---------------------------------------------------------------------------


def is_device_array(obj) -> bool:
    """Whether ``obj`` lives in GPU memory (CUDA Array Interface, or a Numba device array)."""
    return hasattr(obj, "__cuda_array_interface__") or bool(getattr(obj, "__cuda_ndarray__", False))


def as_device(obj):
    """``obj`` as a Numba device array (zero-copy view), with the producer's stream pointer.

    Returns ``(device array, interface stream or None, read-only flag)``.
    """
    cuda = _cuda()
    if getattr(obj, "__cuda_ndarray__", False):  # a Numba device array (or the simulator's)
        return obj, None, False
    iface = obj.__cuda_array_interface__
    stream_ptr = iface.get("stream")
    readonly = bool(iface["data"][1])
    if simulated():  # interface objects in tests point at host memory: wrap that memory
        return _simulated_view(cuda, iface), stream_ptr, readonly
    return cuda.as_cuda_array(obj, sync=False), stream_ptr, readonly


def _simulated_view(cuda, iface):
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    holder = type("_Iface", (), {})()
    holder.__array_interface__ = {k: iface[k] for k in ("shape", "typestr", "data", "strides")
                                  if k in iface} | {"version": 3}
    return FakeCUDAArray(np.asarray(holder))


def stream_for(given, iface_stream):
    """The stream to run on: ``given`` (a Numba stream, an object with ``cuda_stream`` or ``ptr``
    such as torch.cuda.Stream / cupy Stream, or a raw pointer), else the interface's, else the
    default stream."""
    cuda = _cuda()
    if given is not None:
        if type(given).__module__.startswith("numba"):  # a Numba stream (or the simulator's)
            return given
        ptr = getattr(given, "cuda_stream", getattr(given, "ptr", given))
        return _external(cuda, int(ptr))
    if iface_stream is None:
        return cuda.default_stream()
    return _external(cuda, int(iface_stream))


def _external(cuda, ptr):
    if simulated():  # the simulator runs everything synchronously, on no real stream
        return cuda.default_stream()
    if ptr == 1:
        return cuda.legacy_default_stream()
    if ptr == 2:
        return cuda.per_thread_default_stream()
    return cuda.external_stream(ptr)


def launch_config(n: int) -> tuple[int, int]:
    """(blocks, threads per block) for ``n`` elements on the current device."""
    if "sms" not in _state:
        cuda = _cuda()
        sms = 1 if simulated() else cuda.get_current_device().MULTIPROCESSOR_COUNT
        _state["sms"] = sms
    threads = 32 if simulated() else THREADS_PER_BLOCK  # the simulator runs a thread per thread
    blocks = min(max(1, -(-n // threads)), _state["sms"] * (2 if simulated() else BLOCKS_PER_SM))
    return blocks, threads


def _kernels():
    if "kernels" not in _state:
        from ..kernels._math import register_cuda

        register_cuda()
        from . import _cuda_kernels

        _state["kernels"] = _cuda_kernels
    return _state["kernels"]


def kernel(name: str, inplace: bool = False, half: bool = False, channel: bool = False):
    """The generated kernel for kernel ``name`` and the variant asked for."""
    return getattr(_kernels(), name + ("_inplace" if inplace else "") + (
        "_channel" if channel else "") + ("_h" if half else ""))


def flat(a, order):
    """The 1-D view of a contiguous device array in its memory order."""
    return a.reshape(a.size, order=order) if a.ndim != 1 else a


def layout(arrays, what) -> str:
    """"C" or "F": a contiguous layout all these device arrays share, else ValueError."""
    common = {"C", "F"}
    for a in arrays:
        if a.ndim <= 1:
            continue  # 0-d and 1-d arrays are both
        own = {o for o, ok in (("C", a.is_c_contiguous()), ("F", a.is_f_contiguous())) if ok}
        if not own:
            raise ValueError(f"{what}: device arrays must be contiguous (C or Fortran order); "
                             "copy the strided view first")
        common &= own
        if not common:
            raise ValueError(f"{what}: device operands mix C and Fortran order")
    return "C" if "C" in common else "F"


def empty_like(obj, dev, stream):
    """A new device array of ``obj``'s shape, dtype and layout (C or Fortran order), from
    ``obj``'s own library: torch and CuPy results stay in their caching allocators."""
    mod = type(obj).__module__.split(".")[0]
    if mod == "torch":
        import torch

        return torch.empty_like(obj)  # preserves a dense layout's strides (a transposed tensor)
    if mod == "cupy":
        import cupy

        return cupy.empty_like(obj)  # order "K": the input's layout
    order = "F" if (dev.ndim > 1 and dev.is_f_contiguous() and not dev.is_c_contiguous()) else "C"
    return _cuda().device_array(dev.shape, dev.dtype, order=order, stream=stream)


def empty(obj, shape, dtype, order, stream):
    """A new device array of ``shape`` and ``dtype`` in ``order`` ("C" or "F"), from ``obj``'s own
    library as :func:`empty_like` (the gated kind's results have another shape than x)."""
    mod = type(obj).__module__.split(".")[0]
    if mod == "torch":
        import torch

        t = torch.empty(shape[::-1] if order == "F" else shape, dtype=obj.dtype,
                        device=obj.device)
        return t.permute(*range(len(shape) - 1, -1, -1)) if order == "F" else t
    if mod == "cupy":
        import cupy

        return cupy.empty(shape, dtype, order=order)
    return _cuda().device_array(shape, dtype, order=order, stream=stream)


_sim_lock = threading.Lock()


def launch(kern, n, stream, *args):
    """Launch a grid-stride kernel over ``n`` elements on ``stream`` (returns without waiting).

    The simulator keeps each simulated thread's indices on Python's thread objects and is not
    safe for launches from several Python threads at once: there, launches take a lock."""
    if n:
        blocks, threads = launch_config(n)
        if simulated():
            with _sim_lock:
                kern[blocks, threads, stream](*args)
        else:
            kern[blocks, threads, stream](*args)


def run_rows_device(name, views, rows, n, strides, scalars, stream, half):
    """Gated kernel ``name`` over ``rows`` runs of ``n`` elements of 1-D device views (row
    strides ``strides``); ``half``: float16 operands computed in float32."""
    launch(kernel(name, half=half), rows * n, stream, *views, rows, n, *strides, *scalars)


def channel_inner(shape, order) -> int:
    """Elements per run of one channel (axis 1) in the flat order of a contiguous array."""
    if len(shape) < 2:
        return 1
    return shape[0] if order == "F" else math.prod(shape[2:])


def run_device(name, arrays, scalars, out, inplace, stream, weight=None, what=None):
    """Kernel ``name`` over device arrays (one shape, dtype and layout) into ``out`` (a device
    array), or into the first input when ``inplace``. ``weight``: a per-channel weight (a
    device array of the compute dtype, indexed by axis 1), or None."""
    what = what or name
    operands = arrays + ([] if inplace else [out])
    order = layout(operands, what)
    n = arrays[0].size
    half = np.dtype(arrays[0].dtype) == _F16
    flats = [flat(a, order) for a in operands]
    if weight is None:
        launch(kernel(name, inplace, half), n, stream, *flats, *scalars)
    else:
        inner = channel_inner(tuple(arrays[0].shape), order)
        launch(kernel(name, inplace, half, channel=True), n, stream, *flats, weight, inner, 0)


def channel_sum(name, g, x, acc, stream, what=None):
    """Add the sum of kernel ``name(g, x)`` per channel (axis 1; one total if ``acc`` has one
    element) into the zeroed device array ``acc``, with atomic adds (a weight's gradient);
    ``what`` names the call in errors."""
    order = layout([g, x], what or name)
    half = np.dtype(x.dtype) == _F16
    inner = channel_inner(tuple(x.shape), order)
    launch(kernel(name, half=half, channel=True), x.size, stream,
           flat(g, order), flat(x, order), acc, inner, 0)


def to_device(host, stream=0):
    """A device copy of a (small) host array."""
    return _cuda().to_device(np.ascontiguousarray(host), stream=stream)


def _extent(a):
    """(first byte, end) of a device array's memory."""
    if simulated():
        arr = a._ary
        p = arr.__array_interface__["data"][0]
        return p, p + arr.nbytes
    p = a.device_ctypes_pointer.value or 0
    return p, p + a.nbytes


def same_memory(a, b) -> bool:
    """Whether two device arrays are the same elements (start, shape and strides)."""
    return (_extent(a) == _extent(b) and tuple(a.shape) == tuple(b.shape)
            and tuple(a.strides) == tuple(b.strides))


def overlaps(a, b) -> bool:
    """Whether two device arrays share memory without being the same elements."""
    (a0, a1), (b0, b1) = _extent(a), _extent(b)
    return a0 < b1 and b0 < a1 and not same_memory(a, b)


# -- host arrays, streamed -------------------------------------------------------------------


class _Staging:
    """Two streams, each with pinned host and device buffers for ``k`` inputs and one output."""

    def __init__(self, cuda, k, dtype, chunk):
        self.chunk = chunk
        self.streams = [cuda.stream() for _ in range(2)]
        self.pin_in = [[cuda.pinned_array(chunk, dtype) for _ in range(k)] for _ in range(2)]
        self.pin_out = [cuda.pinned_array(chunk, dtype) for _ in range(2)]
        self.dev_in = [[cuda.device_array(chunk, dtype) for _ in range(k)] for _ in range(2)]
        self.dev_out = [cuda.device_array(chunk, dtype) for _ in range(2)]


def _staging(k, dtype):
    key = (k, dtype)
    st = _state.get(("staging", key))
    if st is None:
        st = _Staging(_cuda(), k, dtype, max(1, HOST_CHUNK_BYTES // dtype.itemsize))
        _state[("staging", key)] = st
    return st


def stream_host(name, ins, scalars, out, weight=None):
    """Kernel ``name`` over 1-D contiguous host arrays ``ins`` into ``out`` through the GPU.

    Chunk j goes on stream j % 2: host -> pinned, pinned -> device (async), kernel, device ->
    pinned (async); before a stream's buffers are reused, its previous chunk is synchronized and
    copied from pinned memory into ``out``. ``out`` may be ``ins[0]`` itself: each chunk is read
    before it is written.
    """
    dtype = out.dtype
    half = dtype == _F16
    n = out.size
    kern = kernel(name, False, half, channel=weight is not None)
    with _lock:  # one streaming call at a time shares the staging buffers
        st = _staging(len(ins), dtype)
        pending = [None, None]
        for j, start in enumerate(range(0, n, st.chunk)):
            slot = j % 2
            s = st.streams[slot]
            if pending[slot] is not None:
                _drain(st, slot, pending[slot], out)
            stop = min(n, start + st.chunk)
            m = stop - start
            for h, p, d in zip(ins, st.pin_in[slot], st.dev_in[slot], strict=True):
                p[:m] = h[start:stop]
                d[:m].copy_to_device(p[:m], stream=s)
            args = [d[:m] for d in st.dev_in[slot]] + [st.dev_out[slot][:m]]
            if weight is None:
                launch(kern, m, s, *args, *scalars)
            else:  # element i of this chunk is element start + i of the array
                w, inner = weight
                launch(kern, m, s, *args, w, inner, start)
            st.dev_out[slot][:m].copy_to_host(st.pin_out[slot][:m], stream=s)
            pending[slot] = (start, stop)
        for slot in (0, 1) if len(range(0, n, st.chunk)) % 2 == 0 else (1, 0):  # oldest first
            if pending[slot] is not None:
                _drain(st, slot, pending[slot], out)
    return out


def _drain(st, slot, span, out):
    st.streams[slot].synchronize()
    a, b = span
    out[a:b] = st.pin_out[slot][:b - a]


def run_rows(loop, views, rows, n, strides, scalars, itemsize, written):
    """The row-loop interface (as cpu.run_rows) on host arrays: each operand's rows are copied
    to the device, the gated kernel runs there, and the operands it writes (``written``) are
    copied back, row by row into their strided places (the halves of one array stay apart)."""
    require(loop)
    cuda = _cuda()
    if not rows * n:
        return
    extents = [(rows - 1) * st + n for st in strides]
    devs = [cuda.to_device(np.ascontiguousarray(v[:e], dtype=_moved(v.dtype)))
            for v, e in zip(views, extents, strict=True)]
    stream = cuda.default_stream()
    launch(kernel(loop), rows * n, stream, *devs, rows, n, *strides, *scalars)
    for i in written:
        host = devs[i].copy_to_host(stream=stream)
        stream.synchronize()
        dst, src = (np.lib.stride_tricks.as_strided(a, (rows, n), (strides[i] * a.itemsize,
                                                                   a.itemsize))
                    for a in (views[i], host))
        dst[...] = src


def _moved(dtype):
    """The dtype a host array of ``dtype`` moves to the device as: float32 for bfloat16 (which
    Numba's device arrays cannot hold; the result is rounded on the host), else its own."""
    return _F32 if is_bf16(dtype) else dtype


def call(name, args, out, dtype):
    """The backend interface (as cpu.call): kernel ``name`` on host arrays, streamed through the
    GPU; ``out`` is None (allocate) or a checked host array (float16 when ``dtype`` is float32
    and the result is float16)."""
    require(name)
    k = n_arrays(name)
    arrays, params = list(args[:k]), list(args[k:])
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    allocated = out is None
    if allocated:
        out = np.empty(shape, dtype)
    # float16 results move as float16 and are computed in float32 on the GPU; bfloat16 (which
    # Numba's device arrays cannot hold) moves as float32 and is rounded on the host
    work = _moved(out.dtype)
    target = out if out.flags.c_contiguous and work == out.dtype else np.empty(shape, work)
    ins = []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype != work:
            a = a.astype(work)
        if a.shape != shape:
            a = np.broadcast_to(a, shape)
        same = (a.__array_interface__["data"][0] == target.__array_interface__["data"][0]
                and a.strides == target.strides)
        if np.may_share_memory(a, target) and not same:
            a = a.copy()  # a partly overlapping input would be overwritten before it is read
        ins.append(np.ascontiguousarray(a).reshape(-1))
    scalar_t = np.float32 if work == _F16 else work.type
    weight = None
    if params and np.ndim(params[-1]) > 0:  # a per-channel weight
        w = np.asarray(params.pop()).reshape(-1).astype(scalar_t)
        weight = (_cuda().to_device(w), channel_inner(shape, "C"))
    scalars = [scalar_t(p) for p in params]
    stream_host(name, ins, scalars, target.reshape(-1), weight)
    if target is not out:
        np.copyto(out, target)
    return out if (not allocated or out.ndim) else out[()]


# -- axis-wise ------------------------------------------------------------------------------


def _axis_kernels():
    if "axis" not in _state:
        from ..kernels._math import register_cuda

        register_cuda()
        from . import _cuda_axis

        _state["axis"] = _cuda_axis
    return _state["axis"]


def run_axis_device(loop, arrays, scalars, outer, L, inner, stream):
    """Axis-wise loop ``loop`` (the names of ``_axis_loops``) on flat device arrays of a
    ``(outer, L, inner)`` geometry; the last array is the one written. A mask or other optional
    operand of None is passed as a placeholder. A block per row where the reduced axis is the
    last (softmax, log_softmax, softmin, logsumexp), else a thread per line."""
    k = _axis_kernels()
    cuda = _cuda()
    dtype = np.dtype(arrays[0].dtype)
    ninf = dtype.type(-np.inf)
    lines = outer * inner
    masked = False
    if loop in ("softmax", "logsumexp", "softmax_grad", "softmax_grad_x", "logsumexp_grad"):
        at = {"softmax": 1, "logsumexp": 1, "softmax_grad": 2, "softmax_grad_x": 2,
              "logsumexp_grad": 3}[loop]
        masked = arrays[at] is not None
        if not masked:
            arrays = list(arrays)
            arrays[at] = cuda.to_device(np.zeros(1, np.bool_), stream=stream)
    rowwise = inner == 1 and loop in ("softmax", "logsumexp")

    def go(kern, n, *args):
        if simulated():
            with _sim_lock:
                kern[max(1, min(n, 64)), k.ROW_THREADS if rowwise else 32, stream](*args)
        elif rowwise:
            kern[max(1, min(n, 65535)), k.ROW_THREADS, stream](*args)
        else:
            launch(kern, n, stream, *args)

    if loop == "softmax":
        sign, log = scalars
        if rowwise:
            go(k.softmax_rows, outer, *arrays, outer, L, sign, ninf, log, masked)
        else:
            go(k.softmax_lines, lines, *arrays, outer, L, inner, sign, ninf, log, masked)
    elif loop == "logsumexp":
        one = dtype.type(1)
        if rowwise:
            go(k.logsumexp_rows, outer, *arrays, outer, L, one, ninf, masked)
        else:
            go(k.logsumexp_lines, lines, *arrays, outer, L, inner, one, ninf, masked)
    elif loop == "softmax_grad":
        go(k.softmax_grad_lines, lines, *arrays, outer, L, inner, *scalars, masked)
    elif loop == "softmax_grad_x":
        sign, log = scalars
        go(k.softmax_grad_x_lines, lines, *arrays, outer, L, inner, sign, ninf, log, masked)
    elif loop == "logsumexp_grad":
        go(k.logsumexp_grad_lines, lines, *arrays, outer, L, inner, masked)
    elif loop == "sparsemax":
        go(k.sparsemax_lines, lines, *arrays, outer, L, inner)
    elif loop == "sparsemax_grad":
        go(k.sparsemax_grad_lines, lines, *arrays, outer, L, inner)
    else:
        raise LookupError(f"unknown axis-wise loop {loop!r}")


def run_axis(loop, arrays, scalars, outer, L, inner, itemsize=None):
    """The axis-wise interface (as cpu.run_axis) on host arrays: the operands go to the device,
    the kernel runs there and the written operand (the last) comes back. logsumexp's gradient
    without a given logsumexp (all NaN) computes it on the device first."""
    require(loop)
    cuda = _cuda()
    stream = cuda.default_stream()
    # bfloat16 (which Numba's device arrays cannot hold) moves as float32, rounded on the host
    devs = [None if a is None else cuda.to_device(
        np.ascontiguousarray(a, dtype=_moved(a.dtype)), stream=stream)
        for a in arrays]
    if loop == "logsumexp_grad" and np.isnan(arrays[2]).all():
        run_axis_device("logsumexp", [devs[1], devs[3], devs[2]], (), outer, L, inner, stream)
    run_axis_device(loop, devs, scalars, outer, L, inner, stream)
    if is_bf16(arrays[-1].dtype):
        host = devs[-1].copy_to_host(stream=stream)
        stream.synchronize()
        arrays[-1][...] = host
    else:
        devs[-1].copy_to_host(arrays[-1], stream=stream)
        stream.synchronize()
