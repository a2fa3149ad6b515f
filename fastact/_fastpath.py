"""The public functions' fast paths, and the general call each falls back to.

At N = 1e3 the kernels take well under a microsecond and at 1e6 a relu takes ~70 us; the general
path (binding, validation, dispatch) costs ~10-20 us (15-50 us for the gated and axis-wise kinds).
An element-wise call with only an array (forward) or two arrays (gradient) of one float dtype
(float32, float64 or bfloat16), C-contiguous, 1-D or more, the default parameters or parameters
given as Python scalars (bound and checked once per set of values, :func:`_param_paths`),
``out=`` only of the same dtype, shape and layout, not overlapping, where "auto" is in force
(backend="auto", or no backend= and no override active) goes straight to the loop "auto" would
pick: the serial loop below the parallel threshold, the parallel one from it on; with
backend="cpu", to the serial loop. Below the threshold, a call of the arrays and parameters
alone runs the serial loop as a NumPy ufunc (:func:`_small_calls`). Plain gated and axis-wise
calls below it (the split along the last axis or gate and up of one shape; the reduction along
the last axis) call the serial loop's entry point (:func:`gated_small`, :func:`axis_small`).
Everything else takes the general path, which gives the same result.
"""

from __future__ import annotations

import inspect
from math import copysign
from operator import is_

import numpy as np

from . import _axis, _calls, _gated, dispatch, hardware
from ._binding import bind
from ._dtypes import F32, LOOP_DTYPES, WORD, is_bf16, words
from ._weight import weight_sum


def _parallel_runner(loop, n_scalars, itemsize, stream=False):
    """A callable with a serial loop's arguments that runs the parallel loop ``loop`` (into the
    caller's ``out=`` where ``stream``: see :func:`fastact.backends.parallel.run_loop`)."""
    from .backends import parallel

    def run(*args):
        split = len(args) - n_scalars
        parallel.run_loop(loop, list(args[:split]), args[split:], itemsize, stream)

    return run


def _on_words(loop):
    """``loop`` (None stays None) taking bfloat16 arrays: it runs on their 16-bit words."""
    if loop is None:
        return None

    def run(*args):
        return loop(*[words(a) for a in args])

    return run


def _entry_point(loop, arrays, item, scalar, n_scalars):
    """Generated serial loop ``loop`` (a Numba dispatcher) compiled for ``arrays`` 1-D
    C-contiguous arrays of dtype ``item`` and ``n_scalars`` scalars of dtype ``scalar``, as its
    compiled entry point (:func:`_compiled`)."""
    return _compiled(loop, *(_numba_types(item)[0],) * arrays,
                     *(_numba_types(scalar)[1],) * n_scalars)


def _compiled(loop, *argtypes):
    """The compiled entry point of Numba dispatcher ``loop`` for these argument types (loaded
    from the cache where it is there): a call skips the dispatcher's type resolution (~0.2 us
    of a 1e3-element call), and an array of another dtype is still a TypeError, never a wrong
    read."""
    return loop.compile(argtypes)


def _numba_types(dtype):
    """(1-D C-contiguous array of ``dtype``, ``dtype``, intp) as Numba types."""
    from numba import from_dtype, types

    return types.Array(from_dtype(dtype), 1, "C"), from_dtype(dtype), types.intp


def _allocating(loop, scalars):
    """``run(*inputs)``: a new array from ``loop`` (a serial or parallel runner of the inputs
    and ``out``, C-contiguous, as 1-D views) with ``scalars``."""
    empty = np.empty

    def run(*inputs):
        x = inputs[-1]
        res = empty(x.shape, x.dtype)
        if x.ndim == 1:  # reshape(-1) costs ~0.2 us a view
            loop(*inputs, res, *scalars)
        else:
            loop(*[a.reshape(-1) for a in inputs], res.reshape(-1), *scalars)
        return res

    return run


