"""fastact's kernels as PyTorch autograd functions and modules (CPU tensors, no copies).

Needs PyTorch (optional; this module is only imported when used). Every activation in
:data:`fastact.ACTIVATIONS` has

- ``fastact.torch.<name>(x, *params)``: forward through a ``torch.autograd.Function`` whose
  backward is fastact's fused ``<name>_grad`` (prelu: a learnable ``weight`` tensor, whose gradient
  comes from ``prelu_grad``'s ``grad_weight``);
- ``fastact.torch.Activation(name, **params)``: the same as an ``nn.Module``.

Tensors are shared with NumPy (``Tensor.numpy()`` / ``torch.from_numpy``): no copy in or out.
CPU tensors of float16/float32/float64, and bfloat16 (seen by NumPy as ml_dtypes.bfloat16, the
same bits: needs ``fastact[bf16]``); a CUDA tensor raises (this version has no GPU backend).

>>> import torch, fastact.torch as ft                      # doctest: +SKIP
>>> x = torch.randn(1000, dtype=torch.float64, requires_grad=True)
>>> ft.gelu(x).sum().backward()                            # x.grad = gelu'(x)
>>> torch.autograd.gradcheck(ft.gelu, (x,))
True
"""

from __future__ import annotations

import numpy as np
import torch

import fastact

from ._binding import bind
from ._dtypes import dtypes, is_bf16
from ._split import form
from .registry import ACTIVATIONS, AXISWISE, GATED

__all__ = ["Activation", "functions", *ACTIVATIONS]


def _array(t: torch.Tensor, what: str, name: str) -> np.ndarray:
    if t.device.type != "cpu":
        raise ValueError(f"fastact.torch.{name}: {what} is on {t.device}; this version of "
                         "fastact computes CPU tensors only")
    if t.dtype == torch.bfloat16:  # NumPy holds it as ml_dtypes.bfloat16: the same bits
        return t.detach().view(torch.int16).numpy().view(_bfloat16(name))
    if t.dtype not in (torch.float16, torch.float32, torch.float64):
        raise TypeError(f"fastact.torch.{name}: {what} has dtype {t.dtype}; fastact computes "
                        "float16, float32, float64 and bfloat16")
    return t.detach().numpy()


def _bfloat16(name):
    try:
        import ml_dtypes
    except ImportError:
        raise TypeError(f"fastact.torch.{name}: bfloat16 tensors need ml_dtypes (pip install "
                        "'fastact[bf16]')") from None
    return ml_dtypes.bfloat16


def _tensor(a) -> torch.Tensor:
    """A result as a tensor sharing its memory (a NumPy scalar as a 0-d tensor)."""
    a = np.asarray(a)
    if is_bf16(a.dtype):
        return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(a)


def _make_function(name: str):
    forward_fn = getattr(fastact, name)
    grad_fn = getattr(fastact, f"{name}_grad")
    spec = ACTIVATIONS[name]
    # a "random" parameter (rrelu's training): when set, the forward keeps the multipliers it
    # drew for the backward (torch's rrelu_with_noise)
    sampled_at = spec.params.index(spec.random_param) if spec.random_param else None

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, *params):
            xa = _array(x, "x", name)
            kw = {}
            if sampled_at is not None and params[sampled_at]:
                compute = dtypes(name, xa.dtype, spec.keeps_integers)[0]
                kw["noise"] = np.empty(xa.shape, compute)
            ctx.save_for_backward(x)
            ctx.params = params
            ctx.noise = kw
            return _tensor(forward_fn(xa, *params, **kw))

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            g = grad_fn(_array(grad_output, "grad_output", name), _array(x, "x", name),
                        *ctx.params, **ctx.noise)
            return (_tensor(g), *([None] * len(ctx.params)))

    Fn.__name__ = Fn.__qualname__ = f"{name.title().replace('_', '')}Function"
    return Fn


