"""The least-squares fit shared by the ``fit_*.py`` scripts: polynomial coefficients rounded to
float32 one at a time, each later one refitted to the rounded earlier ones (so that a rounding is
compensated by the coefficients after it instead of added to the error)."""

from __future__ import annotations

import mpmath as mp
import numpy as np


def float32_fit(t, target, degree, weight=None, power=0, split0=False):
    """Coefficients c_0..c_degree (floats, each a float32 value) minimizing, at the nodes ``t``
    (numpy floats), the error of ``sum(c_i t**(i + power))`` against ``target`` (mpmath values),
    divided by ``weight`` (mpmath values; none: absolute error). ``split0``: c_0 is kept as the
    sum of two float32 values (hi + lo), so that its rounding does not set the floor."""
    weight = [mp.mpf(1)] * len(target) if weight is None else weight
    scale = np.array([float(w) for w in weight])
    coef = []
    for j in range(degree + 1):
        res = np.array([float((y - sum(mp.mpf(c) * mp.mpf(float(v)) ** (i + power)
                                       for i, c in enumerate(coef))) / w)
                        for y, v, w in zip(target, t, weight, strict=True)])
        basis = np.stack([t ** (i + power) / scale for i in range(j, degree + 1)], axis=1)
        c = np.linalg.lstsq(basis, res, rcond=None)[0][0]
        hi = float(np.float32(c))
        coef.append(hi + float(np.float32(c - hi)) if (j == 0 and split0) else hi)
    return coef
