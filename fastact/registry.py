"""The activation catalog: one entry per activation, from which everything else is generated.

An entry names the activation, its kind, its parameters (torch.nn.functional's names and
defaults), its scalar forward and gradient kernels from :mod:`fastact.kernels`, its formulas
(LaTeX, for the docs), the convention at its kinks and the points where they are, its accuracy
class, its float64 and mpmath references, and its torch and JAX counterparts. The public functions
(``fastact.relu``, ``fastact.relu_grad``, ...), the ufuncs in :mod:`fastact.ufuncs`, every backend,
the docs and the tests are generated from these entries. Adding an activation = its kernels in
``kernels/`` (named in the family module's ``__all__``) + its entry here (+ ``make gen``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from . import kernels as K
from ._reference import INF, MP_DIGITS, Reference, limits, mp, mp_piecewise, mp_sigmoid, sp

#: Marks a parameter without a default (prelu's ``weight``).
REQUIRED = object()

PIECEWISE_LINEAR = "piecewise-linear"
TRANSCENDENTAL = "transcendental"

#: The kinds of activation. Element-wise: ``y = f(x; params)`` element by element, kernels
#: ``f(x, *params)`` and ``f_grad(g, x, *params)``. Gated: ``y = act(a) * b`` of two inputs (the two
#: halves of x along an axis, or two arrays), kernels ``f(a, b, *params)`` and
#: ``f_grad(g, a, b, *params) -> (g da, g db)``; its reference's ``f(a, b)`` and ``df(a, b) ->
#: (df/da, df/db)`` likewise, kink points in ``a``.
ELEMENTWISE = "element-wise"
GATED = "gated"
AXISWISE = "axis-wise"
KINDS = (ELEMENTWISE, GATED, AXISWISE)


@dataclass(frozen=True)
class Deviation:
    """Where a peer's result is not fastact's, and why (the README's deviations table)."""

    why: str
    #: ``at(x) -> bool mask``: the inputs where the peer's value is not compared
    at: Callable | None = None
    #: ``expect(x, g, peer_value, dtype) -> value``: the peer's value as fastact's convention
    #: gives it, where it is compared after a correction instead of skipped
    expect: Callable | None = None
    #: "forward", "backward", "both", or "result" (the backward from the output)
    part: str = "both"


@dataclass(frozen=True)
class Peer:
    """A peer library's counterpart of an activation (torch, JAX), for parity tests and the
    benchmarks.

    ``path`` is the function's place in the peer's package (``"nn.functional.gelu"`` under
    ``torch``, ``"nn.gelu"`` under ``jax``); it is called as ``fn(t, **params)`` with fastact's
    parameters renamed by ``args``. ``build(peer, params) -> fn(t)`` replaces that where the
    peer's call is another shape (a composite, a tensor argument, another value for a choice).
    """

    path: str = ""
    #: fastact parameter name -> the peer's, where they differ; None: not passed
    args: Mapping[str, str | None] = field(default_factory=dict)
    build: Callable | None = None
    #: ``supports(params) -> bool``: whether the peer computes these parameter values
    supports: Callable[[Mapping], bool] | None = None
    deviations: tuple[Deviation, ...] = ()
    #: whether zeros keep the peer's sign (False where fastact returns the true value's sign of an
    #: underflowed result and the peer +0)
    zero_signs: bool = True
    #: the peer's own error that parity tests allow, in units of its dtype's eps (where the peer
    #: is less accurate than fastact's bound: an autodiff gradient that cancels)
    tolerance: float = 8.0
    #: ``result_backward(peer, grad, y, params) -> grad_input``: the peer's backward from the
    #: output (ATen's ``is_result`` ops), for ``_grad(..., result=y)``; None where it has none
    result_backward: Callable | None = None
    #: ``backward(peer, grad, x, params) -> grad_input``: the peer's own backward op (an aten
    #: ``*_backward``), which the benchmarks time; None: autograd's backward of ``function``
    backward: Callable | None = None
    #: gated kind: ``split(peer, params) -> fn(x, axis)``, the peer's own split form (torch's
    #: ``F.glu(x, dim)``, ``jax.nn.glu``) where it has one; ``function`` is the two-input form
    split: Callable | None = None
    #: axis-wise kind: the peer's name of the axis argument (``"dim"`` for torch, ``"axis"``)
    axis: str = "axis"
    #: axis-wise kind: the peer's name of the mask argument (JAX's ``where``), "" where it has none
    where: str = ""

    def function(self, peer, params: Mapping[str, object]) -> Callable:
        """The peer's function of one tensor for these fastact parameter values."""
        if self.build is not None:
            return self.build(peer, params)
        fn = peer
        for part in self.path.split("."):
            fn = getattr(fn, part)
        kw = {self.args.get(k, k): v for k, v in params.items() if self.args.get(k, k)}
        return (lambda t: fn(t, **kw)) if kw else fn

    def computes(self, params: Mapping[str, object]) -> bool:
        return self.supports is None or bool(self.supports(params))

    def along(self, peer, axis, where=None) -> Callable:
        """Axis-wise kind: the peer's ``fn(t)`` reducing along ``axis`` (masked by ``where``)."""
        fn = peer
        for part in self.path.split("."):
            fn = getattr(fn, part)
        kw = {self.axis: axis}
        if where is not None:
            kw[self.where] = where
        return lambda t: fn(t, **kw)


@dataclass(frozen=True)
class Param:
    """One parameter of an activation: its name and default, as in torch.nn.functional."""

    name: str
    default: object = REQUIRED
    #: "real": a real scalar passed to the kernels; "choice": selects a kernel variant;
    #: "weight": prelu's scalar-or-per-channel array; "random": a flag (rrelu's ``training``)
    #: that makes the call sample each element's multiplier (:attr:`Activation.noise_kernel`).
    kind: str = "real"
    choices: tuple[str, ...] = ()


class UfuncKernel(NamedTuple):
    """A kernel the backends compile into loops and ufuncs: its leading ``arrays`` inputs are
    arrays, the rest of its ``inputs`` scalars (the activation's parameters)."""

    kernel: Callable
    inputs: int
    arrays: int


@dataclass(frozen=True)
class Activation:
    """One activation: the single source of truth for its math, API and documentation."""

    name: str
    summary: str
    forward: Callable
    grad: Callable
    formula: str
    derivative: str
    family: str = TRANSCENDENTAL
    params: tuple[Param, ...] = ()
    #: the convention at non-differentiable points and special values, in words
    kinks: str = "smooth everywhere"
    #: bound on the float32 error in ULP against the exact value (0: exact, bit-equal)
    accuracy_ulp: int = 4
    #: integer inputs keep their dtype (relu); otherwise integers and bools promote to float64
    keeps_integers: bool = False
    #: for a "choice" parameter: value -> (forward, grad) kernels; the default value's pair is
    #: (forward, grad) above
    variants: Mapping[str, tuple[Callable, Callable]] = field(default_factory=dict)
    #: raises ValueError for parameter values the activation refuses (e.g. celu's alpha = 0)
    check: Callable[[dict], None] | None = None
    #: a doctest example for the generated docstring
    example: str = ""
    #: further element-wise kernels the activation needs: ufunc name -> (kernel, number of array
    #: inputs); the real parameters follow the arrays
    extra_kernels: Mapping[str, tuple[Callable, int]] = field(default_factory=dict)
    #: ``kernel_scalars(params) -> tuple`` of the forward and gradient kernels' scalar arguments
    #: (float64 values, cast to the computing dtype), where they are not the real parameters
    #: themselves (rrelu's eval-mode slope ``(lower + upper) / 2``, rounded once as torch does)
    kernel_scalars: Callable[[Mapping], tuple] | None = None
    #: gradient kernel taking the output ``y = f(x)`` instead of ``x`` (``_grad(..., result=y)``),
    #: where f' is a function of f; None where it is not
    result_grad: Callable | None = None
    #: f' as a function of the output y (LaTeX), for the docs
    result_derivative: str = ""
    #: raises ValueError for parameter values where the output does not determine f'
    result_check: Callable[[dict], None] | None = None
    kind: str = ELEMENTWISE
    #: where f or f' is not smooth or changes branch: a tuple of x values, or a function of the
    #: parameters giving them; () for a smooth activation. Tests probe these points and keep
    #: finite differences away from them. None (not stated) fails a test.
    kink_points: tuple[float, ...] | Callable[[Mapping], tuple[float, ...]] | None = None
    #: float64 and mpmath references of f and f' (the default variant's), for tests and tools
    reference: Reference | None = None
    #: for a "choice" parameter: value -> the reference of that variant
    variant_references: Mapping[str, Reference] = field(default_factory=dict)
    torch: Peer | None = None
    jax: Peer | None = None
    #: gated kind: the element-wise entry applied to one input (glu: "sigmoid", swiglu: "silu"),
    #: and which input it is applied to (0: the first, the gate; glu: 1, the second); analysis
    #: and plots show that activation
    gate: str = ""
    gate_input: int = 0
    #: gated: kernel name -> (fast kernel, tail predicate) where a kernel has a cheaper form
    #: outside its tails: the loops check a chunk with the predicate and run the fast kernel on it
    #: where no element is in the tail, the kernel itself otherwise
    fast_kernels: Mapping[str, tuple[Callable, Callable]] = field(default_factory=dict)
    #: axis-wise kind: the row algorithm of fastact.backends._axis_loops ("softmax": softmax,
    #: softmin, log_softmax; "logsumexp"; "sparsemax"), the sign the row is read with (softmin:
    #: -1), whether the result is the log (log_softmax), whether ``where=`` masks elements out
    #: of the reduction, and whether the result drops the axis (logsumexp)
    reduction: str = ""
    sign: float = 1.0
    log: bool = False
    masks: bool = False
    reduces: bool = False
    #: axis-wise kind: the scipy.special counterpart (the benchmarks' third peer)
    scipy: Peer | None = None

    def kinks_at(self, params: Mapping[str, object]) -> tuple[float, ...]:
        """The kink points for these parameter values (defaults filled in)."""
        pts = self.kink_points
        if pts is None:
            return ()
        if callable(pts):
            full = {p.name: p.default for p in self.params if p.default is not REQUIRED}
            full.update(params)
            return tuple(pts(full))
        return tuple(pts)

    def references(self) -> dict[str, Reference]:
        """Kernel (ufunc) name -> reference, for the default and every variant."""
        refs = {self.name: self.reference}
        refs.update({f"{self.name}_{v}": r for v, r in self.variant_references.items()})
        return refs

    @cached_property
    def real_params(self) -> tuple[Param, ...]:
        """The parameters passed to the kernels, in order."""
        return tuple(p for p in self.params if p.kind == "real")

    def scalars(self, params: Mapping[str, object]) -> tuple:
        """The forward and gradient kernels' scalar arguments (Python floats) for these bound
        parameter values (a weight parameter is passed separately)."""
        if self.kernel_scalars is not None:
            return tuple(self.kernel_scalars(params))
        return tuple(params[p.name] for p in self.real_params)

    @cached_property
    def n_scalars(self) -> int:
        """How many scalar arguments the forward and gradient kernels take (after the arrays;
        a weight parameter is one more)."""
        if self.kernel_scalars is None:
            return len(self.real_params)
        return len(self.kernel_scalars(self.defaults()))

    def defaults(self) -> dict:
        """The parameters' default values (parameters without one are left out)."""
        return {p.name: p.default for p in self.params if p.default is not REQUIRED}

    @cached_property
    def random_param(self) -> Param | None:
        """The parameter of kind "random" (rrelu's ``training``), or None."""
        return next((p for p in self.params if p.kind == "random"), None)

    @cached_property
    def noise_kernel(self) -> str | None:
        """For an activation with a "random" parameter: the extra kernel ``<name>_noise(u, x,
        *real parameters)`` that maps a uniform sample ``u`` in [0, 1) to the element's
        multiplier ``m`` (computed in place of ``u``): with the parameter set, ``f(x) = x * m``
        and ``g * f'(x) = g * m`` (torch's rrelu_with_noise). None otherwise."""
        if self.random_param is None:
            return None
        name = f"{self.name}_noise"
        if name not in self.extra_kernels:
            raise LookupError(f"{self.name}: a random parameter needs the extra kernel {name!r}")
        return name

    @cached_property
    def choice(self) -> Param | None:
        return next((p for p in self.params if p.kind == "choice"), None)

    @cached_property
    def weight_param(self) -> Param | None:
        """The parameter of kind "weight" (a scalar or per-channel array passed to the kernels
        after the real parameters; its gradient is returned beside grad_input), or None."""
        return next((p for p in self.params if p.kind == "weight"), None)

    @property
    def has_weight(self) -> bool:
        """Whether a parameter is a weight array (``_grad`` then also returns its gradient)."""
        return self.weight_param is not None

    @cached_property
    def weight_grad_kernel(self) -> str | None:
        """The extra kernel ``<name>_<weight>_grad(g, x)`` giving each element's contribution
        to the weight's gradient (summed over all but the channel axis), or None."""
        p = self.weight_param
        if p is None:
            return None
        name = f"{self.name}_{p.name}_grad"
        if name not in self.extra_kernels:
            raise LookupError(f"{self.name}: a weight parameter needs the extra kernel {name!r}")
        return name

    def kernels(self, params: Mapping[str, object]) -> tuple[str, Callable, Callable]:
        """(ufunc name, forward kernel, grad kernel) for these parameter values."""
        choice = self.choice
        if choice is None or params[choice.name] == choice.default:
            return self.name, self.forward, self.grad
        value = params[choice.name]
        fwd, grad = self.variants[value]
        return f"{self.name}_{value}", fwd, grad

    def ufunc_kernels(self) -> dict[str, UfuncKernel]:
        """Every kernel the backends compile loops of: name -> :class:`UfuncKernel` (the
        element-wise kinds' are also NumPy ufuncs; a gated gradient kernel returns a pair)."""
        n = self.n_scalars + (1 if self.has_weight else 0)
        pairs = {self.name: (self.forward, self.grad)}
        for value, pair in self.variants.items():
            pairs[f"{self.name}_{value}"] = pair
        ins = 2 if self.kind == GATED else 1  # the forward's arrays: (a, b) or x
        out = {}
        for name, (fwd, grad) in pairs.items():
            out[name] = UfuncKernel(fwd, ins + n, ins)
            out[f"{name}_grad"] = UfuncKernel(grad, 1 + ins + n, 1 + ins)
        if self.result_grad is not None:
            out[f"{self.name}_grad_result"] = UfuncKernel(self.result_grad, 2 + n, 2)
        for name, (kern, arrays) in self.extra_kernels.items():
            out[name] = UfuncKernel(kern, arrays + len(self.real_params), arrays)
        return out


# -- parameter checks (torch's, where torch has one) ---------------------------------------------


def _check_celu(p):
    if p["alpha"] == 0:
        raise ValueError("celu: alpha cannot be 0 (the negative branch divides by alpha)")


def _check_hardtanh(p):
    if p["min_val"] > p["max_val"]:
        raise ValueError(
            f"hardtanh: min_val ({p['min_val']}) cannot be greater than max_val ({p['max_val']})"
        )


def _check_leaky_result(p):
    if not p["negative_slope"] > 0:
        raise ValueError(
            "leaky_relu_grad: result= needs negative_slope > 0 (otherwise the output's sign does "
            f"not tell the input's), got {p['negative_slope']}; pass x"
        )


def _check_elu_result(p):
    if not p["alpha"] >= 0:
        raise ValueError(
            f"result= needs alpha >= 0 (as torch's elu_backward with is_result), got "
            f"{p['alpha']}; pass x"
        )


def _check_softplus(p):
    if p["beta"] == 0:
        raise ValueError("softplus: beta cannot be 0 (the result is divided by beta)")


def _check_shrink_result(p):
    if not p["lambd"] >= 0:
        raise ValueError(f"result= needs lambd >= 0 (otherwise a zero output does not tell the "
                         f"input's branch), got {p['lambd']}; pass x")


def _check_softshrink(p):
    if not p["lambd"] >= 0:
        raise ValueError(f"softshrink: lambd must be >= 0 (as torch), got {p['lambd']}")


def _check_rrelu(p):
    if not p["lower"] <= p["upper"]:
        raise ValueError(f"rrelu: lower ({p['lower']}) must be <= upper ({p['upper']}), as in "
                         "torch")


def _check_squareplus(p):
    if not p["b"] >= 0:
        raise ValueError(f"squareplus: b must be >= 0 (sqrt(x**2 + b) is not real for small x "
                         f"otherwise), got {p['b']}")


# -- references: float64 NumPy/SciPy and mpmath formulas (fastact._reference) ------------------
#
# Conventions at kinks and special values are torch's (JAX's for the JAX-only activations), and at
# +-inf the mathematical limits (the README's deviations table).

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
#: torch's tanh-GELU constant, as the float64 it is in every implementation
GELU_KAPPA = 0.044715
#: quick_gelu's beta (OpenAI CLIP: x * sigmoid(1.702 x))
QUICK_GELU_BETA = K.gated.QUICK_GELU_BETA


def _npdf(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _mp_ncdf(x):
    if abs(x) > 1e6:  # mpmath's erfc overflows on huge arguments; the limits are exact here
        return mp.mpf(0) if x < 0 else mp.mpf(1)
    return mp.erfc(-x / mp.sqrt(2)) / 2


def _mp_npdf(x):
    if abs(x) > 1e6:
        return mp.mpf(0)
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def _relu(x):
    return np.where(x < 0, 0.0, x)


def _relu_d(x):
    return np.where(x <= 0, 0.0, 1.0)


def _hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.where(x < min_val, min_val, np.where(x > max_val, max_val, x))


def _hardtanh_d(x, min_val=-1.0, max_val=1.0):
    # only strictly inside (min_val, max_val): 0 at NaN (README, "Deviations")
    return np.where((x > min_val) & (x < max_val), 1.0, 0.0)


def _relu6(x):
    return _hardtanh(x, 0.0, 6.0)


def _relu6_d(x):
    return _hardtanh_d(x, 0.0, 6.0)


def _leaky(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope)


def _leaky_d(x, negative_slope=0.01):
    return np.where(x > 0, 1.0, negative_slope)


def _prelu(x, weight):
    return _leaky(x, weight)


def _prelu_d(x, weight):
    return _leaky_d(x, weight)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def _elu_d(x, alpha=1.0):
    return np.where(x <= 0, alpha * np.exp(x), 1.0)


def _celu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x / alpha))


