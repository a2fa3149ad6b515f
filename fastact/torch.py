"""fastact's kernels as PyTorch autograd functions and modules (CPU tensors, no copies).

Needs PyTorch (optional; this module is only imported when used). Every activation in
:data:`fastact.ACTIVATIONS` has

- ``fastact.torch.<name>(x, *params)``: forward through a ``torch.autograd.Function`` whose
  backward is fastact's fused ``<name>_grad`` (prelu: a learnable ``weight`` tensor, whose gradient
  comes from ``prelu_grad``'s ``grad_weight``);
- ``fastact.torch.Activation(name, **params)``: the same as an ``nn.Module``.

Tensors are shared with NumPy (``Tensor.numpy()`` / ``torch.from_numpy``): no copy in or out.
CPU tensors of float16/float32/float64 only; a CUDA tensor raises (this version has no GPU
backend), as does bfloat16 (NumPy has no such dtype).

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

from .registry import ACTIVATIONS

__all__ = ["Activation", "functions", *ACTIVATIONS]


def _array(t: torch.Tensor, what: str, name: str) -> np.ndarray:
    if t.device.type != "cpu":
        raise ValueError(f"fastact.torch.{name}: {what} is on {t.device}; this version of "
                         "fastact computes CPU tensors only")
    if t.dtype not in (torch.float16, torch.float32, torch.float64):
        raise TypeError(f"fastact.torch.{name}: {what} has dtype {t.dtype}; fastact computes "
                        "float16, float32 and float64")
    return t.detach().numpy()


def _make_function(name: str):
    forward_fn = getattr(fastact, name)
    grad_fn = getattr(fastact, f"{name}_grad")

    class Fn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, *params):
            ctx.save_for_backward(x)
            ctx.params = params
            return torch.from_numpy(np.asarray(forward_fn(_array(x, "x", name), *params)))

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            g = grad_fn(_array(grad_output, "grad_output", name), _array(x, "x", name),
                        *ctx.params)
            return (torch.from_numpy(np.asarray(g)), *([None] * len(ctx.params)))

    Fn.__name__ = Fn.__qualname__ = f"{name.title().replace('_', '')}Function"
    return Fn


class PReLUFunction(torch.autograd.Function):
    """prelu with a learnable weight: d/dweight from ``prelu_grad``'s ``grad_weight``."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        w = _array(weight, "weight", "prelu")
        return torch.from_numpy(np.asarray(fastact.prelu(_array(x, "x", "prelu"), w)))

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        gi, gw = fastact.prelu_grad(_array(grad_output, "grad_output", "prelu"),
                                    _array(x, "x", "prelu"), _array(weight, "weight", "prelu"))
        gw = torch.as_tensor(np.asarray(gw)).reshape(weight.shape)
        return torch.from_numpy(np.asarray(gi)), gw


#: name -> torch.autograd.Function subclass
functions = {name: (PReLUFunction if name == "prelu" else _make_function(name))
             for name in ACTIVATIONS}


def _functional(name):
    fn = functions[name]
    spec = ACTIVATIONS[name]

    def apply(x, *args, **kwargs):
        params = fastact._api._bind(spec, name, args, dict(kwargs))
        if name == "prelu":
            return fn.apply(x, torch.as_tensor(params["weight"], dtype=x.dtype))
        return fn.apply(x, *params.values())

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"fastact's {name} with autograd (see fastact.{name}; CPU tensors)."
    return apply


globals().update({name: _functional(name) for name in ACTIVATIONS})


class Activation(torch.nn.Module):
    """An activation as an ``nn.Module``: ``Activation("gelu", approximate="tanh")``.

    ``Activation("prelu", num_parameters=C, init=0.25)`` holds a learnable weight, as
    ``torch.nn.PReLU``.
    """

    def __init__(self, name: str, num_parameters: int = 1, init: float = 0.25, **params):
        super().__init__()
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
        self.name = name
        if name == "prelu":
            self.weight = torch.nn.Parameter(torch.full((num_parameters,), float(init)))
            self.params = {}
        else:
            self.params = fastact._api._bind(ACTIVATIONS[name], name, (), dict(params))

    def forward(self, x):
        if self.name == "prelu":
            w = self.weight if self.weight.dtype == x.dtype else self.weight.to(x.dtype)
            return PReLUFunction.apply(x, w)
        return functions[self.name].apply(x, *self.params.values())

    def extra_repr(self):
        return ", ".join([repr(self.name)] + [f"{k}={v!r}" for k, v in self.params.items()])
