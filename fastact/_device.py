"""Calls on CUDA device arrays: validation (before any launch), then the cuda backend's kernels.

The same contract as host calls where it applies: the activation's parameters, ``out=`` (a device
array of the result's shape and dtype; the input itself is in-place), ``inplace=True``, refused
calls change nothing. Device-specific: float16/float32/float64 only (float16 computed in float32),
operands contiguous in one layout (C or Fortran), gradients' operands of one shape and dtype (no
broadcasting), and the result on the device: from the input's own library (a torch tensor for a
torch tensor, a CuPy array for a CuPy array) or a Numba device array. The gradient of a "weight"
parameter (prelu's) lives where the weight lives: on the device for a device-array weight, else
on the host.
"""

from __future__ import annotations

import numpy as np

_F16, _F32 = np.dtype(np.float16), np.dtype(np.float32)


def _backend(what, backend):
    """The cuda backend module, after checking that the requested backend allows it."""
    from .backends import cuda

    if backend not in ("auto", "cuda"):
        origin = "requested" if backend else "set"
        raise ValueError(
            f"{what}: the data is on a CUDA device, but backend {backend!r} was {origin} and runs "
            "on the CPU; use backend='cuda' or 'auto', or copy the data to the host first"
        )
    cuda.require(what)
    return cuda


def _device_operand(cuda, what, role, obj):
    if not cuda.is_device_array(obj):
        raise TypeError(f"{what}: {role} is not a CUDA device array ({type(obj).__name__}) while "
                        "another operand is; pass every array on the same device")
    dev, stream, readonly = cuda.as_device(obj)
    dtype = np.dtype(dev.dtype)
    if dtype not in cuda.DEVICE_DTYPES:
        raise TypeError(f"{what}: unsupported dtype {dtype} for a device array; the cuda backend "
                        "computes float16, float32 and float64")
    return dev, stream, readonly


def _check_out(cuda, what, out, shape, dtype):
    dout, _, readonly = _device_operand(cuda, what, "out", out)
    if tuple(dout.shape) != tuple(shape):
        raise ValueError(f"{what}: out has shape {tuple(dout.shape)}, but the result has shape "
                         f"{tuple(shape)}")
    if np.dtype(dout.dtype) != dtype:
        raise ValueError(f"{what}: out has dtype {dout.dtype}, but the result has dtype {dtype}")
    if readonly:
        raise ValueError(f"{what}: out is read-only")
    return dout


def _weight(cuda, spec, params, shape, compute, stream):
    """The kernels' parameters: (scalar parameters, per-channel device weight or None, whether
    the weight was given on the device)."""
    if not spec.has_weight:
        return [compute.type(v) for v in spec.scalars(params)], None, False
    w = params[spec.weight_param.name]
    if cuda.is_device_array(w):
        dw, _, _ = cuda.as_device(w)
        if np.dtype(dw.dtype) != compute:
            raise TypeError(f"{spec.name}: a device weight must have the compute dtype {compute}, "
                            f"got {dw.dtype}")
        if dw.ndim != 1:
            raise ValueError(f"{spec.name}: weight must be a scalar or 1-D, got shape {dw.shape}")
        n = dw.size
        arr = dw
    else:
        arr = np.asarray(w)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{spec.name}: weight has unsupported dtype {arr.dtype}")
        if arr.ndim > 1:
            raise ValueError(f"{spec.name}: weight must be a scalar or 1-D, got shape {arr.shape}")
        n = arr.size
        if n == 1:
            return [compute.type(arr.reshape(())[()])], None, False
    if n != 1 and (len(shape) < 2 or shape[1] != n):
        channels = "no channel axis" if len(shape) < 2 else f"{shape[1]} channels (x.shape[1])"
        raise ValueError(f"{spec.name}: weight has length {n}, but x has {channels}")
    if not cuda.is_device_array(w):
        arr = cuda.to_device(arr.reshape(-1).astype(compute), stream)
    return [], arr, cuda.is_device_array(w)


