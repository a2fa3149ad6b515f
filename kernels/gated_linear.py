"""Gated linear units: ``act(a) * b`` of two inputs (a gate and an "up" projection), each with a
gradient kernel returning both partial derivatives ``(g * b * act'(a), g * act(a))``.

glu is torch's and JAX's: ``a * sigmoid(b)``, the sigmoid on the *second* input. swiglu, geglu
(exact and tanh forms) and reglu are ``act(gate) * up`` with the catalog's own silu, gelu and relu
math (the same kernels, or their float64 evaluations for float32).

float32 keeps the product's accuracy where act(a) alone would underflow (silu(a) for a < -87,
gelu(a) for a < -13: a large b still makes the product a normal number): glu and swiglu evaluate
``x sigmoid(z)`` in float32 up to the exponential's power of two (``sigmoid_parts32``), then
apply that power (and swiglu's factor b, in float64) with one rounding; geglu and the gradients'
gate terms evaluate act in float64 at float32 accuracy (``gelu_wide``, ``gelu_tanh_wide``, the
lean gradients), multiply in float64 (a float32 product is exact there) and round once. Measured
errors: docs/accuracy.md. float64 forms are act(a), rounded, times b (within the float64 bound
but for act(a) below the float64 normals: |a| > 708 for silu, > 37 for gelu). reglu is exact in
its own dtype (one rounding).
"""

import numpy as np

from ._bits import fma, scale_pow2, scale_pow2_neg, sign_select
from ._jit import kernel
from ._math import exp_neg_sq, pow2_wide, scale_pow2_far32, sigmoid_parts32, two_prod
from .gated import (
    _gelu_from,
    _gelu_grad_from,
    _half_erfc_scaled,
    _swish_grad_wide,
    _swish_grad_z,
    gelu_grad_parts32,
    gelu_tail_parts32,
    gelu_tanh,
    gelu_tanh_grad64,
    gelu_tanh_grad_wide,
    gelu_tanh_wide,
    gelu_wide,
    silu,
)
from .rectifier import relu
from .sigmoidal import scaled_sigmoid, sigmoid_grad, sigmoid_grad_wide

f32, f64 = np.float32, np.float64


def _glu32(a, b):
    s, kf = sigmoid_parts32(b)
    return scale_pow2_far32(a * s, kf)  # a sigmoid(b), rounded once (a s: subnormal only where
    # the result is)


@kernel.by_dtype(float32=_glu32)
def glu(a, b):
    """a * sigmoid(b) (torch's and JAX's glu: the first half times the sigmoid of the second)."""
    return scaled_sigmoid(a, b)


def _glu_grad32(g, a, b):
    s, kf = sigmoid_parts32(b)
    return scale_pow2_far32(g * s, kf), f32(f64(g) * f64(a) * sigmoid_grad_wide(f64(b)))


@kernel.by_dtype(float32=_glu_grad32)
def glu_grad(g, a, b):
    """(g sigmoid(b), g a sigmoid(b) sigmoid(-b))."""
    return scaled_sigmoid(g, b), sigmoid_grad(g * a, b)


@kernel
def _silu_times32(a, c):
    """silu(a) * c for float32 ``a``, ``c``: silu's float32 evaluation before its power of two,
    the factor and the power of two in float64, one rounding; silu(-inf) = -0 (so -0 c)."""
    s, kf = sigmoid_parts32(a)
    y = f32(f64(a) * f64(s) * f64(c) * pow2_wide(kf))  # a s c exactly (a subnormal a included)
    return f32(-0.0) * c if a == f32(-np.inf) else y


def _swiglu32(a, b):
    return _silu_times32(a, b)


@kernel.by_dtype(float32=_swiglu32)
def swiglu(a, b):
    """silu(a) * b."""
    return silu(a) * b


def _swiglu_grad32(g, a, b):
    return f32(f64(g) * f64(b) * _swish_grad_wide(f64(a))), _silu_times32(a, g)


@kernel.by_dtype(float32=_swiglu_grad32)
def swiglu_grad(g, a, b):
    """(g b silu'(a), g silu(a))."""
    return (g * b) * _swish_grad_z(a, 0.0), g * silu(a)  # silu_grad's float64 form


def _geglu32(a, b):
    return f32(gelu_wide(f64(a))[0] * f64(b))


@kernel.by_dtype(float32=_geglu32)
def geglu(a, b):
    """gelu(a) * b (exact GELU)."""
    return _gelu_from(a, exp_neg_sq(a, 0.5), _half_erfc_scaled(a)) * b  # gelu's float64 form


