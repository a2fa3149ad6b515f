"""The general forward and gradient calls: dtypes, checks, dispatch, then the backend.

Every check happens before the first write, so a refused call leaves every array as it was.
"""

from __future__ import annotations

import math

import numpy as np

from . import _bias, _dask, _device, _weight, dispatch, hardware
from ._binding import (
    as_array,
    bind,
    check_inplace_x,
    check_out,
    check_writeable,
    on_device,
    refuse_out_with_inplace,
)
from ._dtypes import F64, common_dtypes, dtype_of, dtypes, is_real
from .backends.cpu import overwrites
from .registry import ACTIVATIONS, ELEMENTWISE


def _kernel_args(spec, params, shape, compute):
    """The scalar (or channel-weight) arguments that follow the array inputs."""
    args = [compute.type(v) for v in spec.scalars(params)]
    if spec.has_weight:
        w = params[spec.weight_param.name]
        args.append(_weight.channel_weight(spec.name, shape, w, compute))
    return args


def _run(spec, ufname, arrays, extra, shape, compute, result, out, backend):
    """Allocate if needed and run kernel ``ufname``; arrays and out are already checked."""
    impl = dispatch.backend_for(backend, spec, shape, compute, overwrites(out, arrays[0]))
    if out is None:
        hardware.check_fits(spec.name, math.prod(shape) * result.itemsize)
        if compute != result:  # float16: computed by the float32 loop into a float16 output
            res = np.empty(shape, result)
            impl.call(ufname, arrays + extra, res, compute)
            return res if res.ndim else res[()]
    return impl.call(ufname, arrays + extra, out, compute)


def _sampling(spec, params, noise, name):
    """Whether this call samples (an activation's "random" parameter is set: rrelu's training
    mode); ``noise=`` is refused where it would be ignored."""
    p = spec.random_param
    on = p is not None and params[p.name]
    if noise is not None and not on:
        raise ValueError(f"{name}: noise= applies only with {p.name}=True" if p else
                         f"{name}() got an unexpected keyword argument 'noise'")
    return on


def _refuse_sampling(spec, what):
    p = spec.random_param
    raise TypeError(f"{spec.name}: {p.name}=True samples on NumPy arrays only, not on {what}; "
                    f"compute with {p.name}=False there, or on a NumPy array")


def _sampled_forward(spec, x, arr, params, compute, result, out, backend, generator, noise):
    """``x * m`` with each element's multiplier ``m`` drawn by the entry's noise kernel from a
    uniform sample (torch's rrelu_with_noise); ``m`` is written to ``noise`` when given (the
    array ``_grad`` then takes). ``out`` is checked; ``noise`` is checked here, before any
    write."""
    name = spec.name
    if noise is not None:
        check_out(name, noise, arr.shape, compute, what="noise", of="x (in the computing dtype)")
        for other, what in ((arr, "x"), (out, "out")):
            if other is not None and np.may_share_memory(noise, other):
                raise ValueError(f"{name}: noise shares memory with {what}")
    rng = np.random.default_rng(generator)
    if noise is None:
        hardware.check_fits(name, arr.size * compute.itemsize * (1 + (out is None)))
        m = np.empty(arr.shape, compute)
    else:
        m = noise
    if m.flags.c_contiguous:
        rng.random(dtype=compute, out=m)
    else:
        m[...] = rng.random(m.shape, dtype=compute)
    scalars = [compute.type(params[p.name]) for p in spec.real_params]
    _run(spec, spec.noise_kernel, [m, arr], scalars, arr.shape, compute, compute, m, backend)
    if out is None:
        res = np.multiply(arr, m, dtype=compute).astype(result, copy=False)
        return res if res.ndim else res[()]
    np.multiply(arr, m, out=out, dtype=compute, casting="same_kind")
    return out


