"""Print the float32 coefficients of ``kernels.sigmoidal.LOG1P_R32`` and their error.

    .venv/bin/python tools/fit_log1p.py

float32 softplus and logsigmoid need ``log1p(e)`` for ``e = exp(-|z|)`` in [0, 1] only. There

    log1p(e) = e + e**2 R(e),   R(e) = (log1p(e) - e) / e**2 in [-0.5, ln 2 - 1],

and R, analytic on [0, 1] with its nearest singularity at e = -1, is a polynomial of degree 9 in
``t = 2e - 1``: the coefficients shrink by about 4 per degree, so the float32 evaluation does not
cancel. They are a least-squares fit at Chebyshev nodes (mpmath, 40 digits), rounded to float32 one
at a time with the later ones refitted to the rounded earlier ones (``_polyfit.float32_fit``; so
the rounding of R0, which the kernel adds last and separately, is compensated rather than added).
The printed errors are measured against mpmath on a dense grid, with the coefficients rounded to
float32.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
from _polyfit import float32_fit

mp.mp.dps = 40
DEGREE = 9


def R(e):
    e = mp.mpf(e)
    return (mp.log1p(e) - e) / e**2 if e != 0 else mp.mpf(-0.5)


def fit(degree=DEGREE, nodes=600):
    t = np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes)
    return float32_fit(t, [R((v + 1) / 2) for v in t], degree)


def main():
    coef = fit()
    e = np.linspace(0, 1, 20001)
    exact = np.array([float(R(v)) for v in e])
    err = np.abs(np.polynomial.Polynomial(coef)(2 * e - 1) - exact)
    log1p_rel = err * e**2 / np.where(e > 0, np.log1p(e), 1.0)
    print("LOG1P_R32 = (")
    for c in coef:
        print(f"    {c!r},")
    print(")")
    print(f"# max |error of R| = {err.max() / 2**-26:.2f} * 2**-26; "
          f"as a part of log1p(e): {log1p_rel.max() / 2**-24:.2f} * 2**-24")


if __name__ == "__main__":
    main()
