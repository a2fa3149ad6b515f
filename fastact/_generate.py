"""The public functions generated from the registry: names, signatures and docstrings."""

from __future__ import annotations

import inspect

from . import _axis, _gated
from ._binding import bind
from ._fastpath import axis_small, gated_small, make_forward, make_grad
from .registry import ACTIVATIONS, AXISWISE, GATED, REQUIRED

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
    if grad_fn or not spec.has_weight:  # a weight's activation has no in-place forward
        ps.append(_P("inplace", _P.KEYWORD_ONLY, default=False))
    if spec.random_param is not None:
        if not grad_fn:
            ps.append(_P("generator", _P.KEYWORD_ONLY, default=None))
        ps.append(_P("noise", _P.KEYWORD_ONLY, default=None))
    ps.append(_P("backend", _P.KEYWORD_ONLY, default=None))
    ps.append(_P("bias", _P.KEYWORD_ONLY, default=None))
    ps.append(_P("stream", _P.KEYWORD_ONLY, default=None))
    return inspect.Signature(ps)


def _param_type(p):
    if p.choices:
        return "one of " + ", ".join(map(repr, p.choices))
    return "bool" if p.kind == "random" else "float"


def _sampling_doc(spec, grad_fn):
    """The docstring's lines for ``generator=`` and ``noise=`` (an activation with a "random"
    parameter)."""
    p = spec.random_param
    if p is None:
        return ""
    if grad_fn:
        return (f"noise : ndarray, optional\n    With {p.name}=True (required then): the "
                f"multipliers {spec.name}(..., {p.name}=True, noise=...) drew; the gradient is "
                "grad_output * noise.\n")
    return (f"generator : numpy.random.Generator, int or None, optional\n    With {p.name}=True: "
            "where the samples come from (as numpy.random.default_rng(generator)).\n"
            f"noise : ndarray, optional\n    With {p.name}=True: receives each element's "
            "multiplier (x's shape, in the computing dtype: float32 for float16 input), to pass "
            f"to {spec.name}_grad.\n")


def _accuracy(spec):
    if spec.accuracy_ulp == 0:
        return "exact (bit-equal to the correctly rounded result)"
    return f"within {spec.accuracy_ulp} ULP of the exact value in float32 (float64: 16 ULP)"


def _docstring(spec, grad_fn):
    params = "\n".join(
        f"{p.name} : {_param_type(p)}"
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
        if spec.has_weight:
            w = spec.weight_param.name
            head += f"\nReturns ``(grad_input, grad_{w})``; grad_{w} has {w}'s shape.\n"
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
           if grad_fn else "" if spec.has_weight else
           "inplace : bool, default False\n    Write the result into x and return x.\n")
        + (("bias : array_like, optional\n    The forward's bias: the gradient is that of "
            "f(x + bias) (with result=, of the output f(x + bias)). Returns ``(grad_input, "
            "grad_bias)`` then, grad_bias of bias's shape: grad_input summed over the axes bias "
            "was broadcast along, in float64 with compensation, in the same pass.\n") if grad_fn
           else ("bias : array_like, optional\n    Added to x first, broadcast to x's shape "
                 "(a vector over the last axis, (C, 1, 1) per channel, a scalar): f(x + bias) "
                 "in one pass, bit-identical to the two steps.\n"))
        + _sampling_doc(spec, grad_fn)
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


# -- the gated kind: f(x, axis=-1) or f(gate, up) -------------------------------------------


def _gated_signature(spec, grad_fn):
    ps = [_P("grad_output", _P.POSITIONAL_OR_KEYWORD)] if grad_fn else []
    ps += [_P("x", _P.POSITIONAL_OR_KEYWORD), _P("up", _P.POSITIONAL_OR_KEYWORD, default=None),
           _P("axis", _P.KEYWORD_ONLY, default=-1)]
    ps += [_P(p.name, _P.KEYWORD_ONLY, default=p.default) for p in spec.params]
    ps += [_P(k, _P.KEYWORD_ONLY, default=d) for k, d in
           (("out", None), ("inplace", False), ("backend", None), ("bias", None),
            ("stream", None))]
    return inspect.Signature(ps)


