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

from ._binding import refuse_out_with_inplace
from ._dtypes import is_real

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
        if not is_real(arr.dtype):
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
        refuse_out_with_inplace(name, out)
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
        refuse_out_with_inplace(name, out)
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


# -- the gated kind: act(a) * b of the halves of x, or of two arrays ---------------------------


def _gated_operands(cuda, name, arrays, roles):
    """Device arrays of one dtype and shape (no broadcasting on the device), and the stream the
    first one's interface names."""
    devs, streams, readonly = [], [], []
    for a, role in zip(arrays, roles, strict=True):
        d, st, ro = _device_operand(cuda, name, role, a)
        devs.append(d)
        streams.append(st)
        readonly.append(ro)
    first = devs[0]
    for d, role in zip(devs[1:], roles[1:], strict=True):
        if np.dtype(d.dtype) != np.dtype(first.dtype):
            raise TypeError(f"{name}: on the device {roles[0]} ({first.dtype}) and {role} "
                            f"({d.dtype}) must have the same dtype")
    return devs, next((s for s in streams if s is not None), None), readonly


def _gated_same_shape(name, devs, roles, shape=None):
    shape = tuple(devs[0].shape) if shape is None else shape
    for d, role in zip(devs, roles, strict=True):
        if tuple(d.shape) != shape:
            raise ValueError(f"{name}: on the device {role} has shape {tuple(d.shape)}, but "
                             f"{shape} is needed (no broadcasting on the device)")


def _gated_start(spec, name, arrays, roles, params, axis, split, backend, stream):
    """What both directions start from: the operands on the device (x, or gate and up, last),
    their dtype, the stream, the normalized axis, the result's shape, the common layout and
    the kernel's scalars. grad_output (first, in the gradient) must have the result's shape."""
    from ._split import half, norm_axis

    cuda = _backend(name, backend)
    devs, iface, readonly = _gated_operands(cuda, name, arrays, roles)
    dtype = np.dtype(devs[0].dtype)
    compute = _F32 if dtype == _F16 else dtype
    s = cuda.stream_for(stream, iface)
    if split:
        axis = norm_axis(name, axis, devs[-1].ndim)
        shape = half(name, tuple(devs[-1].shape), axis)
        _gated_same_shape(name, devs[:-1], roles[:-1], shape)
    else:
        _gated_same_shape(name, devs, roles)
        shape = tuple(devs[0].shape)
    order = cuda.layout(devs, name)
    scalars = [compute.type(v) for v in spec.scalars(params)]
    return cuda, devs, readonly, dtype, s, axis, shape, order, scalars


def _gated_rows(cuda, xs, split, axis, order):
    """``(rows, n, views, strides)`` of act's two operands: the halves of the one array in
    ``xs`` along ``axis`` (rows of 2 n elements), or the two arrays in ``xs`` (one row)."""
    from ._split import split_geometry

    if split:
        rows, n = split_geometry(tuple(xs[0].shape), axis, order)
        flat = cuda.flat(xs[0], order)
        return rows, n, [flat, flat[n:]], [2 * n, 2 * n]
    n = xs[0].size
    return 1, n, [cuda.flat(d, order) for d in xs], [n, n]


def gated_forward(spec, x, up, axis, params, out, inplace, backend, stream):
    """The gated forward on device arrays (split or two-input form)."""
    name, split = spec.name, up is None
    roles = ["x"] if split else ["gate", "up"]
    cuda, devs, readonly, dtype, s, axis, shape, order, scalars = _gated_start(
        spec, name, [x] if split else [x, up], roles, params, axis, split, backend, stream)
    if inplace:
        refuse_out_with_inplace(name, out)
        if readonly[0]:
            raise ValueError(f"{name}: {roles[0]} (inplace=True) is read-only")
        dout = None
    elif out is not None:
        dout = _check_out(cuda, name, out, shape, dtype)
        order = cuda.layout(devs + [dout], name)
        for d in devs:
            if cuda.overlaps(d, dout) or (split and cuda.same_memory(d, dout)):
                raise ValueError(f"{name}: out overlaps an input on the device; pass a separate "
                                 "array or inplace=True")
    else:
        dout = None
    kernel = spec.kernels(params)[0]
    rows, n, views, strides = _gated_rows(cuda, devs, split, axis, order)
    if inplace:
        cuda.run_rows_device(f"{kernel}_inplace", views, rows, n, strides, scalars, s,
                             dtype == _F16)
        if not split:
            return x
        return x[(slice(None),) * axis + (slice(0, shape[axis]),)]  # the gate half: a view
    result = out if dout is not None else cuda.empty(x, shape, dtype, order, s)
    dres = dout if dout is not None else cuda.as_device(result)[0]
    cuda.run_rows_device(kernel, views + [cuda.flat(dres, order)], rows, n, strides + [n],
                         scalars, s, dtype == _F16)
    return result