def _make_weight_function(name: str, weight: str):
    """The Function of an activation whose only parameter is a learnable weight tensor: its
    gradient is the second result of fastact's ``<name>_grad``."""
    forward_fn = getattr(fastact, name)
    grad_fn = getattr(fastact, f"{name}_grad")

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            y = forward_fn(_array(x, "x", name), **{weight: _array(w, weight, name)})
            return _tensor(y)

        @staticmethod
        def backward(ctx, grad_output):
            x, w = ctx.saved_tensors
            gi, gw = grad_fn(_array(grad_output, "grad_output", name), _array(x, "x", name),
                             **{weight: _array(w, weight, name)})
            gw = _tensor(gw).reshape(w.shape)
            return _tensor(gi), gw

    Fn.__name__ = Fn.__qualname__ = f"{name.title().replace('_', '')}Function"
    return Fn


def _make_gated_function(name: str):
    """The Function of a gated activation: ``apply(x, up, axis, params)`` with ``up`` None (the
    split form: the gradient is grad_x) or a tensor (the two-input form: grad_gate, grad_up,
    each reduced to its input's shape by fastact)."""
    forward_fn = getattr(fastact, name)
    grad_fn = getattr(fastact, f"{name}_grad")

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, up, axis, params):
            xa = _array(x, "x", name)
            ua = None if up is None else _array(up, "up", name)
            ctx.save_for_backward(x, up) if up is not None else ctx.save_for_backward(x)
            ctx.axis, ctx.params, ctx.pair = axis, params, up is not None
            return _tensor(forward_fn(xa, ua, axis=axis, **params))

        @staticmethod
        def backward(ctx, grad_output):
            g = _array(grad_output, "grad_output", name)
            if ctx.pair:
                x, up = ctx.saved_tensors
                ga, gb = grad_fn(g, _array(x, "x", name), _array(up, "up", name), **ctx.params)
                return (_tensor(ga), _tensor(gb),
                        None, None)
            (x,) = ctx.saved_tensors
            gx = grad_fn(g, _array(x, "x", name), axis=ctx.axis, **ctx.params)
            return _tensor(gx), None, None, None

    Fn.__name__ = Fn.__qualname__ = f"{name.title().replace('_', '')}Function"
    return Fn


def _make_axis_function(name: str, reduces: bool):
    """The Function of an axis-wise activation: ``apply(x, axis, keepdims)``. The backward
    runs from the saved output (softmax's ``_softmax_backward_data``; logsumexp's needs x too),
    so x is kept only where it is needed."""
    forward_fn = getattr(fastact, name)
    grad_fn = getattr(fastact, f"{name}_grad")

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, axis, keepdims):
            xa = _array(x, "x", name)
            y = _tensor(
                forward_fn(xa, axis, keepdims) if reduces else forward_fn(xa, axis))
            ctx.save_for_backward(x, y) if reduces else ctx.save_for_backward(y)
            ctx.axis, ctx.keepdims = axis, keepdims
            return y

        @staticmethod
        def backward(ctx, grad_output):
            g = _array(grad_output, "grad_output", name)
            if reduces:  # a float16/bfloat16 logsumexp is too coarse for exp(x - lse): from x
                x, y = ctx.saved_tensors
                exact = y.dtype in (torch.float32, torch.float64)
                gx = grad_fn(g, _array(x, "x", name), ctx.axis, ctx.keepdims,
                             result=_array(y, "result", name) if exact else None)
            else:
                (y,) = ctx.saved_tensors
                gx = grad_fn(g, axis=ctx.axis, result=_array(y, "result", name))
            return _tensor(gx), None, None

    Fn.__name__ = Fn.__qualname__ = f"{name.title().replace('_', '')}Function"
    return Fn


def _function_of(name, spec):
    if spec.kind == GATED:
        return _make_gated_function(name)
    if spec.kind == AXISWISE:
        return _make_axis_function(name, spec.reduces)
    if spec.has_weight:
        return _make_weight_function(name, spec.weight_param.name)
    return _make_function(name)


#: name -> torch.autograd.Function subclass
functions = {name: _function_of(name, spec) for name, spec in ACTIVATIONS.items()}


