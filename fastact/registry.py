"""The activation catalog: one entry per activation, from which everything else is generated.

An entry names the activation, its parameters (torch.nn.functional's names and defaults), its scalar
forward and gradient kernels from :mod:`fastact.kernels`, its formulas (LaTeX, for the docs), the
convention at its kinks and its accuracy class. The public functions (``fastact.relu``,
``fastact.relu_grad``, ...), the ufuncs in :mod:`fastact.ufuncs` and every backend are built from
these entries; the tests are driven by them. Adding an activation = one kernel pair in
``kernels/`` + one entry here + one row in the tests' reference table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from . import kernels as K

#: Marks a parameter without a default (prelu's ``weight``).
REQUIRED = object()

PIECEWISE_LINEAR = "piecewise-linear"
TRANSCENDENTAL = "transcendental"


@dataclass(frozen=True)
class Param:
    """One parameter of an activation: its name and default, as in torch.nn.functional."""

    name: str
    default: object = REQUIRED
    #: "real": a real scalar passed to the kernels; "choice": selects a kernel variant;
    #: "weight": prelu's scalar-or-per-channel array.
    kind: str = "real"
    choices: tuple[str, ...] = ()


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
    #: further element-wise kernels the activation needs: ufunc name -> (kernel, inputs)
    extra_kernels: Mapping[str, tuple[Callable, int]] = field(default_factory=dict)
    #: gradient kernel taking the output ``y = f(x)`` instead of ``x`` (``_grad(..., result=y)``),
    #: where f' is a function of f; None where it is not
    result_grad: Callable | None = None
    #: f' as a function of the output y (LaTeX), for the docs
    result_derivative: str = ""
    #: raises ValueError for parameter values where the output does not determine f'
    result_check: Callable[[dict], None] | None = None

    @cached_property
    def real_params(self) -> tuple[Param, ...]:
        """The parameters passed to the kernels, in order."""
        return tuple(p for p in self.params if p.kind == "real")

    @cached_property
    def choice(self) -> Param | None:
        return next((p for p in self.params if p.kind == "choice"), None)

    def kernels(self, params: Mapping[str, object]) -> tuple[str, Callable, Callable]:
        """(ufunc name, forward kernel, grad kernel) for these parameter values."""
        choice = self.choice
        if choice is None or params[choice.name] == choice.default:
            return self.name, self.forward, self.grad
        value = params[choice.name]
        fwd, grad = self.variants[value]
        return f"{self.name}_{value}", fwd, grad

    def ufunc_kernels(self) -> dict[str, tuple[Callable, int]]:
        """Every ufunc this activation needs: name -> (kernel, number of inputs)."""
        n = len(self.real_params) + (1 if any(p.kind == "weight" for p in self.params) else 0)
        pairs = {self.name: (self.forward, self.grad)}
        for value, pair in self.variants.items():
            pairs[f"{self.name}_{value}"] = pair
        out = {}
        for name, (fwd, grad) in pairs.items():
            out[name] = (fwd, 1 + n)
            out[f"{name}_grad"] = (grad, 2 + n)
        if self.result_grad is not None:
            out[f"{self.name}_grad_result"] = (self.result_grad, 2 + n)
        out.update(self.extra_kernels)
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


_ACTIVATIONS = [
    Activation(
        "relu", "Rectified linear unit.", K.relu, K.relu_grad,
        formula=r"\max(x, 0)", derivative=r"\mathbb{1}[x > 0]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0, keeps_integers=True,
        kinks="relu'(0) = 0; relu(-0.0) = -0.0; NaN -> NaN, and the gradient at NaN passes g",
        result_grad=K.relu_grad, result_derivative=r"\mathbb{1}[y > 0]",
        example=">>> fastact.relu([-1.5, 0.0, 2.0])\narray([0., 0., 2.])",
    ),
    Activation(
        "relu6", "ReLU capped at 6: hardtanh(x, 0, 6).", K.relu6, K.relu6_grad,
        formula=r"\min(\max(x, 0), 6)", derivative=r"\mathbb{1}[0 < x < 6]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0,
        kinks="the gradient passes only strictly inside (0, 6)",
        result_grad=K.relu6_grad, result_derivative=r"\mathbb{1}[0 < y < 6]",
        example=">>> fastact.relu6([-1.0, 3.0, 7.0])\narray([0., 3., 6.])",
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
    ),
    Activation(
        "hardtanh", "Hard tanh: x clipped to [min_val, max_val].", K.hardtanh, K.hardtanh_grad,
        params=(Param("min_val", -1.0), Param("max_val", 1.0)),
        formula=r"\min(\max(x, a), b)", derivative=r"\mathbb{1}[a < x < b]",
        family=PIECEWISE_LINEAR, accuracy_ulp=0, check=_check_hardtanh,
        kinks="the gradient passes only strictly inside (min_val, max_val)",
        result_grad=K.hardtanh_grad, result_derivative=r"\mathbb{1}[a < y < b]",
        example=">>> fastact.hardtanh([-3.0, 0.5, 3.0])\narray([-1. ,  0.5,  1. ])",
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
    ),
    Activation(
        "selu", "Scaled ELU (self-normalizing networks).", K.selu, K.selu_grad,
        formula=r"\lambda (x \text{ if } x > 0 \text{ else } \alpha (e^x - 1))",
        derivative=r"\lambda \text{ if } x > 0 \text{ else } \lambda \alpha e^x",
        kinks="selu'(0) = scale * alpha (torch's x <= 0 branch)",
        result_grad=K.selu_grad_result,
        result_derivative=r"\lambda \text{ if } y > 0 \text{ else } y + \lambda \alpha",
        example=">>> fastact.selu([-1.0, 1.0]).round(6)\narray([-1.111331,  1.050701])",
    ),
    Activation(
        "sigmoid", "Logistic sigmoid.", K.sigmoid, K.sigmoid_grad,
        formula=r"\frac{1}{1 + e^{-x}}", derivative=r"\sigma(x)\,\sigma(-x)",
        result_grad=K.sigmoid_grad_result, result_derivative=r"y\,(1 - y)",
        example=">>> fastact.sigmoid([0.0, 2.0]).round(6)\narray([0.5     , 0.880797])",
    ),
    Activation(
        "logsigmoid", "Log of the sigmoid, without overflow.", K.logsigmoid, K.logsigmoid_grad,
        formula=r"-\log(1 + e^{-x})", derivative=r"\sigma(-x)",
        example=">>> fastact.logsigmoid([0.0, -100.0]).round(6)\narray([  -0.693147, -100.      ])",
    ),
    Activation(
        "tanh", "Hyperbolic tangent.", K.tanh, K.tanh_grad,
        formula=r"\tanh x", derivative=r"1 - \tanh^2 x",
        result_grad=K.tanh_grad_result, result_derivative=r"1 - y^2",
        example=">>> fastact.tanh([0.0, 1.0]).round(6)\narray([0.      , 0.761594])",
    ),
    Activation(
        "softsign", "Softsign.", K.softsign, K.softsign_grad,
        formula=r"\frac{x}{1 + |x|}", derivative=r"\frac{1}{(1 + |x|)^2}",
        kinks="softsign(+-inf) = +-1 (torch: NaN)",
        result_grad=K.softsign_grad_result, result_derivative=r"(1 - |y|)^2",
        example=">>> fastact.softsign([-1.0, 3.0])\narray([-0.5 ,  0.75])",
    ),
    Activation(
        "softplus", "Softplus, linear above the threshold (as torch).", K.softplus,
        K.softplus_grad,
        params=(Param("beta", 1.0), Param("threshold", 20.0)), check=_check_softplus,
        formula=r"x \text{ if } \beta x > t \text{ else } \frac{1}{\beta}\log(1 + e^{\beta x})",
        derivative=r"1 \text{ if } \beta x > t \text{ else } \sigma(\beta x)",
        kinks="linear (x, gradient 1) where beta * x > threshold, exactly as torch",
        example=">>> fastact.softplus([0.0, 30.0]).round(6)\narray([ 0.693147, 30.      ])",
    ),
    Activation(
        "silu", "Sigmoid-weighted linear unit (swish with beta = 1).", K.silu, K.silu_grad,
        formula=r"x\,\sigma(x)", derivative=r"\sigma(x)\,(1 + x\,\sigma(-x))",
        kinks="silu(-inf) = -0, silu'(+-inf) = 1, 0 (torch: NaN)",
        example=">>> fastact.silu([-1.0, 1.0]).round(6)\narray([-0.268941,  0.731059])",
    ),
    Activation(
        "swish", "Swish: x * sigmoid(beta * x); swish(x, 1) == silu(x).", K.swish, K.swish_grad,
        params=(Param("beta", 1.0),),
        formula=r"x\,\sigma(\beta x)",
        derivative=r"\sigma(\beta x)\,(1 + \beta x\,\sigma(-\beta x))",
        kinks="as silu",
        example=">>> fastact.swish([-1.0, 1.0], 2.0).round(6)\narray([-0.119203,  0.880797])",
    ),
    Activation(
        "mish", "Mish: x * tanh(softplus(x)).", K.mish, K.mish_grad,
        formula=r"x \tanh(\log(1 + e^x))",
        derivative=r"\tanh(s) + x\,\sigma(x)\,(1 - \tanh^2 s),\ s = \log(1 + e^x)",
        kinks="mish(-inf) = -0, mish'(+-inf) = 1, 0 (torch: NaN)",
        example=">>> fastact.mish([-1.0, 1.0]).round(6)\narray([-0.303401,  0.865098])",
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
    ),
    Activation(
        "hardsigmoid", "Hard sigmoid: relu6(x + 3) / 6.", K.hardsigmoid, K.hardsigmoid_grad,
        formula=r"\min(\max(x + 3, 0), 6) / 6", derivative=r"\tfrac16\,\mathbb{1}[-3 < x < 3]",
        family=PIECEWISE_LINEAR, accuracy_ulp=1,
        kinks="the gradient 1/6 only on the open interval (-3, 3); 0 at NaN, as torch",
        example=">>> fastact.hardsigmoid([-4.0, 0.0, 4.0])\narray([0. , 0.5, 1. ])",
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
    ),
]

#: name -> Activation, read-only. Every public function and backend is generated from it.
ACTIVATIONS: Mapping[str, Activation] = MappingProxyType({a.name: a for a in _ACTIVATIONS})