def gated_grad(spec, grad_output, x, up, axis, params, out, inplace, backend, stream):
    """The gated gradient on device arrays: grad_x (split form) or (grad_gate, grad_up)."""
    name, split = f"{spec.name}_grad", up is None
    roles = ["grad_output", "x"] if split else ["grad_output", "gate", "up"]
    arrays = [grad_output, x] + ([] if split else [up])
    cuda, devs, readonly, dtype, s, axis, shape, order, scalars = _gated_start(
        spec, name, arrays, roles, params, axis, split, backend, stream)
    kernel = f"{spec.kernels(params)[0]}_grad"
    if inplace:
        refuse_out_with_inplace(name, out)
        if any(readonly[1:]):
            raise ValueError(f"{name}: an input (inplace=True) is read-only")
        douts = []
    elif out is not None:
        if split:
            douts = [_check_out(cuda, name, out, tuple(devs[1].shape), dtype)]
            result = out
        else:
            if not (isinstance(out, tuple | list) and len(out) == 2):
                raise TypeError(f"{name}: out must be a pair (grad_gate, grad_up) for the "
                                "two-input form")
            douts = [_check_out(cuda, name, o, shape, dtype) for o in out]
            result = tuple(out)
        _refuse_any_overlap(cuda, name, devs, douts)
        order = cuda.layout(devs + douts, name)  # the loop walks every operand in one order
    else:
        if split:
            result = cuda.empty(x, tuple(devs[1].shape), dtype, order, s)
            douts = [cuda.as_device(result)[0]]
        else:
            result = tuple(cuda.empty(a, shape, dtype, order, s) for a in (x, up))
            douts = [cuda.as_device(r)[0] for r in result]
    rows, n, views, strides = _gated_rows(cuda, devs[1:], split, axis, order)
    ins, in_strides = [cuda.flat(devs[0], order)] + views, [n] + strides
    if inplace:
        cuda.run_rows_device(f"{kernel}_inplace", ins, rows, n, in_strides, scalars, s,
                             dtype == _F16)
        return x if split else (x, up)
    if split:
        _, _, outs, out_strides = _gated_rows(cuda, douts, split, axis, order)
    else:
        outs, out_strides = [cuda.flat(d, order) for d in douts], [n, n]
    cuda.run_rows_device(kernel, ins + outs, rows, n, in_strides + out_strides, scalars, s,
                         dtype == _F16)
    return result


def _refuse_any_overlap(cuda, what, ins, outs):
    for o in outs:
        for a in ins:
            if cuda.overlaps(a, o) or cuda.same_memory(a, o):
                raise ValueError(f"{what}: out overlaps an input on the device; pass separate "
                                 "arrays or inplace=True")
    if len(outs) == 2 and (cuda.overlaps(outs[0], outs[1]) or cuda.same_memory(*outs)):
        raise ValueError(f"{what}: out[0] and out[1] share memory")


# -- axis-wise ------------------------------------------------------------------------------


def _axis_start(spec, name, arrays, roles, axis, backend, stream):
    """The operands on the device (None stays None), their dtype, stream, layout, the reduced
    axes and the geometry. float16 and axes that are not neighbours in memory are refused: the
    device path has no conversion or transposing copy."""
    from ._axes import geometry, norm_axes

    cuda = _backend(name, backend)
    present = [(a, r) for a, r in zip(arrays, roles, strict=True)
               if a is not None and r != "where"]
    devs, iface, _ = _gated_operands(cuda, name, [a for a, _ in present],
                                     [r for _, r in present])
    if "where" in roles and arrays[roles.index("where")] is not None:
        w = arrays[roles.index("where")]
        if not cuda.is_device_array(w):
            raise TypeError(f"{name}: where is not a CUDA device array while x is")
        dw = cuda.as_device(w)[0]
        if np.dtype(dw.dtype) != np.bool_:
            raise TypeError(f"{name}: where must be a bool device array, got {dw.dtype}")
        devs.append(dw)
        present.append((w, "where"))
    dtype = np.dtype(devs[0].dtype)
    if dtype == _F16:
        raise TypeError(f"{name}: float16 device arrays are not supported by the axis-wise "
                        "kernels; convert to float32 on the device first")
    if any(np.dtype(d.dtype) != dtype for d in devs if np.dtype(d.dtype) != np.bool_):
        raise TypeError(f"{name}: device operands must share one dtype")
    full = next(d for d, (_, r) in zip(devs, present, strict=True) if r in ("x", "result"))
    order = cuda.layout([d for d in devs if d.ndim == full.ndim], name)
    axes = norm_axes(name, axis, full.ndim)
    geo = geometry(tuple(full.shape), axes, order) if full.ndim else (1, 1, 1)
    if geo is None:
        raise ValueError(f"{name}: on a CUDA device the reduced axes must be neighbours in memory "
                         f"(got {axis} of a {order}-ordered array)")
    by_role = {r: d for d, (_, r) in zip(devs, present, strict=True)}
    ops = [by_role.get(r) for r in roles]
    return cuda, ops, dtype, cuda.stream_for(stream, iface), order, axes, geo, full