def _gated_docstring(spec, grad_fn):
    params = "".join(f"{p.name} : {_param_type(p)}, default {p.default!r}\n" for p in spec.params)
    forms = ("x : array_like\n    Split form: the first half of x along ``axis`` is the gate, "
             "the second half the up input.\nup : array_like or int, optional\n    Two-input "
             "form: x is the gate and ``up`` the up input (broadcast together). An integer is "
             "the axis, as torch's ``dim``.\naxis : int, default -1\n    The axis the split "
             "form halves (its length must be even).\n")
    common = ("backend : {'auto', 'cpu', 'parallel', 'cuda'}, optional\n    Overrides "
              "use_backend() and FASTACT_BACKEND (see fastact.explain).\nbias : array_like, "
              "optional\n    Split form only: added to x first, broadcast to x's shape (a "
              "linear layer's bias over the last axis): f(x + bias) in one pass, bit-identical "
              "to the two steps; the gradient then returns ``(grad_x, grad_bias)``, grad_bias "
              "of bias's shape summed in float64 with compensation.\nstream : CUDA stream, "
              "optional\n    For device arrays: the stream to run on.\n")
    if grad_fn:
        head = (f"Gradient of {spec.name} in one pass: both partial derivatives.\n\n"
                f".. math::\n\n    \\partial_a f,\\ \\partial_b f = {spec.derivative}\n\n"
                "Returns grad_x (x's shape) for the split form, ``(grad_gate, grad_up)`` for the "
                "two-input form (each summed over the axes its input was broadcast along).\n")
        args = ("grad_output : array_like\n    The gradient of the result (broadcast to its "
                "shape).\n" + forms)
        options = ("out : ndarray or (ndarray, ndarray), optional\n    grad_x's array (split "
                   "form), or the pair (two-input form); returned.\ninplace : bool, default "
                   "False\n    Write the gradients into the inputs' memory (x, or gate and up) "
                   "and return it.\n")
        example = ""
    else:
        head = (f"{spec.summary}\n\n.. math::\n\n    f(a, b) = {spec.formula}\n\n"
                f"Convention: {spec.kinks}. Accuracy: {_accuracy(spec)}.\n")
        args = forms
        options = ("out : ndarray, optional\n    Result array of the result's shape and dtype; "
                   "returned.\ninplace : bool, default False\n    Write the result into the "
                   "gate's memory (the gate half of x, or gate) and return that array.\n")
        example = f"\nExamples\n--------\n>>> import fastact\n{spec.example}\n"
    return f"{head}\nParameters\n----------\n{args}{params}{options}{common}{example}"


def _gated_functions(spec):
    small_forward, small_grad = gated_small(spec)

    def forward(x, up=None, *, axis=None, out=None, inplace=False, backend=None, bias=None,
                stream=None, **kwargs):
        if (out is None and backend is None and bias is None and stream is None
                and not (kwargs or inplace) and (res := small_forward(x, up, axis)) is not None):
            return res  # a plain call on small arrays (see fastact._fastpath.gated_small)
        params = bind(spec, spec.name, (), kwargs)
        return _gated.forward(spec, x, up, axis, params, out, inplace, backend, stream, bias)

    def grad(grad_output, x, up=None, *, axis=None, out=None, inplace=False, backend=None,
             bias=None, stream=None, **kwargs):
        if (out is None and backend is None and bias is None and stream is None
                and not (kwargs or inplace)
                and (res := small_grad(grad_output, x, up, axis)) is not None):
            return res
        params = bind(spec, f"{spec.name}_grad", (), kwargs)
        return _gated.grad(spec, grad_output, x, up, axis, params, out, inplace, backend,
                           stream, bias)

    return forward, grad


# -- the axis-wise kind: a reduction along an axis ----------------------------------------------


def _axis_signature(spec, grad_fn):
    ps = [_P("grad_output", _P.POSITIONAL_OR_KEYWORD)] if grad_fn else []
    ps.append(_P("x", _P.POSITIONAL_OR_KEYWORD,
                 default=None if grad_fn and not spec.reduces else _P.empty))
    ps.append(_P("axis", _P.POSITIONAL_OR_KEYWORD, default=-1))
    if spec.reduces:
        ps.append(_P("keepdims", _P.POSITIONAL_OR_KEYWORD, default=False))
    if grad_fn:
        ps.append(_P("result", _P.KEYWORD_ONLY, default=None))
    if spec.masks:
        ps.append(_P("where", _P.KEYWORD_ONLY, default=None))
    ps.append(_P("out", _P.KEYWORD_ONLY, default=None))
    if grad_fn and not spec.reduces:
        ps.append(_P("inplace", _P.KEYWORD_ONLY, default=False))
    ps += [_P(k, _P.KEYWORD_ONLY, default=None) for k in ("backend", "stream")]
    return inspect.Signature(ps)