def _fast_path(spec, kernel_name, values=None):
    """(loop_for(dtype, parallel) -> (loop, scalars, in-place loop, loop into ``out=``,
    ``new(*inputs)`` returning a new array, built at its first call), route)
    for one generated function with the kernel scalars ``values`` (Python numbers; None: the
    defaults'); ``new`` is, for the serial loop of float32 and float64 arrays, a ufunc
    (:func:`fastact.backends.cpu.loop_ufunc`) where this machine has one. ``route(size, dtype,
    backend, inplace=False)`` (:func:`fastact.dispatch.router`) is None (take the general path),
    False (the serial loop) or True (the parallel loop). The serial loops are entry points
    (:func:`_entry_point`): the fast paths call them only with 1-D C-contiguous arrays."""
    tables = ({}, {})  # dtype -> entry, for the serial loops and the parallel ones
    if values is None:
        values = spec.scalars(spec.defaults()) if _plain_fast_path(spec) else ()
    family = spec.family

    def build(dtype, par):
        from .backends import cpu

        bf16 = is_bf16(dtype)
        if not bf16 and dtype not in LOOP_DTYPES:
            return None
        compute = F32 if bf16 else dtype
        scalars = tuple(compute.type(v) for v in values)
        n = len(scalars)
        inplace = f"{kernel_name}_inplace"
        if par:  # blocks sized by the bytes of the arrays' elements (bfloat16: its words)
            loop, in_place = (_parallel_runner(k, n, dtype.itemsize) for k in (kernel_name,
                                                                                 inplace))
            into = _parallel_runner(kernel_name, n, dtype.itemsize, stream=True)
        else:  # each entry point compiled (or loaded) at its first call
            loops, k = cpu.loops(), cpu.n_arrays(kernel_name)
            item = WORD if bf16 else dtype

            def lazy(at, name, arrays):
                def first(*args):
                    ep = _entry_point(getattr(loops, name), arrays, item, compute, n)
                    ep = _on_words(ep) if bf16 else ep
                    entry = list(tables[par][dtype])
                    for i in at:
                        entry[i] = ep
                    tables[par][dtype] = tuple(entry)
                    return ep(*args)

                return first

            loop = lazy((0, 3), kernel_name, k + 1)
            in_place = lazy((2,), inplace, k) if hasattr(loops, inplace) else None
            by_entry = _allocating(lambda *a: tables[par][dtype][0](*a), scalars)
            if bf16:
                return loop, scalars, in_place, loop, by_entry

            def new(*args):  # the ufunc, built at the first allocating call
                run = cpu.loop_ufunc(kernel_name, dtype, scalars, k) or by_entry
                tables[par][dtype] = (*tables[par][dtype][:4], run)
                return run(*args)

            return loop, scalars, in_place, loop, new
        if bf16:  # the float32 loops on the arrays' 16-bit words
            loop, in_place, into = _on_words(loop), _on_words(in_place), _on_words(into)
        return loop, scalars, in_place, into, _allocating(loop, scalars)

    def loop_for(dtype, par):
        table = tables[par]
        try:
            return table[dtype]
        except KeyError:
            entry = table[dtype] = build(dtype, par)
            return entry

    return loop_for, dispatch.router(family)


#: parameter sets per function whose fast paths are kept (past it, a sweep over many values
#: takes the general path, which gives the same result)
PARAM_PATHS = 64

_SCALAR_TYPES = frozenset((float, int, str))


def _no_paths(args, kwargs):
    return None


def _same_value(a, b):
    """Whether equal scalars ``a`` and ``b`` are the same parameter value: of one type, and of
    one sign where they are float zeros (``0.0 == -0.0``, but leaky_relu's slope -0.0 gives the
    negative inputs' results another sign)."""
    return type(a) is type(b) and (type(a) is not float or copysign(1.0, a) == copysign(1.0, b))


