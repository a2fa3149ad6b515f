"""Print the float32 polynomials of float32 ``silu_grad`` (``kernels._math.EXPM1_E32``,
``kernels.gated.SILU_ROOT32``) and their errors.

    .venv/bin/python tools/fit_silu_grad.py

``EXPM1_E32``: ``expm1(r) = r + r**2 P(r)`` on the exponential's reduced interval
``|r| <= ln2/2``, P of degree 4 (evaluated by Estrin's scheme, 6 operations instead of Taylor's
degree 5 by Horner: the float32 gradient is bound by the FMA ports, not by latency). Weighted so
that the error of ``r**2 P`` (the part of expm1 it makes) is what is minimized.

``SILU_ROOT32``: near the gradient's root ``x0 = -1 - W(1/e) = -1.27846...`` (where
``1 + x + exp(x) = 0``) the general formula divides a difference of O(1) terms; there
``silu'(x0 + d) = d P(d)`` with P of degree 3 for ``|d| < 0.03``, fitted for relative error.

Both are least-squares fits at Chebyshev nodes against mpmath (40 digits), rounded to float32 one
coefficient at a time with the later ones refitted to the rounded earlier ones; the printed
errors are measured on a dense grid with the float32 coefficients.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
from _polyfit import float32_fit

mp.mp.dps = 40

#: half-width of the reduced interval, with the slack of float32's round(x / ln2)
EXPM1_HALF = float(mp.log(2) / 2) * 1.0001
EXPM1_DEGREE = 4
#: the root window of silu', its polynomial's degree
ROOT_WINDOW = 0.03
ROOT_DEGREE = 3

X0 = -1 - mp.lambertw(mp.exp(-1)).real  # 1 + x0 + exp(x0) = 0


def dsilu(x):
    s = 1 / (1 + mp.exp(-x))
    return s * (1 + x * (1 - s))


def fit_expm1(nodes=300):
    t = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes) * EXPM1_HALF
    target = [mp.expm1(mp.mpf(float(v))) - mp.mpf(float(v)) for v in t]
    return float32_fit(t, target, EXPM1_DEGREE, power=2)


def fit_root(nodes=200):
    t = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes) * ROOT_WINDOW
    target = [dsilu(X0 + mp.mpf(float(v))) for v in t]
    return float32_fit(t, target, ROOT_DEGREE, weight=target, power=1)


def main():
    e = fit_expm1()
    r = np.linspace(-EXPM1_HALF, EXPM1_HALF, 4001)
    exact = np.array([float(mp.expm1(mp.mpf(float(v))) - mp.mpf(float(v))) for v in r])
    err = np.abs(np.polynomial.Polynomial([0, 0] + e)(r) - exact)
    print("EXPM1_E32 = (" + ", ".join(repr(c) for c in e) + ")")
    print(f"# max |error of r**2 P(r)| = {err.max() / 2**-24:.3f} * 2**-24 (|r| <= ln2/2)")

    c = fit_root()
    d = np.linspace(-ROOT_WINDOW, ROOT_WINDOW, 4000)  # (d = 0 excluded: an even count)
    exact = np.array([float(dsilu(X0 + mp.mpf(float(v)))) for v in d])
    rel = np.abs(np.polynomial.Polynomial([0] + c)(d) - exact) / np.abs(exact)
    x0_hi = np.float32(float(X0))
    x0_lo = np.float32(float(X0 - mp.mpf(float(x0_hi))))
    print(f"X0 = {mp.nstr(X0, 20)}: X0_HI = {float(x0_hi)!r}, X0_LO = {float(x0_lo)!r}")
    print("SILU_ROOT32 = (" + ", ".join(repr(v) for v in c) + ")")
    print(f"# max relative error of d P(d) = {rel.max() / 2**-24:.3f} * 2**-24 "
          f"(|d| < {ROOT_WINDOW})")


if __name__ == "__main__":
    main()
