"""What a user would otherwise run, per activation: the NumPy formula, PyTorch, JAX, numexpr.

Each table maps a kernel variant (the registry's names, plus ``gelu_tanh``) to callables. Every
peer is optional except NumPy: a peer whose package is not installed simply has no rows. All take
the benchmark's default parameters (prelu: a scalar weight of 0.25).
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np

SLOPE, ALPHA, PRELU_W = 0.01, 1.0, 0.25
SELU_A, SELU_L = 1.6732632423543772, 1.0507009873554805
BETA, KAPPA = math.sqrt(2 / math.pi), 0.044715


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# -- NumPy: the formula a NumPy user would write -----------------------------------------------


def _erf():
    if installed("scipy"):
        from scipy.special import erf

        return erf
    return None


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _numpy_table():
    erf = _erf()
    f = {
        "relu": lambda x: np.maximum(x, 0),
        "relu6": lambda x: np.clip(x, 0, 6),
        "leaky_relu": lambda x: np.where(x > 0, x, x * SLOPE),
        "prelu": lambda x: np.where(x > 0, x, x * PRELU_W),
        "hardtanh": lambda x: np.clip(x, -1, 1),
        "elu": lambda x: np.where(x > 0, x, ALPHA * np.expm1(x)),
        "celu": lambda x: np.where(x > 0, x, ALPHA * np.expm1(x / ALPHA)),
        "selu": lambda x: SELU_L * np.where(x > 0, x, SELU_A * np.expm1(x)),
        "sigmoid": _sig,
        "logsigmoid": lambda x: -np.logaddexp(0, -x),
        "tanh": np.tanh,
        "softsign": lambda x: x / (1 + np.abs(x)),
        "softplus": lambda x: np.logaddexp(0, x),
        "silu": lambda x: x * _sig(x),
        "swish": lambda x: x * _sig(x),
        "mish": lambda x: x * np.tanh(np.logaddexp(0, x)),
        "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(BETA * (x + KAPPA * x**3))),
        "hardsigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
        "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    }
    b = {
        "relu": lambda g, x: g * (x > 0),
        "relu6": lambda g, x: g * ((x > 0) & (x < 6)),
        "leaky_relu": lambda g, x: np.where(x > 0, g, g * SLOPE),
        "prelu": lambda g, x: np.where(x > 0, g, g * PRELU_W),
        "hardtanh": lambda g, x: g * ((x > -1) & (x < 1)),
        "elu": lambda g, x: np.where(x > 0, g, g * ALPHA * np.exp(x)),
        "celu": lambda g, x: np.where(x > 0, g, g * np.exp(x / ALPHA)),
        "selu": lambda g, x: g * SELU_L * np.where(x > 0, 1, SELU_A * np.exp(x)),
        "sigmoid": lambda g, x: g * _sig(x) * _sig(-x),
        "logsigmoid": lambda g, x: g * _sig(-x),
        "tanh": lambda g, x: g * (1 - np.tanh(x) ** 2),
        "softsign": lambda g, x: g / (1 + np.abs(x)) ** 2,
        "softplus": lambda g, x: g * _sig(x),
        "silu": lambda g, x: g * _sig(x) * (1 + x * _sig(-x)),
        "swish": lambda g, x: g * _sig(x) * (1 + x * _sig(-x)),
        "mish": _numpy_mish_grad,
        "gelu_tanh": _numpy_gelu_tanh_grad,
        "hardsigmoid": lambda g, x: g * ((x > -3) & (x < 3)) / 6,
        "hardswish": lambda g, x: np.where(x <= -3, 0, np.where(x < 3, g * (x / 3 + 0.5), g)),
    }
    if erf is not None:
        f["gelu"] = lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2)))
        b["gelu"] = lambda g, x: g * (
            0.5 * (1 + erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        )
    out = {  # single-ufunc formulas that can write into out=
        "relu": lambda x, o: np.maximum(x, 0, out=o),
        "relu6": lambda x, o: np.clip(x, 0, 6, out=o),
        "hardtanh": lambda x, o: np.clip(x, -1, 1, out=o),
        "tanh": lambda x, o: np.tanh(x, out=o),
    }
    inplace = {"relu": lambda x: np.maximum(x, 0, out=x), "tanh": lambda x: np.tanh(x, out=x)}
    return f, b, out, inplace


def _numpy_mish_grad(g, x):
    t = np.tanh(np.logaddexp(0, x))
    return g * (t + x * _sig(x) * (1 - t * t))


def _numpy_gelu_tanh_grad(g, x):
    t = np.tanh(BETA * (x + KAPPA * x**3))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * BETA * (1 + 3 * KAPPA * x * x))


NUMPY_FORWARD, NUMPY_BACKWARD, NUMPY_OUT, NUMPY_INPLACE = _numpy_table()


# -- PyTorch: torch.nn.functional and the aten backward ops ------------------------------------


def gpu_usable() -> bool:
    """Whether fastact's cuda backend can run here (imports numba.cuda)."""
    from fastact.backends import cuda

    return cuda.usable()[0]