def _param_paths(spec, suffix):
    """``lookup(args, kwargs)``: the ``loop_for`` of :func:`_fast_path` for the kernel and the
    scalars that these parameters (Python scalars, passed positionally or by name) select, bound
    and checked once per distinct set and kept; None where the general path must decide: a
    value that is not a Python float, int or str, a keyword that is not a parameter, parameters
    that do not bind (the general path raises the error), or the table full. An activation with
    a weight or a random parameter has none."""
    if spec.has_weight or spec.random_param is not None or not spec.params:
        return _no_paths
    names, fname, paths = frozenset(p.name for p in spec.params), spec.name + suffix, {}

    def add(key, given, args, kwargs):
        if (len(paths) >= PARAM_PATHS or not kwargs.keys() <= names
                or not _SCALAR_TYPES.issuperset(map(type, given))
                or any(v != v for v in given)):  # NaN: a new key each time, never kept
            return None
        try:
            params = bind(spec, fname, args, dict(kwargs))
        except (TypeError, ValueError):
            return None
        kernel = spec.kernels(params)[0] + suffix
        loop_for = _fast_path(spec, kernel, spec.scalars(params))[0]
        paths[key] = given, loop_for
        return loop_for

    def lookup(args, kwargs):
        key = (args, *kwargs.items()) if kwargs else args
        given = (*args, *kwargs.values()) if kwargs else args
        try:
            held, loop_for = paths[key]
        except KeyError:
            return add(key, given, args, kwargs)
        except TypeError:  # unhashable: an array, a list
            return None
        if all(map(is_, held, given)) or all(map(_same_value, held, given)):
            return loop_for
        return None

    return lookup


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


def _float_weight(name, args, kwargs):
    """The weight parameter ``name`` where it was passed alone (positionally or by name), else
    None."""
    if len(args) == 1 and not kwargs:
        return args[0]
    return kwargs.get(name) if (not args and len(kwargs) == 1) else None


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


