"""Print the constants of float32 ``gelu_grad`` (``kernels.gated.GELU_GRAD_M32`` and its
variable's mapping) and the fit's error.

    .venv/bin/python tools/fit_gelu_grad.py

For x = -v <= 0, gelu'(x) = Phi(-v) - v phi(v) = exp(-v*v/2) (v - v0) M(v), v0 = 0.7518 the root
of gelu' (x0 = -v0), and for x = v >= 0, gelu'(x) = 1 - exp(-v*v/2) (v - v0) M(v), with

    M(v) = (exp(v*v/2) Phi(-v) - v / sqrt(2 pi)) / (v - v0)   in [-0.67, -0.39] for v >= 0,

smooth and free of cancellation (the root is a factor of its own). M is a polynomial of degree
``DEGREE`` in ``s = ALPHA t + BETA`` (about [-1, 1]), ``t = 1 / (1 + C v)``, ``v`` in [0, A]
(beyond A = 15 the result underflows to -0 or rounds to 1). The kernel forms ``s`` as
``(S1 + BC v) / (1 + C v)`` (one rounding less than through t: s's error moves M by dM/ds), with
``C``, ``ALPHA``, ``BETA`` the float32 constants the fit itself is defined with. The coefficients
are a least-squares fit at Chebyshev nodes against mpmath (40 digits), weighted for relative
error, rounded to float32 one at a time with the later ones refitted; the constant term is kept
as a float32 pair (hi + lo) so that its rounding does not set the floor.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
from _polyfit import float32_fit

mp.mp.dps = 40

C = 0.25  # a power of two: C v and BETA C are exact
A = 15.0
DEGREE = 8
SQRT2 = mp.sqrt(2)
INV_SQRT_2PI = 1 / mp.sqrt(2 * mp.pi)


def R(v):
    """exp(v*v/2) Phi(-v)."""
    return mp.erfc(v / SQRT2) / 2 * mp.exp(v * v / 2)


V0 = mp.findroot(lambda v: R(v) - v * INV_SQRT_2PI, 0.75)


def M(v):
    v = mp.mpf(v)
    if abs(v - V0) < mp.mpf(10) ** -25:
        return mp.diff(lambda u: R(u) - u * INV_SQRT_2PI, V0)
    return (R(v) - v * INV_SQRT_2PI) / (v - V0)


def mapping():
    """(t0, ALPHA, BETA) as float32 values: s = ALPHA t + BETA maps t in [t0, 1] to ~[-1, 1]."""
    t0 = 1 / (1 + C * A)
    alpha = float(np.float32(2 / (1 - t0)))
    beta = float(np.float32(-2 * t0 / (1 - t0) - 1))
    return t0, alpha, beta


def v_of_s(s, alpha, beta):
    return (1 / ((mp.mpf(float(s)) - beta) / alpha) - 1) / C


def fit(nodes=400):
    t0, alpha, beta = mapping()
    lo, hi = alpha * t0 + beta, alpha + beta
    s = (np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes) + 1) / 2 * (hi - lo) + lo
    target = [M(v_of_s(x, alpha, beta)) for x in s]
    return float32_fit(s, target, DEGREE, weight=target, split0=True)


def main():
    t0, alpha, beta = mapping()
    coef = fit()
    v = np.linspace(0, A, 3001)
    err = 0.0
    for x in v:
        s = alpha / (1 + C * x) + beta
        exact = M(mp.mpf(x))
        err = max(err, abs(float((np.polynomial.Polynomial(coef)(s) - exact) / exact)))
    m0_hi = float(np.float32(coef[0]))
    v0_hi = float(np.float32(float(V0)))
    print(f"GELU_GRAD_C, GELU_GRAD_A = {C!r}, {A!r}")
    print(f"GELU_GRAD_ALPHA, GELU_GRAD_BETA = {alpha!r}, {beta!r}")
    print(f"GELU_V0 = {mp.nstr(V0, 20)}: hi {v0_hi!r}, lo {float(np.float32(float(V0 - v0_hi)))!r}")
    print(f"GELU_GRAD_M32 = ({m0_hi!r}, {coef[0] - m0_hi!r},  # constant term, hi + lo")
    print("    " + ", ".join(repr(c) for c in coef[1:]) + ")")
    print(f"# max relative error of M = {err / 2**-24:.3f} * 2**-24 (v in [0, {A}])")


if __name__ == "__main__":
    main()