def torch_tables():
    """(forward, forward out=, in-place, backward, backward out=) dicts of tensor callables."""
    import torch
    import torch.nn.functional as F

    aten = torch.ops.aten
    w = torch.tensor([PRELU_W])
    fwd = {
        "relu": torch.relu, "relu6": F.relu6, "leaky_relu": F.leaky_relu,
        "prelu": lambda t: F.prelu(t, w.to(t.dtype)), "hardtanh": F.hardtanh, "elu": F.elu,
        "celu": F.celu, "selu": F.selu, "sigmoid": torch.sigmoid, "logsigmoid": F.logsigmoid,
        "tanh": torch.tanh, "softsign": F.softsign, "softplus": F.softplus, "silu": F.silu,
        "swish": F.silu, "mish": F.mish, "gelu": F.gelu,
        "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
        "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish,
    }
    fwd_out = {
        "relu": lambda t, o: torch.clamp_min(t, 0, out=o),
        "relu6": lambda t, o: aten.hardtanh.out(t, 0.0, 6.0, out=o),
        "leaky_relu": lambda t, o: aten.leaky_relu.out(t, SLOPE, out=o),
        "hardtanh": lambda t, o: aten.hardtanh.out(t, -1.0, 1.0, out=o),
        "elu": lambda t, o: aten.elu.out(t, ALPHA, 1.0, 1.0, out=o),
        "celu": lambda t, o: aten.celu.out(t, ALPHA, out=o),
        "sigmoid": lambda t, o: torch.sigmoid(t, out=o),
        "logsigmoid": lambda t, o: aten.log_sigmoid.out(t, out=o),
        "tanh": lambda t, o: torch.tanh(t, out=o),
        "softplus": lambda t, o: aten.softplus.out(t, 1.0, 20.0, out=o),
        "silu": lambda t, o: aten.silu.out(t, out=o),
        "swish": lambda t, o: aten.silu.out(t, out=o),
        "mish": lambda t, o: aten.mish.out(t, out=o),
        "gelu": lambda t, o: aten.gelu.out(t, out=o),
        "gelu_tanh": lambda t, o: aten.gelu.out(t, approximate="tanh", out=o),
        "hardsigmoid": lambda t, o: aten.hardsigmoid.out(t, out=o),
        "hardswish": lambda t, o: aten.hardswish.out(t, out=o),
    }
    inplace = {
        "relu": torch.relu_, "relu6": lambda t: F.relu6(t, inplace=True),
        "leaky_relu": F.leaky_relu_, "hardtanh": F.hardtanh_, "elu": F.elu_, "celu": F.celu_,
        "selu": lambda t: F.selu(t, inplace=True), "sigmoid": torch.sigmoid_,
        "tanh": torch.tanh_, "silu": lambda t: F.silu(t, inplace=True),
        "swish": lambda t: F.silu(t, inplace=True), "mish": lambda t: F.mish(t, inplace=True),
        "hardsigmoid": lambda t: F.hardsigmoid(t, inplace=True),
        "hardswish": lambda t: F.hardswish(t, inplace=True),
    }
    # backward: the aten op autograd runs, given what the forward saved (x, or y for
    # sigmoid/tanh, the buffer for log_sigmoid): prepared outside the timed call by `prepare`
    bwd = {
        "relu": lambda g, x, s: aten.threshold_backward(g, x, 0),
        "relu6": lambda g, x, s: aten.hardtanh_backward(g, x, 0.0, 6.0),
        "leaky_relu": lambda g, x, s: aten.leaky_relu_backward(g, x, SLOPE, False),
        "prelu": lambda g, x, s: aten._prelu_kernel_backward(g, x, s)[0],
        "hardtanh": lambda g, x, s: aten.hardtanh_backward(g, x, -1.0, 1.0),
        "elu": lambda g, x, s: aten.elu_backward(g, ALPHA, 1.0, 1.0, False, x),
        "celu": lambda g, x, s: aten.elu_backward(g, ALPHA, 1.0, 1.0 / ALPHA, False, x),
        "selu": lambda g, x, s: aten.elu_backward(g, SELU_A, SELU_L, 1.0, False, x),
        "sigmoid": lambda g, x, s: aten.sigmoid_backward(g, s),
        "logsigmoid": lambda g, x, s: aten.log_sigmoid_backward(g, x, s),
        "tanh": lambda g, x, s: aten.tanh_backward(g, s),
        "softsign": lambda g, x, s: g / (1 + x.abs()) ** 2,
        "softplus": lambda g, x, s: aten.softplus_backward(g, x, 1.0, 20.0),
        "silu": lambda g, x, s: aten.silu_backward(g, x),
        "swish": lambda g, x, s: aten.silu_backward(g, x),
        "mish": lambda g, x, s: aten.mish_backward(g, x),
        "gelu": lambda g, x, s: aten.gelu_backward(g, x),
        "gelu_tanh": lambda g, x, s: aten.gelu_backward(g, x, approximate="tanh"),
        "hardsigmoid": lambda g, x, s: aten.hardsigmoid_backward(g, x),
        "hardswish": lambda g, x, s: aten.hardswish_backward(g, x),
    }
    bwd_out = {
        "relu": lambda g, x, s, o: aten.threshold_backward.grad_input(g, x, 0, grad_input=o),
        "sigmoid": lambda g, x, s, o: aten.sigmoid_backward.grad_input(g, s, grad_input=o),
        "tanh": lambda g, x, s, o: aten.tanh_backward.grad_input(g, s, grad_input=o),
        "silu": lambda g, x, s, o: aten.silu_backward.grad_input(g, x, grad_input=o),
        "gelu": lambda g, x, s, o: aten.gelu_backward.grad_input(g, x, grad_input=o),
        "gelu_tanh": lambda g, x, s, o: aten.gelu_backward.grad_input(
            g, x, approximate="tanh", grad_input=o),
        "elu": lambda g, x, s, o: aten.elu_backward.grad_input(
            g, ALPHA, 1.0, 1.0, False, x, grad_input=o),
        "softplus": lambda g, x, s, o: aten.softplus_backward.grad_input(
            g, x, 1.0, 20.0, grad_input=o),
        "leaky_relu": lambda g, x, s, o: aten.leaky_relu_backward.grad_input(
            g, x, SLOPE, False, grad_input=o),
        "hardtanh": lambda g, x, s, o: aten.hardtanh_backward.grad_input(
            g, x, -1.0, 1.0, grad_input=o),
        "hardsigmoid": lambda g, x, s, o: aten.hardsigmoid_backward.grad_input(
            g, x, grad_input=o),
        "celu": lambda g, x, s, o: aten.elu_backward.grad_input(
            g, ALPHA, 1.0, 1.0 / ALPHA, False, x, grad_input=o),
        "selu": lambda g, x, s, o: aten.elu_backward.grad_input(
            g, SELU_A, SELU_L, 1.0, False, x, grad_input=o),
        "logsigmoid": lambda g, x, s, o: aten.log_sigmoid_backward.grad_input(
            g, x, s, grad_input=o),
        "swish": lambda g, x, s, o: aten.silu_backward.grad_input(g, x, grad_input=o),
    }
    return fwd, fwd_out, inplace, bwd, bwd_out


