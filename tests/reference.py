"""The tests' view of the registry's references (fastact/_reference.py, fastact/registry.py).

Every entry carries its float64 and mpmath references and its kink points; these helpers turn them
into test cases, so a new entry is tested without editing a test file.

- ``REFS[kernel]``: the :class:`~fastact._reference.Reference` of a kernel (``"gelu"``,
  ``"gelu_tanh"``): float64 ``f``, ``df``; mpmath ``mf``, ``mdf``; the parameter sets to test;
  the roots of f'.
- :func:`cases`: (activation, kernel, params) for every kernel and parameter set.
- :func:`smooth`: intervals where f is smooth, for a central-difference check of f'.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

from fastact.registry import AXISWISE as _AXISWISE
from fastact.registry import ELEMENTWISE as _ELEMENTWISE
from fastact.registry import GATED as _GATED
from fastact.registry import of_kind

mp.mp.dps = 50

#: the element-wise entries (the tests of the other kinds enumerate their own: :data:`GATED`)
ELEMENTWISE = of_kind(_ELEMENTWISE)
#: the gated entries (two inputs)
GATED = of_kind(_GATED)
#: the axis-wise entries (a reduction along an axis)
AXISWISE = of_kind(_AXISWISE)

REFS = {k: r for spec in ELEMENTWISE.values() for k, r in spec.references().items()}

#: the interval the derivative checks sample, and how far they keep from a kink
SPAN = (-30.0, 30.0)
KINK_GAP = 0.01


def cases():
    """(activation name, kernel name, params) for every element-wise kernel and parameter set: the
    default kernel's parameter sets, and each variant's with its choice value."""
    out = []
    for name, spec in ELEMENTWISE.items():
        choice = spec.choice
        for kernel, ref in spec.references().items():
            value = {} if kernel == name else {choice.name: kernel[len(name) + 1:]}
            for p in ref.params:
                out.append((name, kernel, {**p, **value}))
    return out


def first_cases():
    """{kernel name: (activation name, params)}: each kernel with the first parameter set its
    reference tests (e.g. prelu's weight 0.25), with the choice value that selects the kernel:
    what the benchmarks time."""
    out = {}
    for name, kernel, params in cases():
        out.setdefault(kernel, (name, params))
    return out


def ref_params(params):
    """The numeric parameters the reference takes (a choice parameter selects the reference)."""
    return {k: v for k, v in params.items() if not isinstance(v, str)}


def smooth(name, params):
    """Sub-intervals of :data:`SPAN` that keep :data:`KINK_GAP` away from every kink point."""
    lo, hi = SPAN
    cuts = sorted(k for k in ELEMENTWISE[name].kinks_at(params) if lo < k < hi)
    out, start = [], lo
    for k in cuts:
        if k - KINK_GAP > start:
            out.append((start, k - KINK_GAP))
        start = k + KINK_GAP
    out.append((start, hi))
    return tuple(out)


def grad_input(spec, result):
    """grad_input of a ``_grad`` call (an activation with a weight also returns grad_weight)."""
    return result[0] if spec.has_weight else result


def sample_params(spec):
    """Parameters for a call that needs values for every required parameter (the first test
    set: prelu's weight)."""
    return dict(spec.reference.params[0])


def adversarial_rows(dtype):
    """Rows for the axis-wise kind, as float64 values exactly representable in ``dtype``: random
    ones, one huge element (the rest far below one ULP of the sum), many equal elements, a wide
    linear range, subnormal probabilities, near ties, a long row, one element."""
    rng = np.random.default_rng(7)
    tiny = -100.0 if dtype == np.float32 else -740.0  # exp(tiny): a subnormal probability
    rows = [
        rng.standard_normal(37) * 3,
        np.r_[1e4, rng.standard_normal(12)],
        np.full(64, 2.5),
        np.linspace(-100.0, 10.0, 33),
        np.array([0.0, tiny, tiny - 20.0, tiny / 2]),
        np.array([1.0, 1.0 + 2.0 ** -20, 1.0 - 2.0 ** -21, -1e-30]),
        rng.standard_normal(1000) * 20,
        np.array([42.0]),
    ]
    return [np.asarray(r, dtype).astype(np.float64) for r in rows]