def _geglu_grad32(g, a, b):
    y, dy = gelu_wide(f64(a))
    return f32(f64(g) * f64(b) * dy), f32(f64(g) * y)


@kernel.by_dtype(float32=_geglu_grad32)
def geglu_grad(g, a, b):
    """(g b gelu'(a), g gelu(a))."""
    q, h = exp_neg_sq(a, 0.5), _half_erfc_scaled(a)  # gelu's and gelu''s float64 forms, shared
    return _gelu_grad_from(g * b, a, q, h), g * _gelu_from(a, q, h)


def _geglu_tanh32(a, b):
    return f32(gelu_tanh_wide(f64(a)) * f64(b))


@kernel.by_dtype(float32=_geglu_tanh32)
def geglu_tanh(a, b):
    """gelu_tanh(a) * b (torch's tanh approximation of GELU)."""
    return gelu_tanh(a) * b


def _geglu_tanh_grad32(g, a, b):
    d = f64(a)
    return (f32(f64(g) * f64(b) * gelu_tanh_grad_wide(d)),
            f32(f64(g) * gelu_tanh_wide(d)))


@kernel.by_dtype(float32=_geglu_tanh_grad32)
def geglu_tanh_grad(g, a, b):
    """(g b gelu_tanh'(a), g gelu_tanh(a))."""
    return gelu_tanh_grad64(g * b, a), g * gelu_tanh(a)


# -- the fast float32 forms and where they hold ------------------------------------------------
#
# float32 only. The float32 loops run a gated kernel in chunks: ``<kernel>_tail`` over a chunk,
# then the chunk through ``<kernel>_fast`` where no element is in the tail, else through the
# kernel itself. The fast forms skip the float64 steps (float32 arithmetic, the exponential's power
# of two applied in float32) and are within the activation's bound outside the tails (measured:
# tests/test_gated.py, docs/accuracy.md); the tails are where the gate's exponential or Gaussian
# leaves the float32 normals, where the inputs' float32 product could overflow, NaN and the
# infinities. float64 loops run the kernel itself.

#: |z| below which exp(-|z|) is a normal float32 with room to spare (z: the sigmoid's argument)
GATED_FAST_Z32 = 80.0
#: |a b| below which swiglu's float32 product a b is formed without overflow
GATED_FAST_PRODUCT32 = 2.0**120
#: |a| up to which float32 GELU's rational fit holds (gated.GELU_V_MAX)
GATED_FAST_GELU32 = 14.5


@kernel
def glu_tail(a, b):
    """Whether (a, b) is in glu_fast's tail (float32)."""
    return not abs(b) < f32(GATED_FAST_Z32)  # NaN included


@kernel
def glu_fast(a, b):
    """glu for float32 (a, b) outside glu_tail, in float32 arithmetic."""
    return scaled_sigmoid(a, b)  # a as the numerator's factor of one quotient


@kernel
def swiglu_tail(a, b):
    """Whether (a, b) is in swiglu_fast's tail (float32)."""
    return not (abs(a) < f32(GATED_FAST_Z32) and abs(a * b) < f32(GATED_FAST_PRODUCT32))


@kernel
def swiglu_fast(a, b):
    """swiglu for float32 (a, b) outside swiglu_tail, in float32 arithmetic."""
    return scaled_sigmoid(a * b, a)  # (a b) sigmoid(a)


@kernel
def geglu_tail(a, b):
    """Whether (a, b) is in geglu_fast's tail (float32)."""
    return not (abs(a) <= f32(GATED_FAST_GELU32) and abs(b) < f32(GATED_FAST_PRODUCT32))


@kernel
def _gelu_times_fast32(a, c):
    """gelu(a) * c for float32 ``a`` (|a| <= GATED_FAST_GELU32) and ``c`` (|c| <
    GATED_FAST_PRODUCT32) in float32 arithmetic, with one rounding after float32 GELU's
    evaluation (gated.gelu_tail_parts32: |a| Phi(-|a|) = t = w 2**k), as a float64 evaluation
    of the rest would give it: for a < 0 and -0.0, -(w c) 2**k (w c rounds once; the power of
    two is exact, or rounds once more into the subnormals); for a >= 0, a - t = s + e exactly
    (Fast2Sum: a >= t), then s c + e c in one FMA (e c is below 2**-24 of s c: its own rounding
    is far below)."""
    w, kf = gelu_tail_parts32(a)
    lo = -scale_pow2(w * c, kf)  # |w c| < 2**123: no overflow before the power of two
    t = scale_pow2_neg(w, kf)
    s = a - t
    hi = fma(s, c, ((a - s) - t) * c) if c != f32(0) else s * c  # (s c's signed zero)
    return sign_select(a, lo, hi)  # -0.0: lo, -(0 c)