def _celu_d(x, alpha=1.0):
    return np.where(x <= 0, np.exp(x / alpha), 1.0)


def _softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, x, np.logaddexp(0.0, z) / beta)


def _softplus_d(x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, 1.0, sp.expit(z))


def _mp_softplus(x, beta=1.0, threshold=20.0):
    if float(x) * beta > threshold:  # torch's branch is decided on the rounded product
        return x
    return mp.log1p(mp.exp(x * beta)) / beta


def _mp_softplus_d(x, beta=1.0, threshold=20.0):
    return mp.mpf(1) if float(x) * beta > threshold else mp_sigmoid(x * beta)


def _swish(x, beta=1.0):
    return limits(x, x * sp.expit(beta * x), -0.0, INF)


def _swish_d(x, beta=1.0):
    z = beta * x
    return limits(x, sp.expit(z) * (1 + z * sp.expit(-z)), 0.0, 1.0)


#: silu'(x) = 0 here (swish's at this / beta)
SILU_ROOT = -1.2784645427610738


def _mp_swish(x, beta=1.0):
    return x * mp_sigmoid(beta * x)


def _mp_swish_d(x, beta=1.0):
    return mp_sigmoid(beta * x) * (1 + beta * x * mp_sigmoid(-beta * x))


def _mish(x):
    return limits(x, x * np.tanh(np.logaddexp(0.0, x)), -0.0, INF)


def _mish_d(x):
    t = np.tanh(np.logaddexp(0.0, x))
    return limits(x, t + x * sp.expit(x) * (1 - t * t), 0.0, 1.0)


def _mp_mish(x):
    return x * mp.tanh(mp.log1p(mp.exp(x)))


def _mp_mish_d(x):
    t = mp.tanh(mp.log1p(mp.exp(x)))
    return t + x * mp_sigmoid(x) * (1 - t * t)


def _gelu(x):
    return limits(x, x * sp.ndtr(x), -0.0, INF)


def _gelu_d(x):
    return limits(x, sp.ndtr(x) + x * _npdf(x), 0.0, 1.0)


def _gelu_tanh_z(x):
    return 2 * math.sqrt(2 / math.pi) * (x + GELU_KAPPA * x**3)