#: backward rows where torch's op takes the forward output: fastact is given it too (result=)
FROM_OUTPUT = {"sigmoid", "tanh"}


def torch_saved(variant, x):
    """What torch's forward saves for the backward op (computed outside the timing)."""
    import torch

    if variant == "sigmoid":
        return torch.sigmoid(x)
    if variant == "tanh":
        return torch.tanh(x)
    if variant == "logsigmoid":
        return torch.ops.aten.log_sigmoid_forward(x)[1]
    if variant == "prelu":
        return torch.tensor([PRELU_W], dtype=x.dtype)
    return None


def _full(spec, params):
    return {**spec.defaults(), **params}


def torch_from_registry(spec, params, tx, tg, forward, last):
    """(timed call, None, result) for an activation not in :func:`torch_tables`: the registry's
    torch counterpart; its backward is the entry's aten op (``Peer.backward``) where it names
    one, else autograd's backward through the graph of one untimed forward (what a torch user's
    ``loss.backward()`` runs)."""
    import torch

    peer = spec.torch
    fn = peer.function(torch, _full(spec, params))
    if forward:
        def call():
            last["y"] = fn(tx)
        return call, None, lambda: last["y"].numpy()
    if peer.backward is not None:
        def call():
            last["y"] = peer.backward(torch, tg, tx, _full(spec, params))
        return call, None, lambda: last["y"].numpy()
    xr = tx.detach().requires_grad_()
    y = fn(xr)

    def call():
        (last["y"],) = torch.autograd.grad(y, xr, tg, retain_graph=True)
    return call, None, lambda: last["y"].numpy()