def _small_size(n, dtype, arrays):
    """The size below which a small call runs: ``n``, "auto"'s serial limit, capped where one
    piece of a serial run ends (fastact.backends.cpu.PIECE: Ctrl-C is seen between pieces) and
    where ``arrays`` new arrays of the result's size would be checked against the free memory."""
    from .backends import cpu

    return min(n, cpu.PIECE, hardware.MEMORY_CHECK_BYTES // (arrays * dtype.itemsize))


def _small_calls(family):
    """(small, keep(dtype, new, args, kwargs), lookup(dtype, size, args, kwargs)) for the
    calls on small arrays without options (the array(s) and the parameters alone, the arrays
    C-contiguous): the commonest calls, whose checks here cost ~0.3 us where the fast path's
    cost ~0.6. ``small`` maps a dtype (a plain call) or (dtype, positional parameters, named
    ones) to (the thresholds table, the size below which "auto" runs the serial loop while
    that table is in force and no override or FASTACT_BACKEND says otherwise, ``new`` of that
    dtype's serial entry, the parameter values); ``keep`` fills it from a call that took the
    serial loop (see :func:`fastact.dispatch.serial_below`), the size capped below the sizes
    whose allocation is checked against the free memory; ``lookup`` gives the ``new`` of a call
    with parameters, or None where the fast path decides: equal values of the same types (a
    float zero: of the same sign, :func:`_same_value`) as a kept call's. The parameter sets are
    those :func:`_param_paths` keeps (at most PARAM_PATHS, no NaN)."""
    small = {}
    state, get_override, environ_size, env_quiet = dispatch.small_call_state()

    def keep(dtype, new, args, kwargs):
        key = dtype if not (args or kwargs) else (
            (dtype, args, *kwargs.items()) if kwargs else (dtype, args))
        if (held := small.get(key)) is not None and held[0] is state["thresholds"]:
            return
        table, n = dispatch.serial_below(family, dtype)
        values = (*args, *kwargs.values())
        small[key] = (table, _small_size(n, dtype, 1), new, values, tuple(map(type, values)),
                      not any(type(v) is float and v == 0 for v in values))

    def lookup(dtype, size, args, kwargs):
        try:
            s = small.get((dtype, args, *kwargs.items()) if kwargs else (dtype, args))
        except TypeError:  # an unhashable value (an array: bias=)
            return None
        if (s is None or s[0] is not state["thresholds"] or size >= s[1]
                or get_override() is not None or environ_size() != env_quiet[0]):
            return None
        given, kinds = (*args, *kwargs.values()) if kwargs else args, s[4]
        # the values' types, the first two written out (a loop or map(type, ...): ~0.3-0.5 us)
        if type(given[0]) is not kinds[0] or len(given) > 1 and (
                type(given[1]) is not kinds[1]
                or len(given) > 2 and tuple(map(type, given[2:])) != kinds[2:]):
            return None
        return s[2] if s[5] or all(map(_same_value, s[3], given)) else None

    return small, keep, lookup


def make_forward(spec):
    loop_for = _fast_path(spec, spec.name)[0] if _plain_fast_path(spec) else None
    route, paths = dispatch.router(spec.family), _param_paths(spec, "")

    name, ndarray, check = spec.name, np.ndarray, hardware.MEMORY_CHECK_BYTES
    small, keep_small, small_lookup = _small_calls(spec.family)
    state, get_override, environ_size, env_quiet = dispatch.small_call_state()

    def fn(x, *args, out=None, inplace=False, backend=None, stream=None, **kwargs):
        if type(x) is ndarray and backend is None and out is None and not inplace:
            if not (args or kwargs):
                if ((s := small.get(x.dtype)) is not None and s[0] is state["thresholds"]
                        and x.size < s[1] and x.ndim and x.flags.c_contiguous
                        and get_override() is None and environ_size() == env_quiet[0]):
                    return s[2](x)  # a plain call on a small array (see _small_calls)
            elif (x.ndim and x.flags.c_contiguous
                  and (new := small_lookup(x.dtype, x.size, args, kwargs)) is not None):
                return new(x)
        if ((pick := paths(args, kwargs) if args or kwargs else loop_for) is not None
                and type(x) is ndarray and x.ndim and x.flags.c_contiguous
                and (par := route(x.size, x.dtype, backend, inplace)) is not None
                and (entry := pick(x.dtype, par)) is not None):
            if inplace:
                if out is None and x.flags.writeable:
                    entry[2](x if x.ndim == 1 else x.reshape(-1), *entry[1])
                    return x
            elif out is None:
                if x.nbytes >= check:
                    hardware.check_fits(name, x.nbytes)
                res = entry[4](x)
                if not (par or backend):  # (new is built by now)
                    keep_small(x.dtype, pick(x.dtype, par)[4], args, kwargs)
                return res
            elif (res := _fast_out(name, entry[3], x, out, entry[1])) is not None:
                return res
        bias = kwargs.pop("bias", None)
        sampling = _sampling_args(spec, kwargs, ("generator", "noise"))
        params = bind(spec, spec.name, args, kwargs)
        return _calls.forward(spec, x, params, out, inplace, backend, stream, bias=bias,
                              **sampling)

    if _weight_fast_path(spec):  # an activation with a weight has no in-place form
        route, loops_for = _weight_fast(spec)
        weight = spec.weight_param.name

        def fn(x, *args, out=None, backend=None, stream=None, **kwargs):  # noqa: F811
            w = _float_weight(weight, args, kwargs)
            if (type(w) is float and type(x) is np.ndarray and x.ndim
                    and x.dtype in LOOP_DTYPES and x.flags.c_contiguous
                    and (par := route(x.size, x.dtype, backend)) is not None
                    and (res := _fast_out(spec.name, loops_for(x.dtype, par)[0 if out is None
                                                                           else 3],
                                          x, out, (x.dtype.type(w),))) is not None):
                return res
            bias = kwargs.pop("bias", None)
            params = bind(spec, spec.name, args, kwargs)
            return _calls.forward(spec, x, params, out, False, backend, stream, bias=bias)

    return fn


def make_grad(spec):
    fname = f"{spec.name}_grad"
    loop_for = _fast_path(spec, fname)[0] if _plain_fast_path(spec) else None
    route, paths = dispatch.router(spec.family), _param_paths(spec, "_grad")
    # result= with the default parameters (which every result_check accepts)
    result_loop_for = _fast_path(spec, f"{fname}_result")[0] if (
        loop_for is not None and spec.result_grad is not None) else None

    ndarray, check = np.ndarray, hardware.MEMORY_CHECK_BYTES
    small, keep_small, small_lookup = _small_calls(spec.family)
    state, get_override, environ_size, env_quiet = dispatch.small_call_state()

    def fn(grad_output, x=None, *args, result=None, out=None, inplace=False, backend=None,
           stream=None, **kwargs):
        if (type(x) is ndarray and type(grad_output) is ndarray and backend is None
                and out is None and result is None and not inplace):
            if not (args or kwargs):
                if ((s := small.get(x.dtype)) is not None and s[0] is state["thresholds"]
                        and x.size < s[1] and x.ndim and grad_output.dtype is x.dtype
                        and grad_output.shape == x.shape
                        and x.flags.c_contiguous and grad_output.flags.c_contiguous
                        and get_override() is None and environ_size() == env_quiet[0]):
                    return s[2](grad_output, x)  # see make_forward
            elif (x.ndim and grad_output.dtype is x.dtype and grad_output.shape == x.shape
                  and x.flags.c_contiguous and grad_output.flags.c_contiguous
                  and (new := small_lookup(x.dtype, x.size, args, kwargs)) is not None):
                return new(grad_output, x)
        pick, arr = (paths(args, kwargs) if args or kwargs else loop_for), x
        if result is not None:  # y takes x's place in the loop; both given: the general path
            pick, arr = ((result_loop_for, result) if x is None and not (args or kwargs)
                         else (None, None))
        if (pick is not None and type(arr) is ndarray and type(grad_output) is ndarray
                and arr.ndim and not inplace
                and arr.dtype == grad_output.dtype and arr.shape == grad_output.shape
                and arr.flags.c_contiguous and grad_output.flags.c_contiguous
                and (out is None or _plain_out(out, arr, arr, grad_output))
                and (par := route(arr.size, arr.dtype, backend)) is not None):
            entry = pick(arr.dtype, par)
            if entry is not None:
                if out is None:
                    if arr.nbytes >= check:
                        hardware.check_fits(fname, arr.nbytes)
                    res = entry[4](grad_output, arr)
                    if not (par or backend or result is not None):
                        keep_small(arr.dtype, pick(arr.dtype, par)[4], args, kwargs)
                    return res
                if arr.ndim == 1:
                    entry[3](grad_output, arr, out, *entry[1])
                else:
                    entry[3](grad_output.reshape(-1), arr.reshape(-1), out.reshape(-1),
                             *entry[1])
                return out
        bias = kwargs.pop("bias", None)
        sampling = _sampling_args(spec, kwargs, ("noise",))
        params = bind(spec, fname, args, kwargs)
        return _calls.grad(spec, grad_output, x, params, out, backend, result, inplace, stream,
                           bias=bias, **sampling)

    if _weight_fast_path(spec):
        fn = _weight_grad_fn(spec, fname)
    return fn


def _sampling_args(spec, kwargs, keys):
    """The keywords ``keys`` of an activation with a "random" parameter, taken out of
    ``kwargs``: ``generator`` (the forward's) and ``noise``."""
    if spec.random_param is None:
        return {}
    return {k: kwargs.pop(k) for k in keys if k in kwargs}


def _plain_fast_path(spec):
    """Whether a call with the array(s) alone runs the loops with the default parameters: every
    parameter has a default, and none is a weight (whose activation has the paths below)."""
    return not spec.has_weight and len(spec.defaults()) == len(spec.params)


def _weight_fast_path(spec):
    """Whether an activation's weight has the fast paths below: its only parameter is the
    weight (a float weight is then the loops' one scalar)."""
    return spec.has_weight and spec.params == (spec.weight_param,)


def _weight_fast(spec):
    """(route, loops_for(dtype, parallel) -> (forward, gradient, weight-gradient loop, forward
    into ``out=``)) for the fast paths of an activation with a weight: a float weight is one
    value for every channel, a scalar to the loops."""
    route = _fast_path(spec, spec.name)[1]
    loops = {}
    names = (spec.name, f"{spec.name}_grad", spec.weight_grad_kernel)
    scalars = (1, 1, 0)  # the weight is the forward's and gradient's scalar; none for its own

    def loops_for(dtype, par):
        if (dtype, par) not in loops:
            from .backends import cpu

            run = tuple(  # the serial loops' entry points (see _entry_point)
                _parallel_runner(n, k, dtype.itemsize) if par else
                _entry_point(getattr(cpu.loops(), n), 2 + (n != names[0]), dtype, dtype, k)
                for n, k in zip(names, scalars, strict=True))
            into = _parallel_runner(names[0], 1, dtype.itemsize, stream=True) if par else run[0]
            loops[dtype, par] = (*run, into)
        return loops[dtype, par]

    return route, loops_for


def _weight_grad_fn(spec, fname):
    """The gradient of an activation with a weight, with a fast path for a float weight on
    plain arrays: the gradient loop with that weight, and the weight's gradient summed from the
    per-element loop as the general path sums it."""
    route, loops_for = _weight_fast(spec)
    weight = spec.weight_param.name

    def fn(grad_output, x=None, *args, result=None, out=None, inplace=False, backend=None,
           stream=None, **kwargs):
        w = _float_weight(weight, args, kwargs)
        if (type(w) is float and type(x) is np.ndarray and type(grad_output) is np.ndarray
                and result is None and not inplace and x.ndim and x.dtype in LOOP_DTYPES
                and x.dtype == grad_output.dtype and x.shape == grad_output.shape
                and x.flags.c_contiguous and grad_output.flags.c_contiguous
                and _plain_out(out, x, x, grad_output)
                and (par := route(x.size, x.dtype, backend)) is not None):
            _, grad_loop, weight_loop, _ = loops_for(x.dtype, par)
            hardware.check_fits(fname, x.nbytes * (2 if out is None else 1))
            res = np.empty_like(x) if out is None else out
            contrib = np.empty_like(x)
            flat = ((grad_output, x, res, contrib) if x.ndim == 1 else
                    [a.reshape(-1) for a in (grad_output, x, res, contrib)])
            grad_loop(flat[0], flat[1], flat[2], x.dtype.type(w))
            weight_loop(flat[0], flat[1], flat[3])
            return res, x.dtype.type(weight_sum(contrib, x.dtype))
        bias = kwargs.pop("bias", None)
        params = bind(spec, fname, args, kwargs)
        return _calls.grad(spec, grad_output, x, params, out, backend, result, inplace, stream,
                           bias=bias)

    return fn


# -- the gated and axis-wise kinds: plain calls on small arrays ----------------------------------
#
# Their general paths (the split geometry, the axes, layouts, dtypes, the backend) cost 15-50 us a
# call, many times the kernel's time on a thousand elements. A plain call (C-contiguous float32 or
# float64 arrays of one dtype, the defaults: the split along the last axis, the reduction along it)
# that "auto" runs serially calls the serial loop's compiled entry point directly instead.


def _serial_loops(family, build):
    """``loops(dtype, size)``: ``build(dtype)`` (a gated or axis-wise activation's serial loops,
    built at the first call for that dtype) where "auto" runs a plain call of ``size`` elements
    of ``dtype`` serially, else None (the general path decides: another dtype, an override,
    FASTACT_BACKEND, a size for the parallel loop or above the memory check)."""
    state, get_override, environ_size, env_quiet = dispatch.small_call_state()
    built, small = {}, {}

    def loops(dtype, size):
        s = small.get(dtype)
        if s is None or s[0] is not state["thresholds"]:
            if dtype not in LOOP_DTYPES:
                return None
            table, n = dispatch.serial_below(family, dtype)
            if dtype not in built:
                built[dtype] = build(dtype)
            s = small[dtype] = (table, _small_size(n, dtype, 2), built[dtype])
        if (size < s[1] and get_override() is None
                and (environ_size() == env_quiet[0] or not dispatch.backend_env_set())):
            return s[2]
        return None

    return loops


def _plain_array(a):
    """Whether ``a`` is an ndarray a small call can run on as is: 1-D or more, C-contiguous."""
    return type(a) is np.ndarray and a.ndim and a.flags.c_contiguous


def _last_axis(axis, ndim):
    """Whether ``axis`` is a Python int naming the last of ``ndim`` axes."""
    return type(axis) is int and (axis == -1 or axis == ndim - 1)


def _no_small_call(*args):
    return None


def gated_small(spec):
    """(forward(x, up, axis), grad(grad_output, x, up, axis)) for the plain calls of gated
    activation ``spec`` with the default parameters: ``x`` split along its last axis (``up``
    None, or the axis as an int) or gate ``x`` and ``up`` of one shape, C-contiguous arrays of
    one float dtype, small enough for the serial loop; each returns None (nothing run) where
    the general path must decide."""
    if not _plain_fast_path(spec):
        return _no_small_call, _no_small_call
    kernel = spec.kernels(spec.defaults())[0]
    values = spec.scalars(spec.defaults())

    def build(name, arrays, ints):
        def loops(dtype):
            from .backends import cpu

            arr, scalar, intp = _numba_types(dtype)
            loop = _gated.fast_form(spec, name, dtype, cpu.FAST_FORMS)
            entry = _compiled(getattr(cpu.loops(), loop), *(arr,) * arrays, *(intp,) * ints,
                              *(scalar,) * len(values))
            return entry, tuple(dtype.type(v) for v in values)

        return loops

    forward_loops = _serial_loops(spec.family, build(kernel, 3, 5))
    grad_loops = _serial_loops(spec.family, build(f"{kernel}_grad", 5, 7))

    def form(x, up, axis):
        """(up, m: the split axis' length; 0 for the two-input form), or None."""
        if not _plain_array(x):
            return None
        if type(up) is int:  # the axis, as torch's dim
            if axis is not None:
                return None
            up, axis = None, up
        if up is None:
            m = x.shape[-1]
            return (None, m) if ((axis is None or _last_axis(axis, x.ndim))
                                 and m and not m & 1) else None
        if (axis is None and type(up) is np.ndarray and up.dtype is x.dtype
                and up.shape == x.shape and up.flags.c_contiguous and x.size):
            return up, 0
        return None

    def forward(x, up, axis):
        if (f := form(x, up, axis)) is None:
            return None
        up, m = f
        if up is None:
            if (run := forward_loops(x.dtype, x.size >> 1)) is None:
                return None
            n = m >> 1
            res = np.empty((*x.shape[:-1], n), x.dtype)
            flat = x.reshape(-1) if x.ndim != 1 else x
            run[0](flat, flat[n:], res.reshape(-1), x.size // m, n, m, m, n, *run[1])
            return res
        if (run := forward_loops(x.dtype, x.size)) is None:
            return None
        res = np.empty(x.shape, x.dtype)
        n = x.size
        run[0](x.reshape(-1), up.reshape(-1), res.reshape(-1), 1, n, n, n, n, *run[1])
        return res

    def grad(g, x, up, axis):
        if (not _plain_array(g) or (f := form(x, up, axis)) is None
                or g.dtype is not x.dtype):
            return None
        up, m = f
        if up is None:
            if (g.shape != (*x.shape[:-1], m >> 1)
                    or (run := grad_loops(x.dtype, x.size >> 1)) is None):
                return None
            n = m >> 1
            res = np.empty(x.shape, x.dtype)
            flat, fr = x.reshape(-1), res.reshape(-1)
            run[0](g.reshape(-1), flat, flat[n:], fr, fr[n:], x.size // m, n, n, m, m, m, m,
                   *run[1])
            return res
        if g.shape != x.shape or (run := grad_loops(x.dtype, x.size)) is None:
            return None
        ga, gb = np.empty(x.shape, x.dtype), np.empty(x.shape, x.dtype)
        n = x.size
        run[0](g.reshape(-1), x.reshape(-1), up.reshape(-1), ga.reshape(-1), gb.reshape(-1),
               1, n, n, n, n, n, n, *run[1])
        return ga, gb

    return forward, grad


def axis_small(spec):
    """(forward(x, axis), grad(grad_output, x, result, axis)) for the plain calls of axis-wise
    activation ``spec`` along the last axis (an int) of C-contiguous arrays of one float dtype
    (``x`` or ``result`` None where not given), small enough for the serial loop; each returns
    None (nothing run) where the general path must decide."""
    from numba import types

    reduction = spec.reduction

    def build(*names):
        def loops(dtype):
            from .backends import cpu

            arr, scalar, intp = _numba_types(dtype)
            tail = (intp,) * 5 + ((scalar, types.boolean) if reduction == "softmax" else ())
            entries = []
            for name in names:  # its arrays: the parameters before "lo"; no mask (None)
                loop = getattr(cpu.axis_loops(), name)
                params = list(inspect.signature(loop.py_func).parameters)
                entries.append(_compiled(loop, *(types.none if p == "mask" else arr
                                                 for p in params[:params.index("lo")]), *tail))
            return (*entries, _axis.loop_scalars(spec, dtype))

        return loops

    if reduction == "softmax":
        forward_loops = _serial_loops(spec.family, build("softmax"))
        grad_loops = _serial_loops(spec.family, build("softmax_grad_x", "softmax_grad"))
    elif reduction == "sparsemax":
        forward_loops = _serial_loops(spec.family, build("sparsemax"))
        grad_loops = _serial_loops(spec.family, build("sparsemax", "sparsemax_grad"))
    else:
        forward_loops = _serial_loops(spec.family, build("logsumexp"))
        grad_loops = _serial_loops(spec.family, build("logsumexp_grad"))

    def forward(x, axis):
        if (not _plain_array(x) or not _last_axis(axis, x.ndim) or not (L := x.shape[-1])
                or (run := forward_loops(x.dtype, x.size)) is None):
            return None
        rows = x.size // L
        f = x.reshape(-1) if x.ndim != 1 else x
        if spec.reduces:
            res = np.empty(x.shape[:-1], x.dtype)
            run[0](f, None, res.reshape(-1), 0, rows, L, 1, 1)
            return res if res.ndim else res[()]
        res = np.empty(x.shape, x.dtype)
        if reduction == "softmax":
            run[0](f, None, res.reshape(-1), 0, rows, L, 1, 1, *run[-1])
        else:
            run[0](f, res.reshape(-1), 0, rows, L, 1, 1)
        return res

    def grad(g, x, result, axis):
        full = x if x is not None else result
        if (not _plain_array(full) or not _last_axis(axis, full.ndim)
                or not (L := full.shape[-1])
                or (x is not None and result is not None and not spec.reduces)):
            return None
        for a in (g, x, result):
            if a is not None and (type(a) is not np.ndarray or a.dtype is not full.dtype
                                  or not a.flags.c_contiguous):
                return None
        if (run := grad_loops(full.dtype, full.size)) is None:
            return None
        if spec.reduces:
            if g.shape != full.shape[:-1] or x is None or (
                    result is not None and result.shape != g.shape):
                return None
            lse = result if result is not None else np.full(g.shape, np.nan, x.dtype)
        elif g.shape != full.shape:
            return None
        rows = full.size // L
        res = np.empty(full.shape, full.dtype)
        fg, fr = g.reshape(-1), res.reshape(-1)
        if spec.reduces:
            run[0](fg, x.reshape(-1), lse.reshape(-1), None, fr, 0, rows, L, 1, 1)
        elif reduction == "softmax":
            run[0 if x is not None else 1](fg, full.reshape(-1), None, fr, 0, rows, L, 1, 1,
                                           *run[-1])
        else:
            y = result
            if x is not None:  # the support from sparsemax(x)
                y = np.empty(x.shape, x.dtype)
                run[0](x.reshape(-1), y.reshape(-1), 0, rows, L, 1, 1)
            run[1](fg, y.reshape(-1), fr, 0, rows, L, 1, 1)
        return res

    return forward, grad

