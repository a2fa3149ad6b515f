"""Reference values for every activation: float64 NumPy/SciPy formulas and mpmath.

Each row gives, for one activation:
- ``f(x, **p)`` and ``df(x, **p)``: float64 NumPy/SciPy, vectorized, accurate to a few float64 ULP
  on every float32 input (stable formulations: expit, log_expit, ndtr); used to check float32.
- ``mf(x, **p)`` and ``mdf(x, **p)``: mpmath at 50 digits on an exact float64 input; used to check
  float64.
- ``params``: the parameter sets to test (defaults first).
- ``roots``: zeros of f' (near them the gradient's ULP error is meaningless; an absolute bound is
  used instead).
- ``smooth``: intervals where f is smooth enough for a central-difference check of f'.

Conventions at kinks and special values are torch's, and at +-inf the mathematical limits (see the
README's deviations table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mpmath as mp
import numpy as np
from scipy import special as sp

mp.mp.dps = 50
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
KAPPA = 0.044715  # torch's constant, as the float64 it is in every implementation
MP_BETA2 = 2 * mp.sqrt(2 / mp.pi)
INF = math.inf


def _limits(x, y, neg, pos):
    """y with its values at x = -inf / +inf replaced by the limits."""
    y = np.where(x == -INF, neg, y)
    return np.where(x == INF, pos, y)


def _npdf(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


@dataclass
class Ref:
    f: object
    df: object
    mf: object
    mdf: object
    params: list = field(default_factory=lambda: [{}])
    roots: tuple = ()
    smooth: tuple = ((-30.0, 30.0),)


def _mp_sig(z):
    return 1 / (1 + mp.exp(-z))


def _mp_ncdf(x):
    if abs(x) > 1e6:  # mpmath's erfc overflows on huge arguments; the limits are exact here
        return mp.mpf(0) if x < 0 else mp.mpf(1)
    return mp.erfc(-x / mp.sqrt(2)) / 2


def _mp_npdf(x):
    if abs(x) > 1e6:
        return mp.mpf(0)
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


def _mp_piecewise(f):
    """mpmath version of an exact piecewise-linear numpy formula (evaluated in float64)."""
    return lambda x, **p: mp.mpf(float(f(np.float64(x), **p)))


def _relu(x):
    return np.where(x < 0, 0.0, x)


def _relu_d(x):
    return np.where(x <= 0, 0.0, 1.0)


def _hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.where(x < min_val, min_val, np.where(x > max_val, max_val, x))


def _hardtanh_d(x, min_val=-1.0, max_val=1.0):
    # only strictly inside (min_val, max_val): 0 at NaN (see README, "Deviations")
    return np.where((x > min_val) & (x < max_val), 1.0, 0.0)


def _leaky(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope)


def _leaky_d(x, negative_slope=0.01):
    return np.where(x > 0, 1.0, negative_slope)


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
    return mp.mpf(1) if float(x) * beta > threshold else _mp_sig(x * beta)


def _swish(x, beta=1.0):
    return _limits(x, x * sp.expit(beta * x), -0.0, INF)


def _swish_d(x, beta=1.0):
    z = beta * x
    return _limits(x, sp.expit(z) * (1 + z * sp.expit(-z)), 0.0, 1.0)


def _mish(x):
    return _limits(x, x * np.tanh(np.logaddexp(0.0, x)), -0.0, INF)


def _mish_d(x):
    t = np.tanh(np.logaddexp(0.0, x))
    return _limits(x, t + x * sp.expit(x) * (1 - t * t), 0.0, 1.0)


def _mp_mish(x):
    return x * mp.tanh(mp.log1p(mp.exp(x)))


def _mp_mish_d(x):
    t = mp.tanh(mp.log1p(mp.exp(x)))
    return t + x * _mp_sig(x) * (1 - t * t)


def _gelu(x):
    return _limits(x, x * sp.ndtr(x), -0.0, INF)


def _gelu_d(x):
    return _limits(x, sp.ndtr(x) + x * _npdf(x), 0.0, 1.0)


def _gelu_tanh_z(x):
    return 2 * math.sqrt(2 / math.pi) * (x + KAPPA * x**3)


def _gelu_tanh(x):
    return _limits(x, x * sp.expit(_gelu_tanh_z(x)), -0.0, INF)


def _gelu_tanh_d(x):
    z = _gelu_tanh_z(x)
    dz = 2 * math.sqrt(2 / math.pi) * (1 + 3 * KAPPA * x * x)
    d = sp.expit(z) + x * sp.expit(z) * sp.expit(-z) * dz
    return _limits(x, np.where(np.abs(x) > 1e10, np.where(x > 0, 1.0, 0.0), d), 0.0, 1.0)


def _mp_gelu_tanh_z(x):
    return MP_BETA2 * (x + mp.mpf(KAPPA) * x**3)


def _hardsigmoid(x):
    y = x + 3
    return np.where(y < 0, 0.0, np.where(y > 6, 1.0, y / 6))


def _hardsigmoid_d(x):
    return np.where((x > -3) & (x < 3), 1 / 6, 0.0)


def _hardswish(x):
    return np.where(x <= -3, -0.0, np.where(x >= 3, x, x * (x + 3) / 6))


def _hardswish_d(x):
    return np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0))


def _softsign(x):
    return _limits(x, x / (1 + np.abs(x)), -1.0, 1.0)


REFS = {
    "relu": Ref(_relu, _relu_d, _mp_piecewise(_relu), _mp_piecewise(_relu_d)),
    "relu6": Ref(
        lambda x: _hardtanh(x, 0.0, 6.0), lambda x: _hardtanh_d(x, 0.0, 6.0),
        _mp_piecewise(lambda x: _hardtanh(x, 0.0, 6.0)),
        _mp_piecewise(lambda x: _hardtanh_d(x, 0.0, 6.0)),
    ),
    "hardtanh": Ref(
        _hardtanh, _hardtanh_d, _mp_piecewise(_hardtanh), _mp_piecewise(_hardtanh_d),
        params=[{}, {"min_val": -2.5, "max_val": 0.5}],
    ),
    "leaky_relu": Ref(
        _leaky, _leaky_d, _mp_piecewise(_leaky), _mp_piecewise(_leaky_d),
        params=[{}, {"negative_slope": 0.2}],
    ),
    "prelu": Ref(
        lambda x, weight: _leaky(x, weight), lambda x, weight: _leaky_d(x, weight),
        _mp_piecewise(lambda x, weight: _leaky(x, weight)),
        _mp_piecewise(lambda x, weight: _leaky_d(x, weight)),
        params=[{"weight": 0.25}, {"weight": -0.3}],
    ),
    "elu": Ref(
        _elu, _elu_d,
        lambda x, alpha=1.0: x if x > 0 else alpha * mp.expm1(x),
        lambda x, alpha=1.0: alpha * mp.exp(x) if x <= 0 else mp.mpf(1),
        params=[{}, {"alpha": 0.5}],
    ),
    "celu": Ref(
        _celu, _celu_d,
        lambda x, alpha=1.0: x if x > 0 else alpha * mp.expm1(x / alpha),
        lambda x, alpha=1.0: mp.exp(x / alpha) if x <= 0 else mp.mpf(1),
        params=[{}, {"alpha": 2.0}],
    ),
    "selu": Ref(
        lambda x: SELU_SCALE * _elu(x, SELU_ALPHA), lambda x: SELU_SCALE * _elu_d(x, SELU_ALPHA),
        lambda x: mp.mpf(SELU_SCALE) * (x if x > 0 else mp.mpf(SELU_ALPHA) * mp.expm1(x)),
        lambda x: mp.mpf(SELU_SCALE) * (mp.mpf(SELU_ALPHA) * mp.exp(x) if x <= 0 else 1),
    ),
    "sigmoid": Ref(
        sp.expit, lambda x: sp.expit(x) * sp.expit(-x),
        _mp_sig, lambda x: _mp_sig(x) * _mp_sig(-x),
    ),
    "logsigmoid": Ref(
        sp.log_expit, lambda x: sp.expit(-x),
        lambda x: -mp.log1p(mp.exp(-x)), lambda x: _mp_sig(-x),
    ),
    "tanh": Ref(np.tanh, lambda x: 1 / np.cosh(x) ** 2, mp.tanh, lambda x: mp.sech(x) ** 2),
    "softsign": Ref(
        _softsign, lambda x: 1 / (1 + np.abs(x)) ** 2,
        lambda x: x / (1 + abs(x)), lambda x: 1 / (1 + abs(x)) ** 2,
    ),
    "softplus": Ref(
        _softplus, _softplus_d, _mp_softplus, _mp_softplus_d,
        params=[{}, {"beta": 2.0, "threshold": 10.0}, {"beta": 0.7, "threshold": 15.0}],
    ),
    "silu": Ref(
        _swish, _swish_d, lambda x: x * _mp_sig(x),
        lambda x: _mp_sig(x) * (1 + x * _mp_sig(-x)), roots=(-1.2784645427610738,),
    ),
    "swish": Ref(
        _swish, _swish_d, lambda x, beta=1.0: x * _mp_sig(beta * x),
        lambda x, beta=1.0: _mp_sig(beta * x) * (1 + beta * x * _mp_sig(-beta * x)),
        params=[{}, {"beta": 1.7}], roots=(-1.2784645427610738, -1.2784645427610738 / 1.7),
    ),
    "mish": Ref(_mish, _mish_d, _mp_mish, _mp_mish_d, roots=(-1.1924218457716086,)),
    "gelu": Ref(
        _gelu, _gelu_d, lambda x: x * _mp_ncdf(x), lambda x: _mp_ncdf(x) + x * _mp_npdf(x),
        roots=(-0.7517915241, ),
    ),
    "gelu_tanh": Ref(
        _gelu_tanh, _gelu_tanh_d,
        lambda x: x * _mp_sig(_mp_gelu_tanh_z(x)),
        lambda x: _mp_sig(_mp_gelu_tanh_z(x)) * (
            1 + x * _mp_sig(-_mp_gelu_tanh_z(x)) * MP_BETA2 * (1 + 3 * mp.mpf(KAPPA) * x * x)
        ),
        roots=(-0.7522333,),
    ),
    "hardsigmoid": Ref(
        _hardsigmoid, _hardsigmoid_d,
        lambda x: mp.mpf(0) if x + 3 < 0 else (mp.mpf(1) if x + 3 > 6 else (x + 3) / 6),
        _mp_piecewise(_hardsigmoid_d), smooth=((-2.9, 2.9), (3.1, 30.0), (-30.0, -3.1)),
    ),
    "hardswish": Ref(
        _hardswish, _hardswish_d,
        lambda x: mp.mpf(0) if x <= -3 else (x if x >= 3 else x * (x + 3) / 6),
        lambda x: mp.mpf(0) if x <= -3 else (x / 3 + mp.mpf(0.5) if x < 3 else mp.mpf(1)),
        smooth=((-2.9, 2.9), (3.1, 30.0), (-30.0, -3.1)),
    ),
}

#: Where the piecewise functions have kinks (central differences skip them).
for _name, _kinks in {
    "relu": ((-30.0, -0.01), (0.01, 30.0)),
    "relu6": ((-30.0, -0.01), (0.01, 5.99), (6.01, 30.0)),
    "hardtanh": ((-30.0, -1.01), (-0.99, 0.99), (1.01, 30.0)),
    "leaky_relu": ((-30.0, -0.01), (0.01, 30.0)),
    "prelu": ((-30.0, -0.01), (0.01, 30.0)),
    "elu": ((-30.0, -0.01), (0.01, 30.0)),
    "celu": ((-30.0, -0.01), (0.01, 30.0)),
    "selu": ((-30.0, -0.01), (0.01, 30.0)),
    "softplus": ((-30.0, 4.99), (5.01, 9.99), (10.01, 14.99), (15.01, 19.99)),
}.items():
    REFS[_name].smooth = _kinks


def cases():
    """(activation name, kernel variant name, params) for every row and parameter set."""
    out = []
    for name, ref in REFS.items():
        if name == "gelu_tanh":
            continue
        for p in ref.params:
            out.append((name, name, p))
    out.append(("gelu", "gelu_tanh", {"approximate": "tanh"}))
    return out


def ref_params(params):
    """The numeric parameters the reference takes (the choice parameter selects the row)."""
    return {k: v for k, v in params.items() if k != "approximate"}