def axis_forward(spec, x, axis, keepdims, where, out, backend, stream):
    """The axis-wise forward on device arrays (``where=`` a bool device array of x's shape)."""
    from ._axes import reduced_shape

    name = spec.name
    cuda, (dx, dw), dtype, s, order, axes, (outer, L, inner), _ = _axis_start(
        spec, name, [x, where], ["x", "where"], axis, backend, stream)
    if dw is not None and tuple(dw.shape) != tuple(dx.shape):
        raise ValueError(f"{name}: a device where= must have x's shape {tuple(dx.shape)}")
    shape = reduced_shape(tuple(dx.shape), axes, keepdims) if spec.reduces else tuple(dx.shape)
    if out is not None:
        dout = _check_out(cuda, name, out, shape, dtype)
        if cuda.overlaps(dx, dout) or cuda.same_memory(dx, dout):
            raise ValueError(f"{name}: out shares memory with x on the device")
    result = out if out is not None else cuda.empty(x, shape, dtype, order, s)
    dres = cuda.as_device(result)[0]
    flat = [cuda.flat(dx, order), None if dw is None else cuda.flat(dw, order),
            dres.reshape(dres.size) if spec.reduces else cuda.flat(dres, order)]
    if dx.size:
        if spec.reduction == "sparsemax":
            cuda.run_axis_device("sparsemax", [flat[0], flat[2]], (), outer, L, inner, s)
        elif spec.reduces:
            cuda.run_axis_device("logsumexp", flat, (), outer, L, inner, s)
        else:
            cuda.run_axis_device("softmax", flat, (dtype.type(spec.sign), spec.log), outer, L,
                                 inner, s)
    return result


def axis_grad(spec, grad_output, x, axis, keepdims, where, result, out, inplace, backend,
              stream):
    """The axis-wise gradient on device arrays: grad_x of x's shape; every operand of x's
    shape (logsumexp's grad_output and result: the reduced shape, with or without keepdims)."""
    name = f"{spec.name}_grad"
    if spec.reduces and x is None:
        raise TypeError(f"{name}: needs x (result= alone does not determine the gradient)")
    if not spec.reduces and (x is None) == (result is None):
        raise TypeError(f"{name}: pass x or result= (the forward's output)")
    cuda, (dg, dx, dy, dw), dtype, s, order, axes, (outer, L, inner), full = _axis_start(
        spec, name, [grad_output, x, result, where], ["grad_output", "x", "result", "where"],
        axis, backend, stream)
    shape = tuple(full.shape)
    if not spec.reduces and tuple(dg.shape) != shape:
        raise ValueError(f"{name}: a device grad_output must have the result's shape {shape}")
    if inplace:
        refuse_out_with_inplace(name, out)
        if spec.reduces:
            raise ValueError(f"{name}: inplace=True needs grad_output of x's shape; pass out=")
        target = grad_output
    elif out is not None:
        _check_out(cuda, name, out, shape, dtype)
        target = out
    else:
        target = cuda.empty(full, shape, dtype, order, s)
    dres = cuda.as_device(target)[0]

    def fl(d):
        return None if d is None else cuda.flat(d, order)

    if full.size:
        if spec.reduction == "sparsemax":
            if dy is None:  # the support from sparsemax(x), computed into the result first
                cuda.run_axis_device("sparsemax", [fl(dx), fl(dres)], (), outer, L, inner, s)
                dy = cuda.empty(full, shape, dtype, order, s)
                dy = cuda.as_device(dy)[0]
                dy.copy_to_device(dres, stream=s)
            cuda.run_axis_device("sparsemax_grad", [fl(dg), fl(dy), fl(dres)], (), outer, L,
                                 inner, s)
        elif spec.reduces:
            red = dg.reshape(dg.size)
            if dy is None:
                dy = cuda.as_device(cuda.empty(full, (outer * inner,), dtype, "C", s))[0]
                cuda.run_axis_device("logsumexp", [fl(dx), fl(dw), dy], (), outer, L, inner, s)
            cuda.run_axis_device("logsumexp_grad", [red, fl(dx), dy.reshape(dy.size), fl(dw),
                                                    fl(dres)], (), outer, L, inner, s)
        else:
            loop = "softmax_grad" if dy is not None else "softmax_grad_x"
            cuda.run_axis_device(loop, [fl(dg), fl(dy if dy is not None else dx), fl(dw),
                                        fl(dres)], (dtype.type(spec.sign), spec.log), outer, L,
                                 inner, s)
    return target