def _gelu_tanh(x):
    return limits(x, x * sp.expit(_gelu_tanh_z(x)), -0.0, INF)


def _gelu_tanh_d(x):
    z = _gelu_tanh_z(x)
    dz = 2 * math.sqrt(2 / math.pi) * (1 + 3 * GELU_KAPPA * x * x)
    d = sp.expit(z) + x * sp.expit(z) * sp.expit(-z) * dz
    return limits(x, np.where(np.abs(x) > 1e10, np.where(x > 0, 1.0, 0.0), d), 0.0, 1.0)


def _mp_gelu_tanh_z(x):
    return 2 * mp.sqrt(2 / mp.pi) * (x + mp.mpf(GELU_KAPPA) * x**3)


def _mp_gelu_tanh_d(x):
    z = _mp_gelu_tanh_z(x)
    dz = 2 * mp.sqrt(2 / mp.pi) * (1 + 3 * mp.mpf(GELU_KAPPA) * x * x)
    return mp_sigmoid(z) * (1 + x * mp_sigmoid(-z) * dz)


def _hardsigmoid(x):
    y = x + 3
    return np.where(y < 0, 0.0, np.where(y > 6, 1.0, y / 6))


def _hardsigmoid_d(x):
    return np.where((x > -3) & (x < 3), 1 / 6, 0.0)


def _mp_hardsigmoid(x):
    return mp.mpf(0) if x + 3 < 0 else (mp.mpf(1) if x + 3 > 6 else (x + 3) / 6)


def _hardswish(x):
    return np.where(x <= -3, -0.0, np.where(x >= 3, x, x * (x + 3) / 6))


def _hardswish_d(x):
    return np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0))


def _mp_hardswish(x):
    return mp.mpf(0) if x <= -3 else (x if x >= 3 else x * (x + 3) / 6)


def _mp_hardswish_d(x):
    return mp.mpf(0) if x <= -3 else (x / 3 + mp.mpf(0.5) if x < 3 else mp.mpf(1))


def _softsign(x):
    return limits(x, x / (1 + np.abs(x)), -1.0, 1.0)


def _inside(x, lambd):
    return (x >= -lambd) & (x <= lambd)


def _hardshrink(x, lambd=0.5):
    return np.where(_inside(x, lambd), 0.0, x)


def _hardshrink_d(x, lambd=0.5):
    # 1 only strictly outside: 0 at NaN (README, "Deviations")
    return np.where((x < -lambd) | (x > lambd), 1.0, 0.0)


def _softshrink(x, lambd=0.5):
    return np.where(_inside(x, lambd), 0.0, np.where(x > lambd, x - lambd, x + lambd))


def _threshold(x, threshold, value):
    return np.where(x <= threshold, value, x)


def _threshold_d(x, threshold, value):
    return np.where(x <= threshold, 0.0, 1.0)


def _rrelu_mean(lower, upper):
    """rrelu's slope outside training: the mean of its uniform distribution."""
    return (lower + upper) / 2


def _rrelu_slope(p):
    """The kernels' one scalar."""
    return (_rrelu_mean(p["lower"], p["upper"]),)


def _rrelu(x, lower=1 / 8, upper=1 / 3, training=False):
    # the function outside training (test_random.py tests the sampled one)
    return _leaky(x, _rrelu_mean(lower, upper))


def _rrelu_d(x, lower=1 / 8, upper=1 / 3, training=False):
    return _leaky_d(x, _rrelu_mean(lower, upper))


def _squareplus_neg(x, b):
    """squareplus(-|x|) = b / (2 (s + |x|)), s = sqrt(x**2 + b) without overflow."""
    s = np.hypot(x, np.sqrt(b))
    with np.errstate(all="ignore"):
        return np.where(s + np.abs(x) > 0, b / (2 * (s + np.abs(x))), 0.0), s


def _squareplus(x, b=4.0):
    n, _ = _squareplus_neg(x, b)
    return np.where(x < 0, n, x + n)


def _squareplus_d(x, b=4.0):
    n, s = _squareplus_neg(x, b)
    with np.errstate(all="ignore"):
        d = n / s
    return np.where(x < 0, d, 1 - d)


def _mp_squareplus(x, b=4.0):
    n = b / (2 * (mp.sqrt(x * x + b) + abs(x)))
    return n if x < 0 else x + n


def _mp_squareplus_d(x, b=4.0):
    s = mp.sqrt(x * x + b)
    d = b / (2 * s * (s + abs(x)))
    return d if x < 0 else 1 - d


def _squared_relu(x):
    with np.errstate(over="ignore"):  # overflows to inf where the true value does
        return _relu(x) ** 2


def _squared_relu_d(x):
    return np.where(x <= 0, 0.0, 2 * x)


def _sparse_sigmoid(x):
    return 0.5 * np.clip(x + 1, 0.0, 2.0)


def _sparse_sigmoid_d(x):
    return np.where((x > -1) & (x < 1), 0.5, np.where(np.abs(x) == 1, 0.25, 0.0))


def _sparse_plus(x):
    return np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4))


# gated references: f(a, b) and df(a, b) -> (df/da, df/db)


def _gated_ref(act, act_d, mp_act, mp_act_d, gate_grad=None, **kw):
    """The references of ``act(a) * b`` from those of act (element-wise references);
    ``gate_grad(a, b)``: d/da where it is not ``b act'(a)`` at every input (reglu's +0 where
    a <= 0, b infinite included)."""
    da = gate_grad or (lambda a, b, **p: b * act_d(a, **p))
    return Reference(
        lambda a, b, **p: act(a, **p) * b, lambda a, b, **p: (da(a, b, **p), act(a, **p)),
        lambda a, b, **p: mp_act(a, **p) * b,
        lambda a, b, **p: (b * mp_act_d(a, **p), mp_act(a, **p)), **kw)


def _glu_ref():
    return Reference(
        lambda a, b: a * sp.expit(b), lambda a, b: (sp.expit(b), a * sp.expit(b) * sp.expit(-b)),
        lambda a, b: a * mp_sigmoid(b),
        lambda a, b: (mp_sigmoid(b), a * mp_sigmoid(b) * mp_sigmoid(-b)))


# axis-wise references: f(x) of a float64 row, df(x, g) its gradient (g: the row's grad_output,
# a scalar for logsumexp); mf(x), mdf(x, g) the same on lists of mpf


def _softmax_row(x, sign=1.0):
    z = sign * np.asarray(x, dtype=np.float64)
    e = np.exp(z - np.max(z))
    return e / math.fsum(e)


def _mp_softmax_row(x, sign=1):
    z = [sign * v for v in x]
    m = max(z)
    e = [mp.exp(v - m) for v in z]
    s = mp.fsum(e)
    return [v / s for v in e]


def _softmax_row_d(x, g, sign=1.0):
    y = _softmax_row(x, sign)
    return sign * y * (g - math.fsum(g * y))


def _mp_softmax_row_d(x, g, sign=1):
    y = _mp_softmax_row(x, sign)
    dot = mp.fsum(a * b for a, b in zip(g, y, strict=True))
    return [sign * b * (a - dot) for a, b in zip(g, y, strict=True)]


def _log_softmax_row(x):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x)
    return (x - m) - np.log(math.fsum(np.exp(x - m)))


def _mp_log_softmax_row(x):
    m = max(x)
    s = mp.fsum(mp.exp(v - m) for v in x)
    return [(v - m) - mp.log(s) for v in x]


def _log_softmax_row_d(x, g):
    return g - _softmax_row(x) * math.fsum(g)


def _mp_log_softmax_row_d(x, g):
    t = mp.fsum(g)
    return [a - b * t for a, b in zip(g, _mp_softmax_row(x), strict=True)]


def _logsumexp_row(x):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x)
    return m + np.log(math.fsum(np.exp(x - m)))


def _mp_logsumexp_row(x):
    m = max(x)
    return m + mp.log(mp.fsum(mp.exp(v - m) for v in x))


def _logsumexp_row_d(x, g):
    return g * _softmax_row(x)


def _mp_logsumexp_row_d(x, g):
    return [g * b for b in _mp_softmax_row(x)]


def _sparsemax_tau(x):
    """The threshold of sparsemax of a row (Martins & Astudillo, Algorithm 1: by sorting)."""
    z = sorted(x, reverse=True)
    total, best = 0, None
    for k, v in enumerate(z, 1):
        total += v
        if 1 + k * v > total:
            best = (total - 1) / k
    return best


def _sparsemax_row(x):
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x - _sparsemax_tau([float(v) for v in x]), 0.0)


def _mp_sparsemax_row(x):
    tau = _sparsemax_tau(list(x))
    return [max(v - tau, mp.mpf(0)) for v in x]


def _sparsemax_row_d(x, g):
    support = _sparsemax_row(x) > 0
    return np.where(support, g - math.fsum(g[support]) / support.sum(), 0.0)


def _mp_sparsemax_row_d(x, g):
    support = [v > 0 for v in _mp_sparsemax_row(x)]
    mean = mp.fsum(a for a, s in zip(g, support, strict=True) if s) / sum(support)
    return [a - mean if s else mp.mpf(0) for a, s in zip(g, support, strict=True)]


def _torch_softmax_backward(torch, g, y, p):
    return torch._softmax_backward_data(g, y, p["axis"], g.dtype)


def _torch_log_softmax_backward(torch, g, y, p):
    return torch._log_softmax_backward_data(g, y, p["axis"], g.dtype)



#: below this |x| the float64 reference of tanhshrink is its Taylor series (x - tanh x cancels)
_TANHSHRINK_TAYLOR_BELOW = 0.5


@cache
def _tanhshrink_coefficients(terms):
    """4**n (4**n - 1) B_2n / (2n)! for n = terms + 1 down to 2, as float64."""
    return tuple(float(4**n * (4**n - 1) * mp.bernoulli(2 * n) / mp.factorial(2 * n))
                 for n in range(terms + 1, 1, -1))


def _tanhshrink_taylor(x, terms=18):
    """x - tanh x = -sum_{n>=2} 4**n (4**n - 1) B_2n x**(2n-1) / (2n)!, for |x| < 1/2 (where
    each term is below a tenth of the one before)."""
    u = x * x
    acc = np.zeros_like(x)
    for c in _tanhshrink_coefficients(terms):  # Horner in u, from the smallest term
        acc = acc * u - c
    return x * u * acc