def _axis_docstring(spec, grad_fn):
    axis = ("axis : int, tuple of int or None, default -1\n    The axis (or axes) reduced; None: "
            "the whole array.\n")
    keep = ("keepdims : bool, default False\n    Keep the reduced axes with length 1.\n"
            if spec.reduces else "")
    where = ("where : array_like of bool, optional\n    Broadcast to x's shape: False elements "
             "are left out of the reduction" + ("" if spec.reduces else
                                                " and give -inf" if spec.log else
                                                " and give 0") + " (as JAX's where=).\n"
             if spec.masks else "")
    common = ("backend : {'auto', 'cpu', 'parallel', 'cuda'}, optional\n    Overrides "
              "use_backend() and FASTACT_BACKEND (see fastact.explain).\nstream : CUDA stream, "
              "optional\n    For device arrays: the stream to run on.\n")
    if grad_fn:
        head = (f"Gradient of {spec.name} in one pass over each row.\n\n"
                f".. math::\n\n    \\bar x_i = {spec.derivative}\n\n"
                f"From the output (``result=y``):\n\n.. math::\n\n    \\bar x_i = "
                f"{spec.result_derivative}\n")
        args = ("grad_output : array_like\n    The gradient of the result (broadcast to its "
                "shape).\n" + ("x : array_like\n    The forward's input.\n" if spec.reduces else
                               "x : array_like, optional\n    The forward's input; or give "
                               "result= instead.\n") + axis + keep)
        options = (("result : array_like, optional\n    The forward's output"
                    + (" (with x: skips the reduction).\n" if spec.reduces else
                       " instead of x.\n")) + where
                   + "out : ndarray, optional\n    grad_x's array; returned.\n"
                   + ("" if spec.reduces else "inplace : bool, default False\n    Write "
                      "grad_x into grad_output and return it.\n"))
        example = ""
    else:
        head = (f"{spec.summary}\n\n.. math::\n\n    f(x)_i = {spec.formula}\n\n"
                f"Convention: {spec.kinks}.\n")
        args = "x : array_like\n" + axis + keep
        options = where + ("out : ndarray, optional\n    Result array of the result's shape and "
                           "dtype; returned.\n")
        example = f"\nExamples\n--------\n>>> import fastact\n{spec.example}\n"
    return f"{head}\nParameters\n----------\n{args}{options}{common}{example}"


def _axis_functions(spec):
    small_forward, small_grad = axis_small(spec)

    def forward(x, axis=-1, keepdims=False, *, where=None, out=None, backend=None, stream=None):
        if (keepdims is False and where is None and out is None and backend is None
                and stream is None and (res := small_forward(x, axis)) is not None):
            return res  # a plain call on small arrays (see fastact._fastpath.axis_small)
        return _axis.forward(spec, x, axis, keepdims, where, out, backend, stream)

    def grad(grad_output, x=None, axis=-1, keepdims=False, *, result=None, where=None, out=None,
             inplace=False, backend=None, stream=None):
        if (keepdims is False and where is None and out is None and not inplace
                and backend is None and stream is None
                and (res := small_grad(grad_output, x, result, axis)) is not None):
            return res
        return _axis.grad(spec, grad_output, x, axis, keepdims, where, result, out, inplace,
                          backend, stream)

    return forward, grad


# -- every kind ------------------------------------------------------------------------------


#: kind -> (signature, docstring) builders; the element-wise kind's are the default
_BUILDERS = {GATED: (_gated_signature, _gated_docstring),
             AXISWISE: (_axis_signature, _axis_docstring)}


def _finish(fn, spec, fname, grad_fn):
    signature, docstring = _BUILDERS.get(spec.kind, (_signature, _docstring))
    fn.__name__ = fn.__qualname__ = fname
    fn.__module__ = "fastact"
    fn.__signature__ = signature(spec, grad_fn)
    fn.__doc__ = docstring(spec, grad_fn)
    return fn


def public_functions() -> dict:
    """name -> function, for every activation and its gradient."""
    fns = {}
    for spec in ACTIVATIONS.values():
        if spec.kind == GATED:
            forward, grad = _gated_functions(spec)
        elif spec.kind == AXISWISE:
            forward, grad = _axis_functions(spec)
        else:
            forward, grad = make_forward(spec), make_grad(spec)
        fns[spec.name] = _finish(forward, spec, spec.name, grad_fn=False)
        fns[f"{spec.name}_grad"] = _finish(grad, spec, f"{spec.name}_grad", grad_fn=True)
    return fns