# -- JAX: jax.jit of jax.nn on the CPU ---------------------------------------------------------


def import_jax():
    """jax, with float64 enabled: by default JAX converts float64 arrays to float32, and its
    float64 rows would time a float32 computation."""
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def jax_from_registry(spec, params, variant):
    """({variant: jitted forward}, {variant: jitted vjp}) from the registry's JAX counterpart."""
    jax = import_jax()

    f = spec.jax.function(jax, _full(spec, params))
    return ({variant: jax.jit(f)},
            {variant: jax.jit(lambda g, x: jax.vjp(f, x)[1](g)[0])})


def jax_tables():
    """(forward, backward) dicts of jitted functions of jax arrays."""
    jax = import_jax()
    import jax.numpy as jnp

    nn = jax.nn
    fns = {
        "relu": nn.relu, "relu6": nn.relu6,
        "leaky_relu": lambda x: nn.leaky_relu(x, SLOPE),
        "prelu": lambda x: jnp.where(x > 0, x, PRELU_W * x),
        "hardtanh": nn.hard_tanh, "elu": nn.elu, "celu": nn.celu, "selu": nn.selu,
        "sigmoid": nn.sigmoid, "logsigmoid": nn.log_sigmoid, "tanh": jnp.tanh,
        "softsign": nn.soft_sign, "softplus": nn.softplus, "silu": nn.silu, "swish": nn.silu,
        "mish": nn.mish, "gelu": lambda x: nn.gelu(x, approximate=False),
        "gelu_tanh": lambda x: nn.gelu(x, approximate=True),
        "hardsigmoid": nn.hard_sigmoid, "hardswish": nn.hard_swish,
    }
    fwd = {k: jax.jit(f) for k, f in fns.items()}
    bwd = {k: jax.jit(lambda g, x, f=f: jax.vjp(f, x)[1](g)[0]) for k, f in fns.items()}
    return fwd, bwd


# -- numexpr: one fused expression, evaluated in cache-sized blocks on all cores ----------------

NUMEXPR_FORWARD = {
    "relu": "where(x > 0, x, 0)",
    "relu6": "where(x < 0, 0, where(x > 6, 6, x))",
    "leaky_relu": f"where(x > 0, x, x * {SLOPE})",
    "prelu": f"where(x > 0, x, x * {PRELU_W})",
    "hardtanh": "where(x < -1, -1, where(x > 1, 1, x))",
    "elu": "where(x > 0, x, expm1(x))",
    "celu": "where(x > 0, x, expm1(x))",
    "selu": f"{SELU_L} * where(x > 0, x, {SELU_A} * expm1(x))",
    "sigmoid": "1 / (1 + exp(-x))",
    "logsigmoid": "-log1p(exp(-abs(x))) + where(x < 0, x, 0)",
    "tanh": "tanh(x)",
    "softsign": "x / (1 + abs(x))",
    "softplus": "where(x > 20, x, log1p(exp(x)))",
    "silu": "x / (1 + exp(-x))",
    "swish": "x / (1 + exp(-x))",
    "mish": "x * tanh(log1p(exp(x)))",
    "gelu_tanh": f"0.5 * x * (1 + tanh({BETA} * (x + {KAPPA} * x * x * x)))",
    "hardsigmoid": "where(x < -3, 0, where(x > 3, 1, x / 6 + 0.5))",
    "hardswish": "where(x <= -3, 0, where(x >= 3, x, x * (x + 3) / 6))",
}
NUMEXPR_BACKWARD = {
    "relu": "where(x > 0, g, 0)",
    "sigmoid": "g * exp(-x) / (1 + exp(-x)) ** 2",
    "tanh": "g * (1 - tanh(x) ** 2)",
    "silu": "g * (1 + exp(-x) + x * exp(-x)) / (1 + exp(-x)) ** 2",
    "softplus": "g / (1 + exp(-x))",
    "elu": "where(x > 0, g, g * exp(x))",
    "leaky_relu": f"where(x > 0, g, g * {SLOPE})",
}
