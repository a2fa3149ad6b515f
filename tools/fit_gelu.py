"""Print the constants of float32 ``gelu`` (``kernels.gated.GELU_P32``, ``GELU_Q32``) and the
fit's error.

    .venv/bin/python tools/fit_gelu.py

For v >= 0, Phi(-v) = exp(-v*v/2) / D(v) with D(v) = exp(-v*v/2) / Phi(-v), which rises from 2
at v = 0 like 2 + v K(v), K between 1.6 and A = sqrt(2 pi). The kernel forms

    D(v) = 2 + v (A - Delta(v)),    Delta(v) = A - (D(v) - 2) / v,

Delta smooth, positive and decreasing from 0.911 at v = 0 to about 2/v (0.126 at V_MAX), a rational
function P(v) / Q(v) of degrees (3, 4) on [0, V_MAX] (beyond V_MAX = 14.5, v Phi(-v) is below half
the smallest float32 subnormal) with positive coefficients (Horner's scheme at v >= 0 adds
positive terms only; the kernel evaluates P so, and Q / Q4 by Knuth's scheme for quartics,
``kernels.gated.knuth_quartic``, whose errors cancel between the kernel's numerator and D). A
relative error r of Delta is a relative error v Delta r / D of D: at most 0.19 r (at v = 1.4),
and none at v = 0, where D = 2 exactly. The fit's weight is that factor.

The fit: a linearized rational least-squares fit (Sanathanan-Koerner iterations, then Lawson's
reweighting towards minimax) at Chebyshev nodes in float64 against mpmath values; Q's coefficients
rounded to float32 (Q(0) = 1), then P refitted to Delta Q with those and rounded one coefficient
at a time, the later ones refitted (``_polyfit.float32_fit``). A is the float32 nearest
sqrt(2 pi); Delta is defined with it, so that its rounding is not an error of the kernel.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
from _polyfit import float32_fit

mp.mp.dps = 30

V_MAX = 14.5
P_DEGREE, Q_DEGREE = 3, 4
A32 = float(np.float32(np.sqrt(2 * np.pi)))


def D(v):
    """exp(-v*v/2) / Phi(-v) (mpmath)."""
    v = mp.mpf(float(v))
    return mp.exp(-v * v / 2) * 2 / mp.erfc(v / mp.sqrt(2))


def delta(v):
    return A32 - (D(v) - 2) / mp.mpf(float(v))


def nodes(n=800):
    return (1 - np.cos(np.pi * (np.arange(n) + 0.5) / n)) / 2 * V_MAX


def rational_fit(v, y, weight, iterations=40):
    """(p, q), q[0] = 1, float64: P/Q - y small in units of ``weight`` (minimax-like)."""
    m, n = P_DEGREE, Q_DEGREE
    q_prev = np.ones_like(v)
    lawson = np.ones_like(v)
    for it in range(iterations):
        scale = np.sqrt(lawson) / (weight * q_prev)  # (P - y Q) / (weight Q_prev)
        basis = np.concatenate([np.stack([v ** i for i in range(m + 1)], axis=1),
                                np.stack([-y * v ** j for j in range(1, n + 1)], axis=1)], axis=1)
        basis *= scale[:, None]
        norm = np.linalg.norm(basis, axis=0)
        sol = np.linalg.lstsq(basis / norm, y * scale, rcond=None)[0] / norm
        p, q = sol[:m + 1], np.concatenate([[1.0], sol[m + 1:]])
        q_prev = np.polynomial.polynomial.polyval(v, q)
        err = np.abs(np.polynomial.polynomial.polyval(v, p) / q_prev - y) / weight
        if it >= 5:
            lawson = np.maximum(lawson * err / np.sum(lawson * err), 1e-30)
    return p, q


def poly(c, x):
    return sum(mp.mpf(ci) * x ** i for i, ci in enumerate(c))


def fit():
    v = nodes()
    ym = [delta(x) for x in v]
    wm = [D(x) / mp.mpf(float(x)) for x in v]  # an error e of Delta is e / weight of D
    _, q = rational_fit(v, np.array([float(y) for y in ym]), np.array([float(w) for w in wm]))
    q = [float(np.float32(c)) for c in q]
    qv = [poly(q, mp.mpf(float(x))) for x in v]
    p = float32_fit(v, [y * d for y, d in zip(ym, qv, strict=True)], P_DEGREE,
                    weight=[w * d for w, d in zip(wm, qv, strict=True)])
    return p, q


def main():
    p, q = fit()
    assert min(p) > 0 and min(q) > 0
    err = 0.0
    for x in np.linspace(0, V_MAX, 4001)[1:]:
        xm = mp.mpf(float(x))
        err = max(err, abs(float((poly(p, xm) / poly(q, xm) - delta(x)) * xm / D(x))))
    print(f"GELU_A, GELU_V_MAX = {A32!r}, {V_MAX!r}")
    print("GELU_P32 = (" + ", ".join(repr(c) for c in p) + ")")
    print("GELU_Q32 = (" + ", ".join(repr(c) for c in q) + ")")
    print(f"# max relative error of D from P/Q: {err / 2**-24:.3f} * 2**-24 (v in [0, {V_MAX}])")


if __name__ == "__main__":
    main()
