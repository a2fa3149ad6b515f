"""Print the coefficients of ``kernels.sigmoidal.TANHSHRINK_P64`` / ``TANHSHRINK_P32`` and their
error.

    .venv/bin/python tools/fit_tanhshrink.py

Near 0, ``x - tanh(x)`` cancels (it is ``x**3 / 3`` to first order): the kernel evaluates it there
as ``x**3 P(x**2)`` with

    P(u) = (x - tanh(x)) / x**3,   u = x**2,

analytic on [0, c**2] with its nearest singularity at u = -(pi/2)**2 (tanh's poles), so a
polynomial of modest degree in u fits it to the working precision: degree 12 on [0, 0.75**2] for
float64, degree 7 on [0, 1] for float32 (the float32 kernel's own arithmetic). Beyond c the
kernel uses ``(|x| - 1) + 2e / (1 + e)``, e = exp(-2|x|), which no longer cancels much in
float64 and not at all from 1 on (both terms positive), where float32's starts.
The coefficients are a least-squares fit of the relative error at Chebyshev nodes (mpmath, 60
digits), rounded to the kernel's float type one at a time with the later ones refitted to the
rounded earlier ones. The printed errors are measured against mpmath on a dense grid.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

mp.mp.dps = 60

#: (name, degree, cut-off c, the coefficients' float type): P on [0, c**2]
FITS = (("TANHSHRINK_P64", 12, 0.75, np.float64), ("TANHSHRINK_P32", 7, 1.0, np.float32))


def P(u):
    u = mp.mpf(u)
    if u == 0:
        return mp.mpf(1) / 3
    x = mp.sqrt(u)
    return (x - mp.tanh(x)) / x**3


def fit(degree, c, ftype, nodes=400):
    top = mp.mpf(c) ** 2
    us = [top * (1 - mp.cos(mp.pi * (k + mp.mpf(0.5)) / nodes)) / 2 for k in range(nodes)]
    target = [P(u) for u in us]
    coef = []
    for j in range(degree + 1):
        res = [(y - sum(mp.mpf(cf) * u**i for i, cf in enumerate(coef))) / y
               for u, y in zip(us, target, strict=True)]
        basis = mp.matrix([[u**i / y for i in range(j, degree + 1)]
                           for u, y in zip(us, target, strict=True)])
        sol = mp.lu_solve(basis.T * basis, basis.T * mp.matrix(res))
        coef.append(float(ftype(float(sol[0]))))
    return coef


def max_error(coef, c, n=4001):
    worst = 0.0
    for u in np.linspace(0, c * c, n):
        got = sum(mp.mpf(cf) * mp.mpf(u) ** i for i, cf in enumerate(coef))
        worst = max(worst, float(abs(got / P(u) - 1)))
    return worst


def main():
    for name, degree, c, ftype in FITS:
        coef = fit(degree, c, ftype)
        print(f"{name} = (")
        for cf in coef:
            print(f"    {cf!r},")
        print(")")
        unit = 2.0 ** -(np.finfo(ftype).nmant + 1)
        print(f"# on [0, {c}**2]: max relative error {max_error(coef, c) / unit:.3f} * "
              f"2**{int(np.log2(unit))}")


if __name__ == "__main__":
    main()
