"""Argument binding and checks for the public functions, made before anything is written.

:func:`bind` turns positional and keyword arguments into the activation's parameters, each checked
by the rule of its kind (:data:`CHECKS`); the array checks below are shared by the calls.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._dtypes import is_real
from .registry import REQUIRED, Activation


def as_array(x):
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def on_device(obj):
    """Whether obj is a CUDA device array (checked without importing numba.cuda)."""
    return obj is not None and not isinstance(obj, np.ndarray) and (
        hasattr(obj, "__cuda_array_interface__") or bool(getattr(obj, "__cuda_ndarray__", False)))


def common_order(arrays):
    """"C" or "F" if every array is contiguous in that order, else None (1-D and 0-d arrays are
    both)."""
    common = {"C", "F"}
    for a in arrays:
        own = {o for o, ok in (("C", a.flags.c_contiguous), ("F", a.flags.f_contiguous)) if ok}
        common &= own
    return "C" if "C" in common else ("F" if common else None)


def shares(a, *others):
    """Whether NumPy array ``a`` may share memory with any of ``others`` (None and non-arrays
    share nothing)."""
    return any(isinstance(o, np.ndarray) and np.may_share_memory(a, o) for o in others)


def deliver(res, out, result):
    """``res`` (computed in the computing dtype) as the call's result: copied into ``out`` where
    it was computed elsewhere, cast to the result dtype (float16); a NumPy scalar for 0-d."""
    if out is not None:
        if res is not out:
            np.copyto(out, res, casting="unsafe")
        return out
    res = res.astype(result, copy=False)
    return res if res.ndim else res[()]


def check_writeable(name, arr, what):
    if not arr.flags.writeable:
        raise ValueError(f"{name}: {what} is read-only")


def refuse_out_with_inplace(name, out):
    """A call with inplace=True writes its input: an out= beside it is refused."""
    if out is not None:
        raise ValueError(f"{name}: pass either out= or inplace=True, not both")


def check_inplace_x(name, x, out, result):
    """The checks of an element-wise forward with ``inplace=True``: no out= beside it, x a
    writeable NumPy array of the result's dtype."""
    refuse_out_with_inplace(name, out)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: inplace=True needs a NumPy array, got {type(x).__name__}")
    check_writeable(name, x, "x (inplace=True)")
    if result != x.dtype:
        raise TypeError(
            f"{name}: cannot work in place on a {x.dtype} array: the result is {result}; "
            f"convert x to {result} first or pass out="
        )


def check_out(name, out, shape, dtype, what="out", of="the result"):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name}: {what} must be a NumPy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"{name}: {what} has shape {out.shape}, but {of} has shape {shape}")
    if out.dtype != dtype:
        raise ValueError(f"{name}: {what} has dtype {out.dtype}, but {of} has dtype {dtype}")
    check_writeable(name, out, what)


def _check_real(spec, p, value):
    if isinstance(value, np.ndarray | np.generic) and value.ndim == 0 and value.dtype.kind != "b" \
            and is_real(value.dtype):
        value = float(value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{spec.name}: {p.name} must be a real number, got {type(value).__name__}")
    return float(value)


def _check_choice(spec, p, value):
    if value not in p.choices:
        raise ValueError(
            f"{spec.name}: {p.name} must be one of {', '.join(map(repr, p.choices))}, "
            f"got {value!r}"
        )
    return value


def _check_weight(spec, p, value):
    return value  # checked against x's shape by fastact._weight.channel_weight


def _check_random(spec, p, value):
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{spec.name}: {p.name} must be True or False, got {value!r}")
    return bool(value)


#: parameter kind -> check(activation, parameter, value) -> the value the call works with
CHECKS = {"real": _check_real, "choice": _check_choice, "weight": _check_weight,
          "random": _check_random}


def bind(spec: Activation, fname: str, args: tuple, kwargs: dict) -> dict:
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
        params[p.name] = CHECKS[p.kind](spec, p, value)
    if kwargs:
        raise TypeError(f"{fname}() got an unexpected keyword argument {next(iter(kwargs))!r}")
    if spec.check is not None:
        spec.check(params)
    return params