def forward(spec, x, params, out=None, inplace=False, backend=None, stream=None,
            generator=None, noise=None, bias=None):
    name = spec.name
    if bias is not None:  # f(x + bias): fused where the loops can, else the sum first
        sampled = _sampling(spec, params, noise, name)
        if stream is not None:
            raise TypeError(f"{name}: bias= works on NumPy and dask arrays, not with stream=")

        def plain(h, out, inplace, backend):
            return forward(spec, h, params, out, inplace, backend, None, generator, noise)

        return _bias.forward(spec, x, params, bias, out, inplace, backend, plain,
                             fusable=not (sampled or spec.has_weight))
    requested = backend
    backend = dispatch.resolve(backend)
    sampled = _sampling(spec, params, noise, name)
    if sampled and (on_device(x) or on_device(out) or _dask.is_dask(x)):
        _refuse_sampling(spec, "dask arrays" if _dask.is_dask(x) else "CUDA device arrays")
    if on_device(x) or on_device(out):
        return _device.forward(spec, x, params, out, inplace, backend, stream)
    if _dask.is_dask(x):
        _, result = dtypes(name, np.dtype(x.dtype), spec.keeps_integers)
        if spec.has_weight:  # checked now, not lazily
            _weight.channel_weight(name, x.shape, params[spec.weight_param.name], result)
        return _dask.forward(spec, x, params, out, inplace, requested, result, forward)
    arr = as_array(x)
    compute, result = dtypes(name, arr.dtype, spec.keeps_integers)
    ufname, _, _ = spec.kernels(params)
    extra = _kernel_args(spec, params, arr.shape, compute)
    if inplace:
        check_inplace_x(name, x, out, result)
        out = x
    elif out is not None:
        check_out(name, out, arr.shape, result)
    if sampled:
        return _sampled_forward(spec, x, arr, params, compute, result, out, backend, generator,
                                noise)
    return _run(spec, ufname, [arr], extra, arr.shape, compute, result, out, backend)


#: activations whose gradient can be computed from the output (``result=``)
FROM_RESULT = tuple(n for n, a in ACTIVATIONS.items() if a.result_grad is not None)