def _tanhshrink(x):
    with np.errstate(all="ignore"):
        near = _tanhshrink_taylor(np.where(np.abs(x) < _TANHSHRINK_TAYLOR_BELOW, x, 0.0))
    return np.where(np.abs(x) < _TANHSHRINK_TAYLOR_BELOW, near, x - np.tanh(x))


def _mp_tanhshrink(x):
    if x == 0:
        return x
    # x - tanh x loses about log10(3 / x**2) digits: work with that many more
    extra = max(0, int(-2 * mp.log10(abs(x)))) + 5
    with mp.workdps(MP_DIGITS + extra):
        return +(x - mp.tanh(x))


# -- peers: torch's and JAX's counterparts ---------------------------------------------------------


def _torch_prelu(torch, p):
    return lambda t: torch.nn.functional.prelu(t, torch.tensor([p["weight"]], dtype=t.dtype))


def _torch_swish(torch, p):
    return lambda t: t * torch.sigmoid(p["beta"] * t)


def _torch_squared_relu(torch, p):
    return lambda t: torch.relu(t) ** 2


def _jax_squared_relu(jax, p):
    return lambda t: jax.numpy.square(jax.nn.relu(t))


def _torch_quick_gelu(torch, p):
    return lambda t: t * torch.sigmoid(QUICK_GELU_BETA * t)


def _jax_quick_gelu(jax, p):
    return lambda t: t * jax.nn.sigmoid(QUICK_GELU_BETA * t)


def _torch_glu(torch, p):
    return lambda a, b: a * torch.sigmoid(b)


_torch_glu.__name__ = "a * torch.sigmoid(b); the split form torch.nn.functional.glu"


def _torch_glu_split(torch, p):
    return lambda x, axis: torch.nn.functional.glu(x, axis)


def _jax_glu(jax, p):
    return lambda a, b: a * jax.nn.sigmoid(b)


_jax_glu.__name__ = "a * jax.nn.sigmoid(b); the split form jax.nn.glu"


def _jax_glu_split(jax, p):
    return lambda x, axis: jax.nn.glu(x, axis)


def _times_up(act, label):
    """A peer's two-input form ``act(a) * b`` from its element-wise ``act(t)`` builder;
    ``label`` names the composite in the docs."""
    def build(peer, p):
        f = act(peer, p)
        return lambda a, b: f(a) * b

    build.__name__ = label
    return build


def _jax_gelu(jax, p):
    return lambda t: jax.nn.gelu(t, approximate=p["approximate"] == "tanh")


def _defaults_only(*names_defaults):
    """``supports`` for a peer that has only the default values of these parameters."""
    fixed = dict(zip(names_defaults[::2], names_defaults[1::2], strict=True))
    return lambda p: all(p.get(k, v) == v for k, v in fixed.items())


def _is_inf(x):
    return np.isinf(x)


def _gelu_torch_skip(x):
    # torch's tanh form overflows x**3 (a NaN gradient) from |x| ~ 1e12; exact gelu(-0) is -0 in
    # fastact (+0 in torch's float32)
    return np.isinf(x) | (x == 0) | (np.abs(x) >= 1e12)


def _sixth_in_float64(x, g, value, dtype):
    return np.where(value != 0, g / 6, value) if dtype == np.float64 else value


def _zero_at_nan(x, g, value, dtype):
    return np.where(np.isnan(x), 0.0, value)


def _aten(torch):
    return torch.ops.aten


def _torch_relu_result(torch, g, y, p):
    return _aten(torch).threshold_backward(g, y, 0)


def _torch_relu6_result(torch, g, y, p):
    return _aten(torch).hardtanh_backward(g, y, 0.0, 6.0)


def _torch_hardtanh_result(torch, g, y, p):
    return _aten(torch).hardtanh_backward(g, y, p["min_val"], p["max_val"])


def _torch_leaky_result(torch, g, y, p):
    return _aten(torch).leaky_relu_backward(g, y, p["negative_slope"], True)


def _torch_elu_result(torch, g, y, p):
    return _aten(torch).elu_backward(g, p["alpha"], 1.0, 1.0, True, y)


def _torch_hardshrink_backward(torch, g, x, p):
    return _aten(torch).hardshrink_backward(g, x, p["lambd"])


def _torch_softshrink_backward(torch, g, x, p):
    return _aten(torch).softshrink_backward(g, x, p["lambd"])


def _torch_threshold_backward(torch, g, x, p):
    return _aten(torch).threshold_backward(g, x, p["threshold"])


def _torch_rrelu_backward(torch, g, x, p):
    return _aten(torch).leaky_relu_backward(g, x, _rrelu_slope(p)[0], False)


def _positive_zero(x, g, value, dtype):
    return np.where(value == 0, 0.0, value)


def _torch_celu_result(torch, g, y, p):
    return _aten(torch).elu_backward(g, p["alpha"], 1.0, 1.0 / p["alpha"], True, y)


def _torch_selu_result(torch, g, y, p):
    return _aten(torch).elu_backward(g, SELU_ALPHA, SELU_SCALE, 1.0, True, y)


def _torch_sigmoid_result(torch, g, y, p):
    return _aten(torch).sigmoid_backward(g, y)


def _torch_tanh_result(torch, g, y, p):
    return _aten(torch).tanh_backward(g, y)


#: elu_backward with is_result at NaN
_TORCH_ELU_RESULT_NAN = Deviation(
    "torch's elu_backward(is_result) gives NaN at NaN in its SIMD loop and passes g in its scalar "
    "tail; fastact passes g, as its gradient from x", at=np.isnan, part="result")

#: the limits at +-inf, where torch's formula gives NaN (inf * 0, inf / inf)
_TORCH_NAN_AT_INF = Deviation("torch: NaN at +-inf (inf * 0 in its formula); fastact: the limits",
                              at=_is_inf)
#: hardtanh's and relu6's gradient at NaN
_TORCH_NAN_GRAD = Deviation(
    "torch's SIMD loop gives 0 at NaN and its scalar tail loop passes g; fastact: 0",
    expect=_zero_at_nan, part="backward")