@kernel
def geglu_fast(a, b):
    """geglu for float32 (a, b) outside geglu_tail, in float32 arithmetic."""
    return _gelu_times_fast32(a, b)


@kernel
def glu_grad_tail(g, a, b):
    """Whether (g, a, b) is in glu_grad_fast's tail (float32)."""
    return not (abs(b) < f32(GATED_FAST_Z32) and abs(g * a) < f32(GATED_FAST_PRODUCT32))


@kernel
def glu_grad_fast(g, a, b):
    """glu_grad for float32 (g, a, b) outside glu_grad_tail."""
    # grad_a g sigmoid(b) as one quotient; grad_b as the exact form (sigmoid' in float64: in
    # float32 its product with g a takes five roundings)
    return scaled_sigmoid(g, b), f32(f64(g) * f64(a) * sigmoid_grad_wide(f64(b)))


@kernel
def swiglu_grad_tail(g, a, b):
    """Whether (g, a, b) is in swiglu_grad_fast's tail (float32)."""
    return not (abs(a) < f32(GATED_FAST_Z32) and abs(g * a) < f32(GATED_FAST_PRODUCT32))


@kernel
def swiglu_grad_fast(g, a, b):
    """swiglu_grad for float32 (g, a, b) outside swiglu_grad_tail."""
    # grad_up g silu(a) = (g a) sigmoid(a) as one quotient; grad_gate as the exact form (silu' in
    # float64: its root cancels in float32)
    return f32(f64(g) * f64(b) * _swish_grad_wide(f64(a))), scaled_sigmoid(g * a, a)


@kernel
def geglu_grad_tail(g, a, b):
    """Whether (g, a, b) is in geglu_grad_fast's tail (float32)."""
    return not (abs(a) <= f32(GATED_FAST_GELU32) and abs(g) < f32(GATED_FAST_PRODUCT32)
                and abs(g * b) < f32(GATED_FAST_PRODUCT32))


@kernel
def geglu_grad_fast(g, a, b):
    """geglu_grad for float32 (g, a, b) outside geglu_grad_tail, in float32 arithmetic: float32
    GELU's gradient up to its power of two (gelu_grad_parts32: c = w 2**k, gelu'(a) = c for
    a < 0, 1 - c otherwise), then g b gelu'(a) with one rounding after c's, as the float64
    product would give it: g b = p + pe exactly (an FMA), for a < 0 (p w + pe w) 2**k, the power
    of two applied last; for a >= 0, 1 - c = d + de exactly (Fast2Sum: |c| <= 1), then
    p d + (pe d + p de) with the small terms' roundings far below the last FMA's. grad_up:
    _gelu_times_fast32."""
    w, kf = gelu_grad_parts32(a)
    p, pe = two_prod(g, b)
    lo = scale_pow2(fma(p, w, pe * w), kf)
    c = scale_pow2_neg(w, kf)
    d = f32(1) - c
    hi = fma(p, d, fma(pe, d, p * ((f32(1) - d) - c)))
    # a zero g b: its signed zero times gelu'(a) (the sums above could turn -0 into +0)
    gate = sign_select(a, lo, hi) if p != f32(0) else p * sign_select(a, c, d)
    return gate, _gelu_times_fast32(a, g)


@kernel
def reglu(a, b):
    """relu(a) * b, rounded once."""
    return relu(a) * b


@kernel
def reglu_grad(g, a, b):
    """(g b where a > 0 else +0, g relu(a)): torch's autograd of relu(a) * b (threshold_backward:
    +0 where a <= 0, g b at NaN)."""
    return (type(g)(0) if a <= type(a)(0) else g * b), g * relu(a)


#: this family's public kernels, re-exported by fastact.kernels
__all__ = [
    "geglu",
    "geglu_fast",
    "geglu_grad",
    "geglu_grad_fast",
    "geglu_grad_tail",
    "geglu_tail",
    "geglu_tanh",
    "geglu_tanh_grad",
    "glu",
    "glu_fast",
    "glu_grad",
    "glu_grad_fast",
    "glu_grad_tail",
    "glu_tail",
    "reglu",
    "reglu_grad",
    "swiglu",
    "swiglu_fast",
    "swiglu_grad",
    "swiglu_grad_fast",
    "swiglu_grad_tail",
    "swiglu_tail",
]
