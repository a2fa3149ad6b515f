"""The public functions, generated from the registry: arguments, validation, dtypes, dispatch.

Every check happens before the first write, so a refused call leaves every array as it was.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os

import numpy as np

from . import _dask, _device, dispatch, hardware
from .registry import ACTIVATIONS, REQUIRED, Activation

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_SUPPORTED_FLOATS = (_F16, _F32, _F64)


# -- dtypes ------------------------------------------------------------------------------------


def _refuse_dtype(name, dtype):
    raise TypeError(
        f"{name}: unsupported dtype {dtype}; fastact computes float16, float32 and float64 "
        "(integers and bools are promoted to float64)"
    )


def _dtypes(name: str, dtype: np.dtype, keeps_integers: bool) -> tuple[np.dtype, np.dtype]:
    """(compute dtype, result dtype) for an input dtype, or TypeError naming both.

    Non-native byte order is computed and returned in native order (as NumPy's ufuncs do).
    """
    kind = dtype.kind
    if kind in "biuf" and not dtype.isnative:
        dtype = dtype.newbyteorder("=")
    if kind == "f":
        if dtype not in _SUPPORTED_FLOATS:
            _refuse_dtype(name, dtype)
        return (_F32, _F16) if dtype == _F16 else (dtype, dtype)
    if kind in "biu":
        return (dtype, dtype) if keeps_integers else (_F64, _F64)
    _refuse_dtype(name, dtype)


# -- argument checks ---------------------------------------------------------------------------


def _as_array(x):
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def _on_device(obj):
    """Whether obj is a CUDA device array (checked without importing numba.cuda)."""
    return obj is not None and not isinstance(obj, np.ndarray) and (
        hasattr(obj, "__cuda_array_interface__") or bool(getattr(obj, "__cuda_ndarray__", False)))


def _check_writeable(name, arr, what):
    if not arr.flags.writeable:
        raise ValueError(f"{name}: {what} is read-only")


def _check_out(name, out, shape, dtype):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: out must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{name}: out has shape {out.shape}, but the result has shape {shape}")
    if out.dtype != dtype:
        raise ValueError(f"{name}: out has dtype {out.dtype}, but the result has dtype {dtype}")
    _check_writeable(name, out, "out")


def _check_real(name, param, value):
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {param} must be a real number, got {type(value).__name__}")
    return float(value)


def _bind(spec: Activation, fname: str, args: tuple, kwargs: dict) -> dict:
    """The activation's parameters from positional and keyword arguments, checked."""
    if len(args) > len(spec.params):
        raise TypeError(
            f"{fname}() takes {len(spec.params) + 1 + fname.endswith('_grad')} positional "
            f"arguments but {len(args) + 1 + fname.endswith('_grad')} were given"
        )
    params = {}
    for i, p in enumerate(spec.params):
        if i < len(args):
            if p.name in kwargs:
                raise TypeError(f"{fname}() got multiple values for argument {p.name!r}")
            value = args[i]
        elif p.name in kwargs:
            value = kwargs.pop(p.name)
        elif p.default is REQUIRED:
            raise TypeError(f"{fname}() missing required argument: {p.name!r}")
        else:
            value = p.default
        if p.kind == "real":
            value = _check_real(spec.name, p.name, value)
        elif p.kind == "choice" and value not in p.choices:
            raise ValueError(
                f"{spec.name}: {p.name} must be one of {', '.join(map(repr, p.choices))}, "
                f"got {value!r}"
            )
        params[p.name] = value
    if kwargs:
        raise TypeError(f"{fname}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if spec.check is not None:
        spec.check(params)
    return params


def _channel_weight(name, x_shape, weight, compute):
    """prelu's weight as an array that broadcasts along x's channel axis (axis 1)."""
    w = np.asarray(weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{name}: weight has unsupported dtype {w.dtype}")
    if w.ndim > 1:
        raise ValueError(f"{name}: weight must be a scalar or 1-D, got shape {w.shape}")
    w = w.astype(compute)
    if w.ndim == 0 or w.size == 1:
        return w.reshape(())
    channels = x_shape[1] if len(x_shape) >= 2 else None
    if channels is None:
        raise ValueError(
            f"{name}: a {len(x_shape)}-D input has no channel axis and takes a scalar or "
            f"length-1 weight, got length {w.size}"
        )
    if w.size != channels:
        raise ValueError(
            f"{name}: weight has length {w.size}, but x has {channels} channels (x.shape[1])"
        )
    return w.reshape((channels,) + (1,) * (len(x_shape) - 2))


def _kernel_args(spec, params, shape, compute):
    """The scalar (or channel-weight) arguments that follow the array inputs."""
    args = [compute.type(params[p.name]) for p in spec.real_params]
    if "weight" in params:
        args.append(_channel_weight(spec.name, shape, params["weight"], compute))
    return args


# -- the calls ---------------------------------------------------------------------------------


def _run(spec, ufname, arrays, extra, shape, compute, result, out, backend):
    """Allocate if needed and run kernel ``ufname``; arrays and out are already checked."""
    impl = dispatch.backend_for(backend, spec, shape, compute)
    if out is None:
        hardware.check_fits(spec.name, math.prod(shape) * result.itemsize)
        if compute != result:  # float16: computed by the float32 loop into a float16 output
            res = np.empty(shape, result)
            impl.call(ufname, arrays + extra, res, compute)
            return res if res.ndim else res[()]
    return impl.call(ufname, arrays + extra, out, compute)


def forward(spec, x, params, out=None, inplace=False, backend=None, stream=None):
    name = spec.name
    requested = backend
    backend = dispatch.resolve(backend)
    if _on_device(x) or _on_device(out):
        return _device.forward(spec, x, params, out, inplace, backend, stream)
    if _dask.is_dask(x):
        _, result = _dtypes(name, np.dtype(x.dtype), spec.keeps_integers)
        if "weight" in params:
            _channel_weight(name, x.shape, params["weight"], result)  # checked now, not lazily
        return _dask.forward(spec, x, params, out, inplace, requested, result)
    arr = _as_array(x)
    compute, result = _dtypes(name, arr.dtype, spec.keeps_integers)
    ufname, _, _ = spec.kernels(params)
    extra = _kernel_args(spec, params, arr.shape, compute)
    if inplace:
        if out is not None:
            raise ValueError(f"{name}: pass either out= or inplace=True, not both")
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{name}: inplace=True needs a NumPy array, got {type(x).__name__}")
        _check_writeable(name, x, "x (inplace=True)")
        if result != x.dtype:
            raise TypeError(
                f"{name}: cannot work in place on a {x.dtype} array: the result is {result}; "
                f"convert x to {result} first or pass out="
            )
        out = x
    elif out is not None:
        _check_out(name, out, arr.shape, result)
    return _run(spec, ufname, [arr], extra, arr.shape, compute, result, out, backend)


#: activations whose gradient can be computed from the output (``result=``)
FROM_RESULT = tuple(n for n, a in ACTIVATIONS.items() if a.result_grad is not None)


def grad(spec, grad_output, x, params, out=None, backend=None, result=None, inplace=False,
         stream=None):
    name = f"{spec.name}_grad"
    requested = backend
    backend = dispatch.resolve(backend)
    if x is None and result is None:
        raise TypeError(f"{name}() needs x (the forward input) or result= (its output)")
    if x is not None and result is not None:
        raise TypeError(f"{name}() takes x or result=, not both")
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
    if _on_device(grad_output) or _on_device(x) or _on_device(out):
        return _device.grad(spec, grad_output, x, params, out, inplace, backend, stream, kernel,
                            what)
    if _dask.is_dask(grad_output) or _dask.is_dask(x):
        dts = [np.dtype(a.dtype) if hasattr(a, "dtype") else np.asarray(a).dtype
               for a in (grad_output, x)]
        for dt in dts:
            if dt.kind not in "biuf":
                _refuse_dtype(name, dt)
        _, res_dtype = _dtypes(name, np.result_type(*dts), False)
        return _dask.grad(spec, grad_output, x, params, out, inplace, requested,
                          what == "result", res_dtype)
    g, arr = _as_array(grad_output), _as_array(x)
    for a in (g, arr):
        if a.dtype.kind not in "biuf":
            _refuse_dtype(name, a.dtype)
    compute, res_dtype = _dtypes(name, np.result_type(g.dtype, arr.dtype), False)
    try:
        shape = np.broadcast_shapes(g.shape, arr.shape)
    except ValueError:
        raise ValueError(
            f"{name}: grad_output of shape {g.shape} does not broadcast with {what} of shape "
            f"{arr.shape}"
        ) from None
    extra = _kernel_args(spec, params, arr.shape, compute)
    if inplace:
        if out is not None:
            raise ValueError(f"{name}: pass either out= or inplace=True, not both")
        if not isinstance(grad_output, np.ndarray):
            raise TypeError(f"{name}: inplace=True needs grad_output to be a NumPy array, got "
                            f"{type(grad_output).__name__}")
        _check_writeable(name, grad_output, "grad_output (inplace=True)")
        if grad_output.dtype != res_dtype:
            raise TypeError(f"{name}: cannot write a {res_dtype} gradient into grad_output of "
                            f"dtype {grad_output.dtype}; pass out=")
        if grad_output.shape != shape:
            raise ValueError(f"{name}: inplace=True needs grad_output of the result's shape "
                             f"{shape}, got {grad_output.shape}")
        out = grad_output
    elif out is not None:
        _check_out(name, out, shape, res_dtype)
    grad_weight = None
    if "weight" in params:  # before grad_input: with inplace=True that overwrites grad_output
        grad_weight = _prelu_weight_grad(spec, params, g, arr, extra[-1], shape, compute,
                                         res_dtype, backend)
    grad_input = _run(spec, kernel, [g, arr], extra, shape, compute, res_dtype, out, backend)
    if grad_weight is None:
        return grad_input
    return grad_input, grad_weight


def _prelu_weight_grad(spec, params, g, arr, w, shape, compute, res_dtype, backend):
    """d(loss)/d(weight) = sum of g * x where x <= 0, over all but the channel axis."""
    contrib = dispatch.backend_for(backend, spec, shape, compute).call(
        "prelu_weight_grad", [g, arr], None, compute
    )
    contrib = np.broadcast_to(contrib, shape)
    axes = None if w.ndim == 0 else tuple(i for i in range(len(shape)) if i != 1)
    total = np.asarray(_weight_sum(contrib, compute, axes), dtype=res_dtype)
    total = total.reshape(np.shape(params["weight"]))
    return total if total.ndim else total[()]


def _weight_sum(contrib, dtype, axes=None):
    """prelu's weight gradient from the per-element contributions (NumPy's pairwise sum)."""
    with np.errstate(over="ignore"):  # a sum of huge values overflows to inf, as torch's
        return contrib.sum(axis=axes, dtype=dtype)


# -- generated public functions ----------------------------------------------------------------

_P = inspect.Parameter


def _signature(spec, grad_fn):
    if grad_fn:
        ps = [_P("grad_output", _P.POSITIONAL_OR_KEYWORD),
              _P("x", _P.POSITIONAL_OR_KEYWORD, default=None)]
    else:
        ps = [_P("x", _P.POSITIONAL_OR_KEYWORD)]
    for p in spec.params:
        default = _P.empty if p.default is REQUIRED else p.default
        if grad_fn and default is _P.empty:  # after x=None; a missing weight still raises
            default = None
        ps.append(_P(p.name, _P.POSITIONAL_OR_KEYWORD, default=default))
    if grad_fn:
        ps.append(_P("result", _P.KEYWORD_ONLY, default=None))
    ps.append(_P("out", _P.KEYWORD_ONLY, default=None))
    if grad_fn or "weight" not in {p.kind for p in spec.params}:
        ps.append(_P("inplace", _P.KEYWORD_ONLY, default=False))
    ps.append(_P("backend", _P.KEYWORD_ONLY, default=None))
    ps.append(_P("stream", _P.KEYWORD_ONLY, default=None))
    return inspect.Signature(ps)


def _accuracy(spec):
    if spec.accuracy_ulp == 0:
        return "exact (bit-equal to the correctly rounded result)"
    return f"within {spec.accuracy_ulp} ULP of the exact value in float32 (float64: 16 ULP)"


def _docstring(spec, grad_fn):
    params = "\n".join(
        f"{p.name} : {'one of ' + ', '.join(map(repr, p.choices)) if p.choices else 'float'}"
        + ("" if p.default is REQUIRED else f", default {p.default!r}")
        for p in spec.params
    )
    if grad_fn:
        head = (
            f"Gradient of {spec.name}: ``grad_output * f'(x)`` in one pass.\n\n"
            f".. math::\n\n    f'(x) = {spec.derivative}\n\n"
            f"Convention: {spec.kinks}.\n"
        )
        if spec.result_grad is not None:
            head += (f"\nFrom the output (``result=y``, as ATen's ``is_result``):\n\n"
                     f".. math::\n\n    f' = {spec.result_derivative}\n")
        if spec.name == "prelu":
            head += "\nReturns ``(grad_input, grad_weight)``; grad_weight has weight's shape.\n"
        args = ("grad_output, x : array_like\n    Broadcast together. Give x (the forward input)"
                + (" or result= (the forward output), not both.\n" if spec.result_grad else ".\n"))
    else:
        head = (
            f"{spec.summary}\n\n.. math::\n\n    f(x) = {spec.formula}\n\n"
            f"    f'(x) = {spec.derivative}\n\n"
            f"Convention: {spec.kinks}. Accuracy: {_accuracy(spec)}.\n"
        )
        args = "x : array_like\n"
    options = (
        ("result : array_like, optional\n    The forward output y instead of x.\n"
         if grad_fn and spec.result_grad else "")
        + "out : ndarray, optional\n    Result array of the result's shape and dtype; returned.\n"
        + ("inplace : bool, default False\n    Write grad_input into grad_output and return it.\n"
           if grad_fn else "" if spec.name == "prelu" else
           "inplace : bool, default False\n    Write the result into x and return x.\n")
        + "backend : {'auto', 'cpu', 'parallel', 'cuda'}, optional\n    Overrides use_backend() "
          "and FASTACT_BACKEND; 'auto' picks by size and device (see fastact.explain).\n"
        + "stream : CUDA stream, optional\n    For device arrays and backend='cuda': the stream to "
          "run on (a Numba stream, torch.cuda.Stream, cupy Stream or a pointer); default: the "
          "stream in the array's __cuda_array_interface__, else the default stream. Ignored by "
          "the CPU backends.\n"
    )
    example = "" if grad_fn else f"\nExamples\n--------\n>>> import fastact\n{spec.example}\n"
    return f"{head}\nParameters\n----------\n{args}{params + chr(10) if params else ''}" \
           f"{options}{example}"


# -- the fast path ---------------------------------------------------------------------------------
#
# At N = 1e3 the kernels take well under a microsecond and at 1e6 a relu takes ~70 us; the general
# path (binding, validation, dispatch) costs ~10-20 us. A call with only an array (forward) or two
# arrays (gradient) of one float dtype, C-contiguous, 1-D or more, default parameters (and
# ``out=`` only of the same dtype, shape and layout, not overlapping), where "auto" is in force
# (backend="auto", or no backend= and no override active) goes straight to the loop "auto" would
# pick: the serial loop below the parallel threshold, the parallel one from it on; with
# backend="cpu", to the serial loop. Everything else takes the general path, which gives the same
# result.

_LOOP_DTYPES = (_F32, _F64)


def _parallel_runner(loop, n_scalars, itemsize):
    """A callable with a serial loop's arguments that runs the parallel loop ``loop``."""
    from .backends import parallel

    def run(*args):
        split = len(args) - n_scalars
        parallel.run_loop(loop, list(args[:split]), args[split:], itemsize)

    return run


def _fast_path(spec, kernel_name):
    """(loop_for(dtype, parallel) -> (loop, scalar defaults, in-place loop), route) for one
    generated function; ``route(size, dtype, backend)`` is None (take the general path), False
    (the serial loop) or True (the parallel loop), as "auto" would choose."""
    table = {}
    defaults = [p.default for p in spec.real_params]
    family = spec.family

    def loop_for(dtype, par):
        entry = table.get((dtype, par))
        if entry is None and dtype in _LOOP_DTYPES:
            from .backends import cpu

            loops = cpu._loops()
            scalars = tuple(dtype.type(d) for d in defaults)
            inplace = f"{kernel_name}_inplace"
            if par:
                n = len(scalars)
                entry = (_parallel_runner(kernel_name, n, dtype.itemsize), scalars,
                         _parallel_runner(inplace, n, dtype.itemsize))
            else:
                entry = (getattr(loops, kernel_name), scalars, getattr(loops, inplace, None))
            table[(dtype, par)] = entry
        return entry

    def route(size, dtype, backend):
        if backend == "cpu":  # named: the serial loop, whatever the size or an override
            return False
        limits = dispatch._profile["thresholds"]
        if limits is None:
            return None
        if backend is None:  # an override could choose another backend
            if dispatch._override.get() is not None or _env_set():
                return None
        elif backend != "auto":
            return None
        kind = "float32" if dtype == _F32 else "float64"
        gpu = limits.get("cuda")
        if gpu is not None and gpu[family][kind] is not None and size >= gpu[family][kind]:
            return None  # a tuned profile may send this size to the GPU: the general path
        if size < limits[family][kind]:
            return False
        from .backends import parallel

        return parallel.usable()[0] and parallel.threads() > 1

    return loop_for, route


def _env_lookup():
    """A cheap test for FASTACT_BACKEND in the environment (``in os.environ`` costs ~1 us).

    os.environ keeps its items in ``_data`` under encoded keys; that is looked up directly where
    the attributes exist (CPython on every platform), else through the public mapping.
    """
    data = getattr(os.environ, "_data", None)
    encode = getattr(os.environ, "encodekey", None)
    if isinstance(data, dict) and encode is not None:
        key = encode("FASTACT_BACKEND")
        return lambda: key in data
    return lambda: "FASTACT_BACKEND" in os.environ


_env_set = _env_lookup()


def _plain_out(out, like, *inputs):
    """Whether the fast paths may write into ``out``: None (they allocate), or a C-contiguous,
    writeable ndarray of ``like``'s dtype and shape sharing no memory with ``inputs`` (anything
    else is the general path's to check, refuse or handle)."""
    if out is None:
        return True
    if not (type(out) is np.ndarray and out.dtype == like.dtype and out.shape == like.shape
            and out.flags.c_contiguous and out.flags.writeable):
        return False
    for a in inputs:
        if np.may_share_memory(out, a):
            return False
    return True


def _float_weight(args, kwargs):
    """prelu's weight where it was passed alone (positionally or by name), else None."""
    if len(args) == 1 and not kwargs:
        return args[0]
    return kwargs.get("weight") if (not args and len(kwargs) == 1) else None


def _fast_out(name, loop, x, out, scalars):
    """Run out-of-place ``loop`` on C-contiguous ``x`` into ``out`` or a new array; None (nothing
    run) where ``out`` is not plain (:func:`_plain_out`): the general path decides then."""
    if not _plain_out(out, x, x):
        return None
    if out is None:
        hardware.check_fits(name, x.nbytes)
        res = np.empty_like(x)
    else:
        res = out
    if x.ndim == 1:  # reshape(-1) costs ~0.2 us a view
        loop(x, res, *scalars)
    else:
        loop(x.reshape(-1), res.reshape(-1), *scalars)
    return res


def _make_forward(spec):
    loop_for, route = _fast_path(spec, spec.name) if "weight" not in {
        p.kind for p in spec.params} else (None, None)

    def fn(x, *args, out=None, inplace=False, backend=None, stream=None, **kwargs):
        if (loop_for is not None and type(x) is np.ndarray and not args and not kwargs
                and x.ndim and x.flags.c_contiguous
                and (par := route(x.size, x.dtype, backend)) is not None):
            entry = loop_for(x.dtype, par)
            if entry is not None:
                if inplace:
                    if out is None and x.flags.writeable:
                        entry[2](x if x.ndim == 1 else x.reshape(-1), *entry[1])
                        return x
                elif (res := _fast_out(spec.name, entry[0], x, out, entry[1])) is not None:
                    return res
        params = _bind(spec, spec.name, args, kwargs)
        return forward(spec, x, params, out, inplace, backend, stream)

    if spec.name == "prelu":  # prelu has no in-place form (DESIGN.md)
        route, loops_for = _prelu_fast(spec)

        def fn(x, *args, out=None, backend=None, stream=None, **kwargs):  # noqa: F811
            w = _float_weight(args, kwargs)
            if (type(w) is float and type(x) is np.ndarray and x.ndim
                    and x.dtype in _LOOP_DTYPES and x.flags.c_contiguous
                    and (par := route(x.size, x.dtype, backend)) is not None
                    and (res := _fast_out(spec.name, loops_for(x.dtype, par)[0], x, out,
                                          (x.dtype.type(w),))) is not None):
                return res
            params = _bind(spec, spec.name, args, kwargs)
            return forward(spec, x, params, out, False, backend, stream)

    return _finish(fn, spec, spec.name, grad_fn=False)


def _make_grad(spec):
    fname = f"{spec.name}_grad"
    loop_for, route = _fast_path(spec, fname) if "weight" not in {
        p.kind for p in spec.params} else (None, None)
    # result= with the default parameters (which every result_check accepts)
    result_loop_for = _fast_path(spec, f"{fname}_result")[0] if (
        loop_for is not None and spec.result_grad is not None) else None

    def fn(grad_output, x=None, *args, result=None, out=None, inplace=False, backend=None,
           stream=None, **kwargs):
        pick, arr = loop_for, x
        if result is not None:  # y takes x's place in the loop; both given: the general path
            pick, arr = (result_loop_for, result) if x is None else (None, None)
        if (pick is not None and type(arr) is np.ndarray and type(grad_output) is np.ndarray
                and not args and not kwargs and arr.ndim and not inplace
                and arr.dtype == grad_output.dtype and arr.shape == grad_output.shape
                and arr.flags.c_contiguous and grad_output.flags.c_contiguous
                and _plain_out(out, arr, arr, grad_output)
                and (par := route(arr.size, arr.dtype, backend)) is not None):
            entry = pick(arr.dtype, par)
            if entry is not None:
                if out is None:
                    hardware.check_fits(fname, arr.nbytes)
                    res = np.empty_like(arr)
                else:
                    res = out
                if arr.ndim == 1:
                    entry[0](grad_output, arr, res, *entry[1])
                else:
                    entry[0](grad_output.reshape(-1), arr.reshape(-1), res.reshape(-1),
                             *entry[1])
                return res
        params = _bind(spec, fname, args, kwargs)
        return grad(spec, grad_output, x, params, out, backend, result, inplace, stream)

    if spec.name == "prelu":
        fn = _prelu_grad_fn(spec, fname)
    return _finish(fn, spec, fname, grad_fn=True)


def _prelu_fast(spec):
    """(route, loops_for(dtype, parallel) -> (forward, gradient, weight-gradient loop)) for
    prelu's fast paths: a float weight is one slope for every channel, a scalar to the loops."""
    route = _fast_path(spec, spec.name)[1]
    loops = {}

    def loops_for(dtype, par):
        if (dtype, par) not in loops:
            from .backends import cpu

            names = ("prelu", "prelu_grad", "prelu_weight_grad")
            loops[dtype, par] = tuple(
                _parallel_runner(n, int(n != "prelu_weight_grad"), dtype.itemsize) if par
                else getattr(cpu._loops(), n) for n in names)
        return loops[dtype, par]

    return route, loops_for


def _prelu_grad_fn(spec, fname):
    """prelu_grad with a fast path for a float weight on plain arrays: the gradient loop with
    that slope, and the weight's gradient summed from the per-element loop as the general path
    sums it."""
    route, loops_for = _prelu_fast(spec)

    def fn(grad_output, x=None, *args, result=None, out=None, inplace=False, backend=None,
           stream=None, **kwargs):
        w = _float_weight(args, kwargs)
        if (type(w) is float and type(x) is np.ndarray and type(grad_output) is np.ndarray
                and result is None and not inplace and x.ndim and x.dtype in _LOOP_DTYPES
                and x.dtype == grad_output.dtype and x.shape == grad_output.shape
                and x.flags.c_contiguous and grad_output.flags.c_contiguous
                and _plain_out(out, x, x, grad_output)
                and (par := route(x.size, x.dtype, backend)) is not None):
            _, grad_loop, weight_loop = loops_for(x.dtype, par)
            hardware.check_fits(fname, x.nbytes * (2 if out is None else 1))
            res = np.empty_like(x) if out is None else out
            contrib = np.empty_like(x)
            flat = ((grad_output, x, res, contrib) if x.ndim == 1 else
                    [a.reshape(-1) for a in (grad_output, x, res, contrib)])
            grad_loop(flat[0], flat[1], flat[2], x.dtype.type(w))
            weight_loop(flat[0], flat[1], flat[3])
            return res, x.dtype.type(_weight_sum(contrib, x.dtype))
        params = _bind(spec, fname, args, kwargs)
        return grad(spec, grad_output, x, params, out, backend, result, inplace, stream)

    return fn


def _finish(fn, spec, fname, grad_fn):
    fn.__name__ = fn.__qualname__ = fname
    fn.__module__ = "fastact"
    fn.__signature__ = _signature(spec, grad_fn)
    fn.__doc__ = _docstring(spec, grad_fn)
    return fn


def public_functions() -> dict:
    """name -> function, for every activation and its gradient."""
    fns = {}
    for spec in ACTIVATIONS.values():
        fns[spec.name] = _make_forward(spec)
        fns[f"{spec.name}_grad"] = _make_grad(spec)
    return fns



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
    p = _bind(spec, f"{name}_grad", (), dict(params))
    arr = _as_array(x)
    one = np.ones((), dtype=arr.dtype if arr.dtype.kind == "f" else _F64)
    res = grad(spec, one, arr, p)
    return res[0] if isinstance(res, tuple) else res