_ACTIVATIONS = [
    Activation(
        "relu", "Rectified linear unit.", K.relu, K.relu_grad,
        formula=r"\max(x, 0)", derivative=r"\mathbb{1}[x > 0]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0, keeps_integers=True,
        kinks="relu'(0) = 0; relu(-0.0) = -0.0; NaN -> NaN, and the gradient at NaN passes g",
        result_grad=K.relu_grad, result_derivative=r"\mathbb{1}[y > 0]",
        example=">>> fastact.relu([-1.5, 0.0, 2.0])\narray([0., 0., 2.])",
        kink_points=(0.0,),
        reference=Reference(_relu, _relu_d, mp_piecewise(_relu), mp_piecewise(_relu_d)),
        torch=Peer("relu", result_backward=_torch_relu_result), jax=Peer("nn.relu"),
    ),
    Activation(
        "relu6", "ReLU capped at 6: hardtanh(x, 0, 6).", K.relu6, K.relu6_grad,
        formula=r"\min(\max(x, 0), 6)", derivative=r"\mathbb{1}[0 < x < 6]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="the gradient passes only strictly inside (0, 6)",
        result_grad=K.relu6_grad, result_derivative=r"\mathbb{1}[0 < y < 6]",
        example=">>> fastact.relu6([-1.0, 3.0, 7.0])\narray([0., 3., 6.])",
        kink_points=(0.0, 6.0),
        reference=Reference(_relu6, _relu6_d, mp_piecewise(_relu6), mp_piecewise(_relu6_d)),
        torch=Peer("nn.functional.relu6", deviations=(_TORCH_NAN_GRAD,),
                   result_backward=_torch_relu6_result), jax=Peer("nn.relu6"),
    ),
    Activation(
        "leaky_relu", "Leaky ReLU: a small slope for negative inputs.",
        K.leaky_relu, K.leaky_relu_grad,
        params=(Param("negative_slope", 0.01),),
        formula=r"x \text{ if } x > 0 \text{ else } \alpha x",
        derivative=r"1 \text{ if } x > 0 \text{ else } \alpha",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="leaky_relu'(0) = negative_slope",
        result_grad=K.leaky_relu_grad, result_check=_check_leaky_result,
        result_derivative=r"1 \text{ if } y > 0 \text{ else } \alpha \quad (\alpha > 0)",
        example=">>> fastact.leaky_relu([-2.0, 3.0], 0.5)\narray([-1.,  3.])",
        kink_points=(0.0,),
        reference=Reference(_leaky, _leaky_d, mp_piecewise(_leaky), mp_piecewise(_leaky_d),
                            params=({}, {"negative_slope": 0.2})),
        torch=Peer("nn.functional.leaky_relu", result_backward=_torch_leaky_result),
        jax=Peer("nn.leaky_relu"),
    ),
    Activation(
        "prelu", "Parametric ReLU: leaky ReLU with a learned slope per channel (axis 1).",
        K.prelu, K.prelu_grad,
        params=(Param("weight", kind="weight"),),
        formula=r"x \text{ if } x > 0 \text{ else } w_c x",
        derivative=r"1 \text{ if } x > 0 \text{ else } w_c",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="prelu'(0) = weight; d/dweight = x where x <= 0",
        extra_kernels={"prelu_weight_grad": (K.prelu_weight_grad, 2)},
        example=">>> fastact.prelu([[-2.0, -2.0]], [0.5, 0.25])\narray([[-1. , -0.5]])",
        kink_points=(0.0,),
        reference=Reference(_prelu, _prelu_d, mp_piecewise(_prelu), mp_piecewise(_prelu_d),
                            params=({"weight": 0.25}, {"weight": -0.3})),
        torch=Peer(build=_torch_prelu),
    ),
    Activation(
        "hardtanh", "Hard tanh: x clipped to [min_val, max_val].", K.hardtanh, K.hardtanh_grad,
        params=(Param("min_val", -1.0), Param("max_val", 1.0)),
        formula=r"\min(\max(x, a), b)", derivative=r"\mathbb{1}[a < x < b]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0, check=_check_hardtanh,
        kinks="the gradient passes only strictly inside (min_val, max_val)",
        result_grad=K.hardtanh_grad, result_derivative=r"\mathbb{1}[a < y < b]",
        example=">>> fastact.hardtanh([-3.0, 0.5, 3.0])\narray([-1. ,  0.5,  1. ])",
        kink_points=lambda p: (p["min_val"], p["max_val"]),
        reference=Reference(_hardtanh, _hardtanh_d, mp_piecewise(_hardtanh),
                            mp_piecewise(_hardtanh_d),
                            params=({}, {"min_val": -2.5, "max_val": 0.5})),
        torch=Peer("nn.functional.hardtanh", deviations=(_TORCH_NAN_GRAD,),
                   result_backward=_torch_hardtanh_result),
        jax=Peer("nn.hard_tanh", args={"min_val": None, "max_val": None},
                 supports=_defaults_only("min_val", -1.0, "max_val", 1.0)),
    ),
    Activation(
        "elu", "Exponential linear unit.", K.elu, K.elu_grad,
        params=(Param("alpha", 1.0),),
        formula=r"x \text{ if } x > 0 \text{ else } \alpha (e^x - 1)",
        derivative=r"1 \text{ if } x > 0 \text{ else } \alpha e^x",
        kinks="elu'(0) = alpha (torch's x <= 0 branch)",
        result_grad=K.elu_grad_result, result_check=_check_elu_result,
        result_derivative=r"1 \text{ if } y > 0 \text{ else } y + \alpha \quad (\alpha \ge 0)",
        example=">>> fastact.elu([-1.0, 2.0]).round(6)\narray([-0.632121,  2.      ])",
        kink_points=(0.0,),
        reference=Reference(
            _elu, _elu_d,
            lambda x, alpha=1.0: x if x > 0 else alpha * mp.expm1(x),
            lambda x, alpha=1.0: alpha * mp.exp(x) if x <= 0 else mp.mpf(1),
            params=({}, {"alpha": 0.5})),
        torch=Peer("nn.functional.elu", result_backward=_torch_elu_result,
                   deviations=(_TORCH_ELU_RESULT_NAN,)), jax=Peer("nn.elu"),
    ),
    Activation(
        "celu", "Continuously differentiable ELU.", K.celu, K.celu_grad,
        params=(Param("alpha", 1.0),), check=_check_celu,
        formula=r"x \text{ if } x > 0 \text{ else } \alpha (e^{x/\alpha} - 1)",
        derivative=r"1 \text{ if } x > 0 \text{ else } e^{x/\alpha}",
        kinks="celu'(0) = 1; alpha = 0 is refused",
        result_grad=K.celu_grad_result, result_check=_check_elu_result,
        result_derivative=r"1 \text{ if } y > 0 \text{ else } (y + \alpha) / \alpha"
        r" \quad (\alpha > 0)",
        example=">>> fastact.celu([-1.0, 2.0], 2.0).round(6)\narray([-0.786939,  2.      ])",
        kink_points=(0.0,),
        reference=Reference(
            _celu, _celu_d,
            lambda x, alpha=1.0: x if x > 0 else alpha * mp.expm1(x / alpha),
            lambda x, alpha=1.0: mp.exp(x / alpha) if x <= 0 else mp.mpf(1),
            params=({}, {"alpha": 2.0})),
        torch=Peer("nn.functional.celu", result_backward=_torch_celu_result,
                   deviations=(_TORCH_ELU_RESULT_NAN,)), jax=Peer("nn.celu"),
    ),
    Activation(
        "selu", "Scaled ELU (self-normalizing networks).", K.selu, K.selu_grad,
        formula=r"\lambda (x \text{ if } x > 0 \text{ else } \alpha (e^x - 1))",
        derivative=r"\lambda \text{ if } x > 0 \text{ else } \lambda \alpha e^x",
        kinks="selu'(0) = scale * alpha (torch's x <= 0 branch)",
        result_grad=K.selu_grad_result,
        result_derivative=r"\lambda \text{ if } y > 0 \text{ else } y + \lambda \alpha",
        example=">>> fastact.selu([-1.0, 1.0]).round(6)\narray([-1.111331,  1.050701])",
        kink_points=(0.0,),
        reference=Reference(
            lambda x: SELU_SCALE * _elu(x, SELU_ALPHA),
            lambda x: SELU_SCALE * _elu_d(x, SELU_ALPHA),
            lambda x: mp.mpf(SELU_SCALE) * (x if x > 0 else mp.mpf(SELU_ALPHA) * mp.expm1(x)),
            lambda x: mp.mpf(SELU_SCALE) * (mp.mpf(SELU_ALPHA) * mp.exp(x) if x <= 0 else 1)),
        torch=Peer("nn.functional.selu", result_backward=_torch_selu_result,
                   deviations=(_TORCH_ELU_RESULT_NAN,)), jax=Peer("nn.selu"),
    ),
    Activation(
        "sigmoid", "Logistic sigmoid.", K.sigmoid, K.sigmoid_grad,
        formula=r"\frac{1}{1 + e^{-x}}", derivative=r"\sigma(x)\,\sigma(-x)",
        result_grad=K.sigmoid_grad_result, result_derivative=r"y\,(1 - y)",
        example=">>> fastact.sigmoid([0.0, 2.0]).round(6)\narray([0.5     , 0.880797])",
        kink_points=(),
        reference=Reference(lambda x: sp.expit(x), lambda x: sp.expit(x) * sp.expit(-x),
                            mp_sigmoid, lambda x: mp_sigmoid(x) * mp_sigmoid(-x)),
        torch=Peer("sigmoid", result_backward=_torch_sigmoid_result), jax=Peer("nn.sigmoid"),
    ),
    Activation(
        "logsigmoid", "Log of the sigmoid, without overflow.", K.logsigmoid, K.logsigmoid_grad,
        formula=r"-\log(1 + e^{-x})", derivative=r"\sigma(-x)",
        example=">>> fastact.logsigmoid([0.0, -100.0]).round(6)\narray([  -0.693147, -100.      ])",
        kink_points=(),
        reference=Reference(lambda x: sp.log_expit(x), lambda x: sp.expit(-x),
                            lambda x: -mp.log1p(mp.exp(-x)), lambda x: mp_sigmoid(-x)),
        torch=Peer("nn.functional.logsigmoid"), jax=Peer("nn.log_sigmoid"),
    ),
    Activation(
        "tanh", "Hyperbolic tangent.", K.tanh, K.tanh_grad,
        formula=r"\tanh x", derivative=r"1 - \tanh^2 x",
        result_grad=K.tanh_grad_result, result_derivative=r"1 - y^2",
        example=">>> fastact.tanh([0.0, 1.0]).round(6)\narray([0.      , 0.761594])",
        kink_points=(),
        reference=Reference(np.tanh, lambda x: 1 / np.cosh(x) ** 2, lambda x: mp.tanh(x),
                            lambda x: mp.sech(x) ** 2),
        torch=Peer("tanh", result_backward=_torch_tanh_result), jax=Peer("numpy.tanh"),
    ),
    Activation(
        "softsign", "Softsign.", K.softsign, K.softsign_grad,
        formula=r"\frac{x}{1 + |x|}", derivative=r"\frac{1}{(1 + |x|)^2}",
        kinks="softsign(+-inf) = +-1 (torch: NaN)",
        result_grad=K.softsign_grad_result, result_derivative=r"(1 - |y|)^2",
        example=">>> fastact.softsign([-1.0, 3.0])\narray([-0.5 ,  0.75])",
        kink_points=(),
        reference=Reference(_softsign, lambda x: 1 / (1 + np.abs(x)) ** 2,
                            lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2),
        torch=Peer("nn.functional.softsign", deviations=(Deviation(
            "torch: x / (1 + |x|) is inf / inf = NaN at +-inf; fastact: the limits +-1",
            at=_is_inf),)),
        jax=Peer("nn.soft_sign"),
    ),
    Activation(
        "softplus", "Softplus, linear above the threshold (as torch).", K.softplus,
        K.softplus_grad,
        params=(Param("beta", 1.0), Param("threshold", 20.0)), check=_check_softplus,
        formula=r"x \text{ if } \beta x > t \text{ else } \frac{1}{\beta}\log(1 + e^{\beta x})",
        derivative=r"1 \text{ if } \beta x > t \text{ else } \sigma(\beta x)",
        kinks="linear (x, gradient 1) where beta * x > threshold, exactly as torch",
        example=">>> fastact.softplus([0.0, 30.0]).round(6)\narray([ 0.693147, 30.      ])",
        kink_points=lambda p: (p["threshold"] / p["beta"],),
        reference=Reference(_softplus, _softplus_d, _mp_softplus, _mp_softplus_d,
                            params=({}, {"beta": 2.0, "threshold": 10.0},
                                    {"beta": 0.7, "threshold": 15.0})),
        torch=Peer("nn.functional.softplus"),
        jax=Peer("nn.softplus", args={"beta": None, "threshold": None},
                 supports=_defaults_only("beta", 1.0, "threshold", 20.0),
                 deviations=(Deviation("fastact (as torch) is x above the threshold; JAX: "
                                       "log(1 + e^x)", at=lambda x: x > 20),)),
    ),
    Activation(
        "silu", "Sigmoid-weighted linear unit (swish with beta = 1).", K.silu, K.silu_grad,
        formula=r"x\,\sigma(x)", derivative=r"\sigma(x)\,(1 + x\,\sigma(-x))",
        kinks="silu(-inf) = -0, silu'(+-inf) = 1, 0 (torch: NaN)",
        example=">>> fastact.silu([-1.0, 1.0]).round(6)\narray([-0.268941,  0.731059])",
        kink_points=(),
        reference=Reference(_swish, _swish_d, _mp_swish, _mp_swish_d, roots=(SILU_ROOT,)),
        torch=Peer("nn.functional.silu", deviations=(_TORCH_NAN_AT_INF,), zero_signs=False),
        jax=Peer("nn.silu"),
    ),
    Activation(
        "swish", "Swish: x * sigmoid(beta * x); swish(x, 1) == silu(x).", K.swish, K.swish_grad,
        params=(Param("beta", 1.0),),
        formula=r"x\,\sigma(\beta x)",
        derivative=r"\sigma(\beta x)\,(1 + \beta x\,\sigma(-\beta x))",
        kinks="as silu",
        example=">>> fastact.swish([-1.0, 1.0], 2.0).round(6)\narray([-0.119203,  0.880797])",
        kink_points=(),
        reference=Reference(_swish, _swish_d, _mp_swish, _mp_swish_d,
                            params=({}, {"beta": 1.7}), roots=(SILU_ROOT, SILU_ROOT / 1.7)),
        torch=Peer(build=_torch_swish, deviations=(_TORCH_NAN_AT_INF,), zero_signs=False),
        jax=Peer("nn.swish", args={"beta": None}, supports=_defaults_only("beta", 1.0)),
    ),
    Activation(
        "mish", "Mish: x * tanh(softplus(x)).", K.mish, K.mish_grad,
        formula=r"x \tanh(\log(1 + e^x))",
        derivative=r"\tanh(s) + x\,\sigma(x)\,(1 - \tanh^2 s),\ s = \log(1 + e^x)",
        kinks="mish(-inf) = -0, mish'(+-inf) = 1, 0 (torch: NaN)",
        example=">>> fastact.mish([-1.0, 1.0]).round(6)\narray([-0.303401,  0.865098])",
        kink_points=(),
        reference=Reference(_mish, _mish_d, _mp_mish, _mp_mish_d, roots=(-1.1924218457716086,)),
        torch=Peer("nn.functional.mish", deviations=(_TORCH_NAN_AT_INF,), zero_signs=False),
        jax=Peer("nn.mish"),
    ),
    Activation(
        "gelu", "Gaussian error linear unit, exact or with torch's tanh approximation.",
        K.gelu, K.gelu_grad,
        params=(Param("approximate", "none", kind="choice", choices=("none", "tanh")),),
        variants={"tanh": (K.gelu_tanh, K.gelu_tanh_grad)},
        formula=r"x\,\Phi(x) \quad\text{or}\quad \tfrac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}"
        r"\,(x + 0.044715 x^3)\right)\right)",
        derivative=r"\Phi(x) + x\,\varphi(x)",
        kinks="gelu(-inf) = -0, gelu'(+-inf) = 1, 0 (torch: NaN); the negative tail is computed "
        "without torch's 1 + erf cancellation",
        example=">>> fastact.gelu([-1.0, 1.0]).round(6)\narray([-0.158655,  0.841345])",
        kink_points=(),
        reference=Reference(_gelu, _gelu_d, lambda x: x * _mp_ncdf(x),
                            lambda x: _mp_ncdf(x) + x * _mp_npdf(x), roots=(-0.7517915241,)),
        variant_references={"tanh": Reference(
            _gelu_tanh, _gelu_tanh_d, lambda x: x * mp_sigmoid(_mp_gelu_tanh_z(x)),
            _mp_gelu_tanh_d, roots=(-0.7522333,))},
        torch=Peer("nn.functional.gelu", zero_signs=False, deviations=(Deviation(
            "torch: NaN at +-inf (both forms) and a NaN gradient of the tanh form from "
            "|x| ~ 1e12 (x**3 overflows); exact gelu(-0) is -0 in fastact (+0 in torch's "
            "float32)", at=_gelu_torch_skip),)),
        jax=Peer(build=_jax_gelu, tolerance=256.0, deviations=(Deviation(
            "JAX's tanh-form gradient is NaN where x**3 overflows; fastact: the limits",
            at=lambda x: np.abs(x) >= 1e12, part="backward"),)),
    ),
    Activation(
        "hardsigmoid", "Hard sigmoid: relu6(x + 3) / 6.", K.hardsigmoid, K.hardsigmoid_grad,
        formula=r"\min(\max(x + 3, 0), 6) / 6", derivative=r"\tfrac16\,\mathbb{1}[-3 < x < 3]",
        family=PIECEWISE_LINEAR, accuracy_ulp=1,
        kinks="the gradient 1/6 only on the open interval (-3, 3); 0 at NaN, as torch",
        example=">>> fastact.hardsigmoid([-4.0, 0.0, 4.0])\narray([0. , 0.5, 1. ])",
        kink_points=(-3.0, 3.0),
        reference=Reference(_hardsigmoid, _hardsigmoid_d, _mp_hardsigmoid,
                            mp_piecewise(_hardsigmoid_d)),
        torch=Peer("nn.functional.hardsigmoid", deviations=(Deviation(
            "torch's float64 gradient uses 1/6 rounded to float32; fastact: 1/6 in float64",
            expect=_sixth_in_float64, part="backward"),)),
        jax=Peer("nn.hard_sigmoid"),
    ),
    Activation(
        "hardswish", "Hard swish: x * relu6(x + 3) / 6.", K.hardswish, K.hardswish_grad,
        formula=r"x \min(\max(x + 3, 0), 6) / 6",
        derivative=r"0 \text{ if } x \le -3;\ x/3 + 1/2 \text{ if } x < 3;\ 1",
        family=PIECEWISE_LINEAR, accuracy_ulp=2,
        kinks="hardswish(x) = -0 for x <= -3 (-inf included; torch: NaN at -inf); "
        "gradient 0 at -3 and 1 at 3, as torch",
        example=">>> fastact.hardswish([-4.0, 1.0, 4.0])\n"
        "array([-0.        ,  0.66666667,  4.        ])",
        kink_points=(-3.0, 3.0),
        reference=Reference(_hardswish, _hardswish_d, _mp_hardswish, _mp_hardswish_d),
        torch=Peer("nn.functional.hardswish", deviations=(
            Deviation("torch: -inf * 0 = NaN at -inf; fastact: -0", at=_is_inf),
            Deviation("torch's SIMD loop gives a NaN gradient at NaN and its scalar tail loop "
                      "passes g; fastact: g", at=np.isnan, part="backward"))),
        jax=Peer("nn.hard_swish"),
    ),
    Activation(
        "hardshrink", "Hard shrinkage: zero on [-lambd, lambd], the identity outside.",
        K.hardshrink, K.hardshrink_grad,
        params=(Param("lambd", 0.5),),
        formula=r"x \text{ if } |x| > \lambda \text{ else } 0",
        derivative=r"\mathbb{1}[|x| > \lambda]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="the closed interval [-lambd, lambd] maps to +0 with gradient 0, as torch; NaN "
        "gives NaN, and gradient 0 (torch's vectorized loop)",
        result_grad=K.hardshrink_grad_result, result_check=_check_shrink_result,
        result_derivative=r"\mathbb{1}[y \ne 0] \quad (\lambda \ge 0)",
        example=">>> fastact.hardshrink([-1.0, 0.2, 0.7])\narray([-1. ,  0. ,  0.7])",
        kink_points=lambda p: (-p["lambd"], p["lambd"]),
        reference=Reference(_hardshrink, _hardshrink_d, mp_piecewise(_hardshrink),
                            mp_piecewise(_hardshrink_d), params=({}, {"lambd": 1.5})),
        torch=Peer("nn.functional.hardshrink", backward=_torch_hardshrink_backward,
                   deviations=(_TORCH_NAN_GRAD,)),
    ),
    Activation(
        "softshrink", "Soft shrinkage: x moved lambd towards zero, zero on [-lambd, lambd].",
        K.softshrink, K.softshrink_grad,
        params=(Param("lambd", 0.5),), check=_check_softshrink,
        formula=r"x - \lambda \text{ if } x > \lambda;\ x + \lambda \text{ if } x < -\lambda;"
        r"\ 0",
        derivative=r"\mathbb{1}[|x| > \lambda]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="the closed interval [-lambd, lambd] maps to +0 with gradient 0, as torch's "
        "vectorized loop; NaN gives NaN, and gradient 0; lambd < 0 is refused, as torch",
        result_grad=K.softshrink_grad_result,
        result_derivative=r"\mathbb{1}[y \ne 0]",
        example=">>> fastact.softshrink([-1.0, 0.2, 0.75])\narray([-0.5 ,  0.  ,  0.25])",
        kink_points=lambda p: (-p["lambd"], p["lambd"]),
        reference=Reference(_softshrink, _hardshrink_d, mp_piecewise(_softshrink),
                            mp_piecewise(_hardshrink_d), params=({}, {"lambd": 1.5})),
        torch=Peer("nn.functional.softshrink", backward=_torch_softshrink_backward,
                   deviations=(_TORCH_NAN_GRAD, Deviation(
                       "torch's scalar tail loop returns x * 0 on [-lambd, lambd] (-0 for "
                       "negative x); its vectorized loop and fastact +0",
                       expect=_positive_zero, part="forward"))),
    ),
    Activation(
        "tanhshrink", "Tanh shrinkage: x - tanh(x), accurate where the two cancel.",
        K.tanhshrink, K.tanhshrink_grad,
        formula=r"x - \tanh x", derivative=r"\tanh^2 x",
        kinks="smooth everywhere; near 0 computed without torch's x - tanh(x) cancellation; "
        "tanhshrink(-0) = -0 (torch: +0)",
        example=">>> fastact.tanhshrink([-1.0, 0.5]).round(6)\narray([-0.238406,  0.037883])",
        kink_points=(),
        reference=Reference(_tanhshrink, lambda x: np.tanh(x) ** 2, _mp_tanhshrink,
                            lambda x: mp.tanh(x) ** 2),
        torch=Peer("nn.functional.tanhshrink", zero_signs=False, deviations=(Deviation(
            "torch computes x - tanh(x) (and its autograd g - g (1 - tanh(x)**2)), which cancel "
            "for |x| < 1: all digits lost near 0; fastact is within 4 ULP of the exact value",
            at=lambda x: np.abs(x) < 1),)),
    ),
    Activation(
        "threshold", "Threshold: value where x <= threshold, x above.",
        K.threshold, K.threshold_grad,
        params=(Param("threshold"), Param("value")),
        formula=r"x \text{ if } x > t \text{ else } v",
        derivative=r"\mathbb{1}[x > t]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="threshold'(threshold) = 0 (torch's x <= threshold branch); NaN passes x, and the "
        "gradient g; both parameters are required, as torch's",
        example=">>> fastact.threshold([-1.0, 0.5, 2.0], 0.5, -3.0)\narray([-3., -3.,  2.])",
        kink_points=lambda p: (p["threshold"],),
        reference=Reference(_threshold, _threshold_d, mp_piecewise(_threshold),
                            mp_piecewise(_threshold_d),
                            params=({"threshold": 0.5, "value": -2.0},
                                    {"threshold": -1.0, "value": 3.0})),
        torch=Peer("nn.functional.threshold", backward=_torch_threshold_backward),
    ),
    Activation(
        "rrelu", "Randomized leaky ReLU: in training a slope drawn from [lower, upper) per "
        "element, otherwise their mean.",
        K.rrelu, K.rrelu_grad,
        params=(Param("lower", 1 / 8), Param("upper", 1 / 3),
                Param("training", False, kind="random")),
        kernel_scalars=_rrelu_slope, check=_check_rrelu,
        extra_kernels={"rrelu_noise": (K.rrelu_noise, 2)},
        formula=r"x \text{ if } x > 0 \text{ else } a x,\quad a \sim U[l, u) "
        r"\text{ (training) or } a = \tfrac{l + u}{2}",
        derivative=r"1 \text{ if } x > 0 \text{ else } a",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="rrelu'(0) = the slope (torch's branch); the slope (lower + upper) / 2 is rounded "
        "once to the dtype, as torch; training=True draws the slopes from generator= into "
        "noise=, which rrelu_grad takes (torch's rrelu_with_noise); NaN passes x",
        example=">>> fastact.rrelu([-1.0, 2.0], 0.25, 0.5)\narray([-0.375,  2.   ])",
        kink_points=(0.0,),
        reference=Reference(_rrelu, _rrelu_d, mp_piecewise(_rrelu), mp_piecewise(_rrelu_d),
                            params=({}, {"lower": 0.25, "upper": 0.5})),
        torch=Peer("nn.functional.rrelu", backward=_torch_rrelu_backward),
    ),
    Activation(
        "squareplus", "Squareplus: a softplus-like smooth ReLU from a square root.",
        K.squareplus, K.squareplus_grad,
        params=(Param("b", 4.0),), check=_check_squareplus,
        formula=r"\tfrac12 \left(x + \sqrt{x^2 + b}\right)",
        derivative=r"\tfrac12 \left(1 + \frac{x}{\sqrt{x^2 + b}}\right)",
        kinks="smooth for b > 0 (b = 0 is relu, with a NaN gradient at 0 as JAX's); the "
        "negative side as b / (2 (sqrt(x**2 + b) - x)), without JAX's cancellation; no overflow "
        "of x**2: the limits 0 and x (and gradients 0 and 1) at -inf and +inf; b < 0 is refused",
        example=">>> fastact.squareplus([-2.0, 0.0, 2.0]).round(6)\n"
        "array([0.414214, 1.      , 2.414214])",
        kink_points=(),
        reference=Reference(_squareplus, _squareplus_d, _mp_squareplus, _mp_squareplus_d,
                            params=({}, {"b": 0.25})),
        jax=Peer("nn.squareplus", deviations=(Deviation(
            "JAX computes x + sqrt(x**2 + b): it cancels for x < 0 (relative error ~x**2 / b, "
            "NaN at -inf, its gradient likewise), and x**2 overflows from |x| ~ 1.8e19 "
            "(float32; 1.3e154 float64), where JAX gives inf for x < 0 and a gradient of 1/2; "
            "fastact: accurate tails and the limits", at=lambda x: (x < -2) | (np.abs(x) > 1e18)),
        )),
    ),
    Activation(
        "sparse_plus", "Sparse plus: softplus's piecewise-quadratic twin, exactly 0 below -1.",
        K.sparse_plus, K.sparse_plus_grad,
        formula=r"0 \text{ if } x \le -1;\ \tfrac14 (x + 1)^2 \text{ if } x < 1;\ x",
        derivative=r"\tfrac12 \operatorname{clip}(x + 1, 0, 2)",
        family=PIECEWISE_LINEAR, accuracy_ulp=2,
        kinks="JAX's branches: 0 up to -1 (gradient 0 there), x from 1 (gradient 1); f' is "
        "continuous; the limits 0 and 1 of the gradient at -inf and +inf (JAX: NaN)",
        example=">>> fastact.sparse_plus([-2.0, 0.0, 2.0])\narray([0.  , 0.25, 2.  ])",
        kink_points=(-1.0, 1.0),
        reference=Reference(_sparse_plus, _sparse_sigmoid,
                            lambda x: mp.mpf(0) if x <= -1 else (x if x >= 1 else (x + 1) ** 2 / 4),
                            lambda x: mp.mpf(0) if x <= -1 else (mp.mpf(1) if x >= 1 else
                                                                 (x + 1) / 2)),
        jax=Peer("nn.sparse_plus", deviations=(Deviation(
            "JAX's gradient is NaN at +-inf ((x + 1) / 2 times 0 in its unused branch); "
            "fastact: the limits 0 and 1", at=np.isinf, part="backward"),)),
    ),
    Activation(
        "sparse_sigmoid", "Sparse sigmoid: 0 below -1, 1 above 1, linear between.",
        K.sparse_sigmoid, K.sparse_sigmoid_grad,
        formula=r"\tfrac12 \operatorname{clip}(x + 1, 0, 2)",
        derivative=r"\tfrac12\,\mathbb{1}[-1 < x < 1]",
        family=PIECEWISE_LINEAR, accuracy_ulp=1,
        kinks="the gradient is 1/2 on (-1, 1), 1/4 at -1 and 1 (JAX's clip splits a tie), 0 "
        "outside and at NaN, as JAX",
        example=">>> fastact.sparse_sigmoid([-2.0, 0.0, 0.5, 2.0])\n"
        "array([0.  , 0.5 , 0.75, 1.  ])",
        kink_points=(-1.0, 1.0),
        reference=Reference(_sparse_sigmoid, _sparse_sigmoid_d,
                            mp_piecewise(_sparse_sigmoid), mp_piecewise(_sparse_sigmoid_d)),
        jax=Peer("nn.sparse_sigmoid"),
    ),
    Activation(
        "squared_relu", "Squared ReLU: relu(x)**2 (Primer, So et al. 2021).",
        K.squared_relu, K.squared_relu_grad,
        formula=r"\max(x, 0)^2", derivative=r"2 \max(x, 0)",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="squared_relu'(0) = 0; +0 for x <= 0 (forward and gradient, as torch's relu(x)**2 "
        "and its autograd); NaN gives NaN",
        example=">>> fastact.squared_relu([-1.0, 0.5, 3.0])\narray([0.  , 0.25, 9.  ])",
        kink_points=(0.0,),
        reference=Reference(_squared_relu, _squared_relu_d, mp_piecewise(_squared_relu),
                            mp_piecewise(_squared_relu_d)),
        torch=Peer(build=_torch_squared_relu),
        jax=Peer(build=_jax_squared_relu, deviations=(Deviation(
            "JAX's relu passes a gradient of 0 at NaN; fastact (as torch): NaN", at=np.isnan,
            part="backward"),)),
    ),
    Activation(
        "quick_gelu", "Quick GELU: x * sigmoid(1.702 x), the sigmoid approximation of GELU "
        "(OpenAI CLIP).",
        K.quick_gelu, K.quick_gelu_grad,
        formula=r"x\,\sigma(1.702\,x)",
        derivative=r"\sigma(z)\,(1 + z\,\sigma(-z)),\ z = 1.702\,x",
        kinks="as silu; 1.702 x is formed with the exact constant (its float32 rounding error "
        "carried)",
        example=">>> fastact.quick_gelu([-1.0, 1.0]).round(6)\narray([-0.154204,  0.845796])",
        kink_points=(),
        reference=Reference(
            lambda x: _swish(x, QUICK_GELU_BETA), lambda x: _swish_d(x, QUICK_GELU_BETA),
            lambda x: _mp_swish(x, QUICK_GELU_BETA), lambda x: _mp_swish_d(x, QUICK_GELU_BETA),
            roots=(SILU_ROOT / QUICK_GELU_BETA,)),
        torch=Peer(build=_torch_quick_gelu, deviations=(_TORCH_NAN_AT_INF,), zero_signs=False),
        jax=Peer(build=_jax_quick_gelu),
    ),
    # -- gated: act(a) * b of the two halves of x along an axis, or of two arrays ----------------
    Activation(
        "glu", "Gated linear unit: the first half times the sigmoid of the second (torch, JAX).",
        K.glu, K.glu_grad, kind=GATED, gate="sigmoid", gate_input=1,
        fast_kernels={"glu": (K.glu_fast, K.glu_tail),
                      "glu_grad": (K.glu_grad_fast, K.glu_grad_tail)},
        formula=r"a\,\sigma(b)", derivative=r"\sigma(b),\ \ a\,\sigma(b)\,\sigma(-b)",
        kinks="smooth everywhere; the sigmoid is on the second input, as torch's and JAX's glu",
        example=">>> fastact.glu([[1.0, 2.0, 0.0, 3.0]]).round(6)\narray([[0.5     , 1.905148]])",
        kink_points=(),
        reference=_glu_ref(),
        torch=Peer(build=_torch_glu, split=_torch_glu_split, deviations=(Deviation(
            "torch's gradient forms sigmoid(b) (1 - sigmoid(b)), 0 where sigmoid(b) rounds to 1 "
            "(b > 17 in float32): a grad_up of 0 (NaN for an infinite a) where fastact gives "
            "the exact, tiny value (the limit for an infinite a)",
            at=lambda a, b: np.abs(b) > 15, part="backward"),)),
        jax=Peer(build=_jax_glu, split=_jax_glu_split),
    ),
    Activation(
        "swiglu", "SwiGLU: silu(gate) * up (LLaMA, Mistral, Qwen).",
        K.swiglu, K.swiglu_grad, kind=GATED, gate="silu",
        fast_kernels={"swiglu": (K.swiglu_fast, K.swiglu_tail),
                      "swiglu_grad": (K.swiglu_grad_fast, K.swiglu_grad_tail)},
        formula=r"\operatorname{silu}(a)\, b",
        derivative=r"b\,\operatorname{silu}'(a),\ \ \operatorname{silu}(a)",
        kinks="as silu in the gate: silu(-inf) = -0, so the product is a signed zero there "
        "(torch: NaN)",
        example=">>> fastact.swiglu([1.0, -1.0], [2.0, 2.0]).round(6)\n"
        "array([ 1.462117, -0.537883])",
        kink_points=(),
        reference=_gated_ref(_swish, _swish_d, _mp_swish, _mp_swish_d, roots=(SILU_ROOT,)),
        torch=Peer(build=_times_up(lambda torch, p: torch.nn.functional.silu, "F.silu(a) * b"),
                   deviations=(Deviation("torch's silu is NaN at +-inf; fastact: the limits",
                                         at=lambda a, b: np.isinf(a)),), zero_signs=False),
        jax=Peer(build=_times_up(lambda jax, p: jax.nn.silu, "jax.nn.silu(a) * b")),
    ),
    Activation(
        "geglu", "GeGLU: gelu(gate) * up (Gemma, T5 v1.1), exact or with the tanh GELU.",
        K.geglu, K.geglu_grad, kind=GATED, gate="gelu",
        fast_kernels={"geglu": (K.geglu_fast, K.geglu_tail),
                      "geglu_grad": (K.geglu_grad_fast, K.geglu_grad_tail)},
        params=(Param("approximate", "none", kind="choice", choices=("none", "tanh")),),
        variants={"tanh": (K.geglu_tanh, K.geglu_tanh_grad)},
        formula=r"\operatorname{gelu}(a)\, b",
        derivative=r"b\,\operatorname{gelu}'(a),\ \ \operatorname{gelu}(a)",
        kinks="as gelu in the gate (the limits at +-inf; torch: NaN)",
        example=">>> fastact.geglu([1.0, -1.0], [2.0, 2.0]).round(6)\n"
        "array([ 1.682689, -0.317311])",
        kink_points=(),
        reference=_gated_ref(_gelu, _gelu_d, lambda x: x * _mp_ncdf(x),
                             lambda x: _mp_ncdf(x) + x * _mp_npdf(x), roots=(-0.7517915241,)),
        variant_references={"tanh": _gated_ref(_gelu_tanh, _gelu_tanh_d,
                                               lambda x: x * mp_sigmoid(_mp_gelu_tanh_z(x)),
                                               _mp_gelu_tanh_d, roots=(-0.7522333,))},
        torch=Peer(
            build=_times_up(lambda torch, p: lambda t: torch.nn.functional.gelu(
                t, approximate=p["approximate"]), "F.gelu(a, approximate) * b"),
            zero_signs=False,
            deviations=(Deviation("torch's gelu is NaN at +-inf (and its tanh form's gradient "
                                  "from |x| ~ 1e12); fastact: the limits",
                                  at=lambda a, b: _gelu_torch_skip(a)),)),
        jax=Peer(
            build=_times_up(_jax_gelu, "jax.nn.gelu(a, approximate) * b"), tolerance=256.0,
            deviations=(
                Deviation("JAX's tanh-form gradient is NaN where x**3 overflows; fastact: the "
                          "limits", at=lambda a, b: np.abs(a) >= 1e12, part="backward"),
                Deviation("JAX's exact GELU loses relative accuracy in the negative tail (1e-13 "
                          "of the value below a = -10, where it is below 1e-22)",
                          at=lambda a, b: a < -10))),
    ),
    Activation(
        "reglu", "ReGLU: relu(gate) * up.",
        K.reglu, K.reglu_grad, kind=GATED, gate="relu",
        formula=r"\max(a, 0)\, b", derivative=r"b\,\mathbb{1}[a > 0],\ \ \max(a, 0)",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="relu's in the gate: the gate's gradient is +0 where a <= 0 (a = 0 included), as "
        "torch's autograd of relu(a) * b",
        example=">>> fastact.reglu([1.0, -1.0], [2.0, 2.0])\narray([2., 0.])",
        kink_points=(0.0,),
        reference=_gated_ref(_relu, _relu_d, lambda x: x if x > 0 else mp.mpf(0) * x,
                             lambda x: mp.mpf(1) if x > 0 else mp.mpf(0),
                             gate_grad=lambda a, b: np.where(a <= 0, 0.0, b)),
        torch=Peer(build=_times_up(lambda torch, p: torch.relu, "torch.relu(a) * b")),
        jax=Peer(
            build=_times_up(lambda jax, p: jax.nn.relu, "jax.nn.relu(a) * b"),
            deviations=(Deviation("JAX's relu passes a gradient of 0 at NaN; fastact (as "
                                  "torch): g b", at=lambda a, b: np.isnan(a), part="backward"),)),
    ),
    # -- axis-wise: a reduction along an axis, then a map -----------------------------------------
    Activation(
        "softmax", "Softmax along an axis: exp(x) / sum(exp(x)) (torch, JAX, scipy).",
        K.exp_shifted, K.softmax_grad_term, kind=AXISWISE, reduction="softmax", masks=True,
        formula=r"\frac{e^{x_i}}{\sum_j e^{x_j}}",
        derivative=r"y_i \left(g_i - \textstyle\sum_j g_j y_j\right)",
        result_derivative=r"y_i \left(g_i - \textstyle\sum_j g_j y_j\right)",
        kinks="smooth; a row with NaN or +inf, or of -inf only, gives NaN (as torch and JAX); "
        "where=False elements are left out and give 0 (as JAX)",
        example=">>> fastact.softmax([1.0, 2.0, 3.0]).round(6)\n"
        "array([0.090031, 0.244728, 0.665241])",
        kink_points=(),
        reference=Reference(_softmax_row, _softmax_row_d, _mp_softmax_row, _mp_softmax_row_d),
        torch=Peer("softmax", axis="dim", result_backward=_torch_softmax_backward),
        jax=Peer("nn.softmax", where="where"),
        scipy=Peer("special.softmax"),
    ),
    Activation(
        "log_softmax", "Log-softmax along an axis: x - logsumexp(x), accurate where exp(x) "
        "rounds (torch, JAX, scipy).",
        K.log_softmax_term, K.log_softmax_grad_term, kind=AXISWISE, reduction="softmax",
        log=True, masks=True,
        formula=r"x_i - \log \textstyle\sum_j e^{x_j}",
        derivative=r"g_i - \operatorname{softmax}(x)_i \textstyle\sum_j g_j",
        result_derivative=r"g_i - e^{y_i} \textstyle\sum_j g_j",
        kinks="smooth; log(sum) is log1p of the terms below the maximum, so the maximum's "
        "result keeps its digits where the rest is tiny; a row with NaN or +inf, or of -inf "
        "only, gives NaN (as torch); where=False elements give -inf (as JAX)",
        example=">>> fastact.log_softmax([1.0, 2.0, 3.0]).round(6)\n"
        "array([-2.407606, -1.407606, -0.407606])",
        kink_points=(),
        reference=Reference(_log_softmax_row, _log_softmax_row_d, _mp_log_softmax_row,
                            _mp_log_softmax_row_d),
        torch=Peer("log_softmax", axis="dim", result_backward=_torch_log_softmax_backward),
        jax=Peer("nn.log_softmax", where="where"),
        scipy=Peer("special.log_softmax"),
    ),
    Activation(
        "softmin", "Softmin along an axis: softmax(-x) (torch).",
        K.exp_shifted, K.softmax_grad_term, kind=AXISWISE, reduction="softmax", sign=-1.0,
        masks=True,
        formula=r"\frac{e^{-x_i}}{\sum_j e^{-x_j}}",
        derivative=r"-y_i \left(g_i - \textstyle\sum_j g_j y_j\right)",
        result_derivative=r"-y_i \left(g_i - \textstyle\sum_j g_j y_j\right)",
        kinks="as softmax of -x",
        example=">>> fastact.softmin([1.0, 2.0, 3.0]).round(6)\n"
        "array([0.665241, 0.244728, 0.090031])",
        kink_points=(),
        reference=Reference(lambda x: _softmax_row(x, -1.0),
                            lambda x, g: _softmax_row_d(x, g, -1.0),
                            lambda x: _mp_softmax_row(x, -1),
                            lambda x, g: _mp_softmax_row_d(x, g, -1)),
        torch=Peer("nn.functional.softmin", axis="dim"),
    ),
    Activation(
        "logsumexp", "Log of the sum of exponentials along an axis, without overflow (torch, "
        "JAX, scipy).",
        K.exp_shifted, K.logsumexp_grad_term, kind=AXISWISE, reduction="logsumexp",
        masks=True, reduces=True,
        formula=r"\log \textstyle\sum_j e^{x_j}",
        derivative=r"g\,\operatorname{softmax}(x)_i",
        result_derivative=r"g\,e^{x_i - y}",
        kinks="smooth; a row of -inf gives -inf, a row with +inf gives +inf (as torch and "
        "scipy), NaN gives NaN; an empty row gives -inf; where=False elements are left out",
        example=">>> round(float(fastact.logsumexp([1.0, 2.0, 3.0])), 6)\n3.407606",
        kink_points=(),
        reference=Reference(_logsumexp_row, _logsumexp_row_d, _mp_logsumexp_row,
                            _mp_logsumexp_row_d),
        torch=Peer("logsumexp", axis="dim"),
        jax=Peer("nn.logsumexp", where="where"),
        scipy=Peer("special.logsumexp"),
    ),
    Activation(
        "sparsemax", "Sparsemax along an axis: the Euclidean projection onto the simplex, "
        "sparse where softmax is not (Martins & Astudillo 2016, as Keras).",
        K.sparsemax_term, K.sparsemax_grad_term, kind=AXISWISE, reduction="sparsemax",
        family=PIECEWISE_LINEAR,
        formula=r"\max(x_i - \tau(x), 0),\ \textstyle\sum_i \max(x_i - \tau, 0) = 1",
        derivative=r"\mathbb{1}[y_i > 0] \left(g_i - \operatorname{mean}_{y_j > 0} g_j\right)",
        result_derivative=r"\mathbb{1}[y_i > 0] \left(g_i - \operatorname{mean}_{y_j > 0} "
        "g_j\\right)",
        kinks="the threshold tau is exact to a few ULP of the row's maximum, so a result near 0 "
        "is accurate to that (absolute) size; the gradient counts y > 0 as the support; a row "
        "with NaN or +inf, or of -inf only, gives NaN",
        example=">>> fastact.sparsemax([1.0, 1.5, 0.0])\narray([0.25, 0.75, 0.  ])",
        kink_points=(),
        reference=Reference(_sparsemax_row, _sparsemax_row_d, _mp_sparsemax_row,
                            _mp_sparsemax_row_d),
    ),
]

#: name -> Activation, read-only. Every public function and backend is generated from it.
ACTIVATIONS: Mapping[str, Activation] = MappingProxyType({a.name: a for a in _ACTIVATIONS})


def of_kind(kind: str) -> Mapping[str, Activation]:
    """The entries of one kind (:data:`ELEMENTWISE`, :data:`GATED`, :data:`AXISWISE`), in the
    registry's order."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    return MappingProxyType({n: a for n, a in ACTIVATIONS.items() if a.kind == kind})