def grad(spec, grad_output, x, params, out=None, backend=None, result=None, inplace=False,
         stream=None, noise=None, bias=None):
    name = f"{spec.name}_grad"
    if bias is not None:  # (grad_input, grad_bias) of f(x + bias)
        if stream is not None:
            raise TypeError(f"{name}: bias= works on NumPy and dask arrays, not with stream=")
        if result is not None and spec.result_grad is None:
            raise ValueError(f"{name}: result= is not supported: {spec.name}'s derivative is "
                             f"not a function of its output; pass x")

        def plain(g, h, out, inplace, from_result, backend):
            return grad(spec, g, None if from_result else h, params, out, backend,
                        h if from_result else None, inplace, None, noise)

        return _bias.grad(spec, grad_output, x, params, bias, out, inplace, backend, result,
                          plain, fusable=not (spec.has_weight or noise is not None))
    requested = backend
    backend = dispatch.resolve(backend)
    if x is None and result is None:
        raise TypeError(f"{name}() needs x (the forward input) or result= (its output)")
    if x is not None and result is not None:
        raise TypeError(f"{name}() takes x or result=, not both")
    sampled = _sampling(spec, params, noise, name)
    if sampled:
        if noise is None:
            raise TypeError(f"{name}: {spec.random_param.name}=True needs noise=, the array "
                            f"{spec.name}(..., {spec.random_param.name}=True, noise=...) filled")
        if any(on_device(a) or _dask.is_dask(a) for a in (grad_output, x, out)):
            _refuse_sampling(spec, "dask or CUDA device arrays")
    ufname, _, _ = spec.kernels(params)
    kernel = f"{ufname}_grad"
    what = "x"
    if result is not None:
        if spec.result_grad is None:
            raise ValueError(
                f"{name}: result= is not supported: {spec.name}'s derivative is not a function "
                f"of its output; pass x. result= works for: {', '.join(FROM_RESULT)}"
            )
        if spec.result_check is not None:
            spec.result_check(params)
        x, kernel, what = result, f"{spec.name}_grad_result", "result"
    if on_device(grad_output) or on_device(x) or on_device(out):
        return _device.grad(spec, grad_output, x, params, out, inplace, backend, stream, kernel,
                            what)
    if _dask.is_dask(grad_output) or _dask.is_dask(x):
        _, res_dtype = common_dtypes(name, map(dtype_of, (grad_output, x)))
        return _dask.grad(spec, grad_output, x, params, out, inplace, requested,
                          what == "result", res_dtype, grad)
    g, arr = as_array(grad_output), as_array(x)
    compute, res_dtype = common_dtypes(name, (g.dtype, arr.dtype))
    try:
        shape = np.broadcast_shapes(g.shape, arr.shape)
    except ValueError:
        raise ValueError(
            f"{name}: grad_output of shape {g.shape} does not broadcast with {what} of shape "
            f"{arr.shape}"
        ) from None
    extra = _kernel_args(spec, params, arr.shape, compute)
    if inplace:
        refuse_out_with_inplace(name, out)
        if not isinstance(grad_output, np.ndarray):
            raise TypeError(f"{name}: inplace=True needs grad_output to be a NumPy array, got "
                            f"{type(grad_output).__name__}")
        check_writeable(name, grad_output, "grad_output (inplace=True)")
        if grad_output.dtype != res_dtype:
            raise TypeError(f"{name}: cannot write a {res_dtype} gradient into grad_output of "
                            f"dtype {grad_output.dtype}; pass out=")
        if grad_output.shape != shape:
            raise ValueError(f"{name}: inplace=True needs grad_output of the result's shape "
                             f"{shape}, got {grad_output.shape}")
        out = grad_output
    elif out is not None:
        check_out(name, out, shape, res_dtype)
    if sampled:  # g * m, the multipliers the forward drew
        if not isinstance(noise, np.ndarray) or noise.shape != arr.shape:
            raise ValueError(f"{name}: noise must be an array of x's shape {arr.shape}, got "
                             f"{getattr(noise, 'shape', type(noise).__name__)}")
        if out is None:
            hardware.check_fits(name, math.prod(shape) * res_dtype.itemsize)
            res = np.multiply(g, noise, dtype=compute).astype(res_dtype, copy=False)
            return res if res.ndim else res[()]
        np.multiply(g, noise, out=out, dtype=compute, casting="same_kind")
        return out
    grad_weight = None
    if spec.has_weight:  # before grad_input: with inplace=True that overwrites grad_output
        grad_weight = _weight.weight_grad(spec, params, g, arr, extra[-1], shape, compute,
                                          res_dtype, backend)
    grad_input = _run(spec, kernel, [g, arr], extra, shape, compute, res_dtype, out, backend)
    if grad_weight is None:
        return grad_input
    return grad_input, grad_weight


def derivative(name, x, **params):
    """f'(x) of activation ``name`` (its gradient with ``grad_output = 1``).

    >>> import fastact
    >>> fastact.derivative("relu", [-1.0, 0.0, 2.0])
    array([0., 0., 1.])
    """
    try:
        spec = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}"
        ) from None
    if spec.kind != ELEMENTWISE:
        what = ("a reduction along an axis: its Jacobian is not element-wise; "
                f"{name}_grad(grad_output, x) gives its vector-Jacobian product"
                if spec.reduction else
                f"of two inputs: its partial derivatives come from {name}_grad")
        raise ValueError(f"derivative: {name} is {spec.kind}, {what}")
    p = bind(spec, f"{name}_grad", (), dict(params))
    arr = as_array(x)
    one = np.ones((), dtype=arr.dtype if arr.dtype.kind in "fV" and is_real(arr.dtype) else F64)
    res = grad(spec, one, arr, p)
    return res[0] if isinstance(res, tuple) else res