def forward(spec, x, params, out, inplace, backend, stream):
    name = spec.name
    cuda = _backend(name, backend)
    dx, iface_stream, readonly = _device_operand(cuda, name, "x", x)
    dtype = np.dtype(dx.dtype)
    compute = _F32 if dtype == _F16 else dtype
    kernel, _, _ = spec.kernels(params)
    s = cuda.stream_for(stream, iface_stream)
    scalars, weight, _ = _weight(cuda, spec, params, dx.shape, compute, s)
    if inplace:
        if out is not None:
            raise ValueError(f"{name}: pass either out= or inplace=True, not both")
        if readonly:
            raise ValueError(f"{name}: x (inplace=True) is read-only")
        cuda.run_device(kernel, [dx], scalars, None, True, s, weight, name)
        return x
    if out is not None:
        dout = _check_out(cuda, name, out, dx.shape, dtype)
        if cuda.same_memory(dx, dout):
            cuda.run_device(kernel, [dx], scalars, None, True, s, weight, name)
        else:
            _refuse_overlap(cuda, name, [dx], dout)
            cuda.run_device(kernel, [dx], scalars, dout, False, s, weight, name)
        return out
    res = cuda.empty_like(x, dx, s)
    cuda.run_device(kernel, [dx], scalars, cuda.as_device(res)[0], False, s, weight, name)
    return res


def _refuse_overlap(cuda, what, arrays, dout):
    for a in arrays:
        if cuda.overlaps(a, dout):
            raise ValueError(f"{what}: out partly overlaps an input on the device; pass a "
                             "separate array or the input itself")


def grad(spec, grad_output, x, params, out, inplace, backend, stream, kernel, what):
    name = f"{spec.name}_grad"
    cuda = _backend(name, backend)
    dg, g_stream, g_readonly = _device_operand(cuda, name, "grad_output", grad_output)
    dx, x_stream, _ = _device_operand(cuda, name, what, x)
    if tuple(dg.shape) != tuple(dx.shape):
        raise ValueError(f"{name}: on the device grad_output {tuple(dg.shape)} and {what} "
                         f"{tuple(dx.shape)} must have the same shape (no broadcasting)")
    if np.dtype(dg.dtype) != np.dtype(dx.dtype):
        raise TypeError(f"{name}: on the device grad_output ({dg.dtype}) and {what} ({dx.dtype}) "
                        "must have the same dtype")
    dtype = np.dtype(dx.dtype)
    compute = _F32 if dtype == _F16 else dtype
    s = cuda.stream_for(stream, g_stream if g_stream is not None else x_stream)
    scalars, weight, weight_on_device = _weight(cuda, spec, params, dx.shape, compute, s)
    if inplace:
        if out is not None:
            raise ValueError(f"{name}: pass either out= or inplace=True, not both")
        if g_readonly:
            raise ValueError(f"{name}: grad_output (inplace=True) is read-only")
        dout = None
    elif out is not None:
        dout = _check_out(cuda, name, out, dx.shape, dtype)
        inplace = cuda.same_memory(dg, dout)
        if not inplace:
            _refuse_overlap(cuda, name, [dg, dx], dout)
    else:
        dout = None
    grad_weight = None
    if spec.has_weight:  # before grad_input: in place, that overwrites grad_output
        grad_weight = _weight_grad(cuda, spec, params, dg, dx, weight, weight_on_device, compute,
                                   dtype, s)
    if inplace:
        cuda.run_device(kernel, [dg, dx], scalars, None, True, s, weight, name)
        result = grad_output
    elif dout is not None:
        cuda.run_device(kernel, [dg, dx], scalars, dout, False, s, weight, name)
        result = out
    else:
        result = cuda.empty_like(x, dx, s)
        cuda.run_device(kernel, [dg, dx], scalars, cuda.as_device(result)[0], False, s, weight,
                        name)
    return result if grad_weight is None else (result, grad_weight)


def _weight_grad(cuda, spec, params, dg, dx, weight, on_device, compute, dtype, s):
    """The weight's gradient: the weight-gradient kernel's contributions summed per channel."""
    channels = 1 if weight is None else weight.size
    acc = cuda.to_device(np.zeros(channels, compute), s)
    cuda.channel_sum(spec.weight_grad_kernel, dg, dx, acc, s, f"{spec.name}_grad")
    if on_device:
        return acc
    total = acc.copy_to_host(stream=s)
    s.synchronize()
    with np.errstate(over="ignore"):
        total = total.astype(dtype if dtype != _F16 else _F16)
    shape = np.shape(params[spec.weight_param.name])
    total = total.reshape(shape)
    return total if total.ndim else total[()]