def _gated_functional(name):
    fn = functions[name]
    spec = ACTIVATIONS[name]

    def apply(x, up=None, *, axis=None, **kwargs):
        params = bind(spec, name, (), dict(kwargs))
        up, axis = form(name, up, axis)  # an integer second argument is the axis (dim)
        return fn.apply(x, up, axis, params)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = (f"fastact's {name} with autograd: {name}(x, axis=-1) on the halves of x, or "
                     f"{name}(gate, up) (see fastact.{name}; CPU tensors).")
    return apply


def _axis_functional(name):
    fn = functions[name]
    reduces = ACTIVATIONS[name].reduces

    def apply(x, axis=-1, keepdims=False):
        if keepdims and not reduces:
            raise TypeError(f"{name}() got an unexpected argument keepdims")
        return fn.apply(x, axis, keepdims)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = (f"fastact's {name} with autograd along axis (torch's dim; see "
                     f"fastact.{name}; CPU tensors).")
    return apply


def _functional(name):
    fn = functions[name]
    spec = ACTIVATIONS[name]
    if spec.kind == GATED:
        return _gated_functional(name)
    if spec.kind == AXISWISE:
        return _axis_functional(name)

    def apply(x, *args, **kwargs):
        params = bind(spec, name, args, dict(kwargs))
        if spec.has_weight:
            return fn.apply(x, torch.as_tensor(params[spec.weight_param.name], dtype=x.dtype))
        return fn.apply(x, *params.values())

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"fastact's {name} with autograd (see fastact.{name}; CPU tensors)."
    return apply


globals().update({name: _functional(name) for name in ACTIVATIONS})


class Activation(torch.nn.Module):
    """An activation as an ``nn.Module``: ``Activation("gelu", approximate="tanh")``.

    ``Activation("prelu", num_parameters=C, init=0.25)`` holds a learnable weight, as
    ``torch.nn.PReLU`` (any activation with a "weight" parameter: a learnable tensor of that
    name). An activation with a "random" parameter (rrelu's ``training``) takes it from the
    module's mode, as ``torch.nn.RReLU``: sampled after ``train()``, deterministic after
    ``eval()``. A gated activation (``Activation("swiglu", axis=-1)``) takes x (its halves along
    ``axis``) or ``(gate, up)``, as ``torch.nn.GLU(dim)`` does the former; an axis-wise one
    (``Activation("softmax", axis=1)``) reduces along ``axis``, as ``torch.nn.Softmax(dim)``.
    """

    def __init__(self, name: str, num_parameters: int = 1, init: float = 0.25, axis: int = -1,
                 **params):
        super().__init__()
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
        self.name = name
        spec = ACTIVATIONS[name]
        self._gated = spec.kind == GATED
        self._axiswise = spec.kind == AXISWISE
        self.axis = axis
        self._weight = spec.weight_param.name if spec.has_weight else None
        self._sampled = spec.random_param.name if spec.random_param else None
        if self._weight is not None:
            self.register_parameter(
                self._weight, torch.nn.Parameter(torch.full((num_parameters,), float(init))))
            self.params = {}
        else:
            self.params = bind(spec, name, (), dict(params))

    def forward(self, x, up=None):
        if self._axiswise:
            return functions[self.name].apply(x, self.axis, False)
        if self._gated:  # the split form of x along self.axis, or gate and up
            return functions[self.name].apply(x, up, self.axis, self.params)
        if self._weight is not None:
            w = getattr(self, self._weight)
            return functions[self.name].apply(x, w if w.dtype == x.dtype else w.to(x.dtype))
        params = self.params
        if self._sampled is not None:  # follows train() / eval(), as torch.nn.RReLU
            params = {**params, self._sampled: self.training}
        return functions[self.name].apply(x, *params.values())

    def extra_repr(self):
        axis = [f"axis={self.axis}"] if self._gated or self._axiswise else []
        return ", ".join([repr(self.name)] + axis
                         + [f"{k}={v!r}" for k, v in self.params.items()])
