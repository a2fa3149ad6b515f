"""Max ULP error of fastact's vectorizable math functions (kernels/_math.py).

    .venv/bin/python benchmarks/math_accuracy.py [--f32-points N] [--f64-points N]

float32: N random float32 bit patterns in each function's domain plus a dense grid, against the
float64 result of NumPy/SciPy (itself accurate to ~1 float64 ULP, 1e-9 of a float32 ULP).
float64: N points against mpmath at 40 digits. Errors are counted where the reference is a normal
number of the type; non-finite and zero results must match exactly.
"""

from __future__ import annotations

import argparse

import mpmath as mp
import numpy as np
from fastact.kernels import _math as M
from fastact.kernels._jit import FASTMATH
from numba import njit
from scipy import special

mp.mp.dps = 40


def _vectorized(fn):
    @njit(fastmath=FASTMATH, error_model="numpy")
    def run(x, out):
        for i in range(x.size):
            out[i] = fn(x[i])

    def call(x):
        out = np.empty_like(x)
        run(x, out)
        return out

    return call


FUNCS = {  # name: (kernel, numpy float64 reference, mpmath reference, domain)
    "exp": (M.exp, np.exp, mp.exp, (-110.0, 90.0)),
    "expm1": (M.expm1, np.expm1, mp.expm1, (-40.0, 90.0)),
    "log1p": (M.log1p, np.log1p, mp.log1p, (-1.0, 3e38)),
    "tanh": (M.tanh, np.tanh, mp.tanh, (-20.0, 20.0)),
    "erf": (M.erf, special.erf, mp.erf, (-6.0, 6.0)),
    "erfc": (M.erfc, special.erfc, mp.erfc, (-6.0, 9.5)),
    "erfcx": (M.erfcx, special.erfcx, lambda a: mp.erfc(a) * mp.exp(a * a), (0.0, 9.5)),
}


def sample(dtype, lo, hi, n, seed=0):
    rng = np.random.default_rng(seed)
    ity = np.uint32 if dtype == np.float32 else np.uint64
    bits = rng.integers(0, np.iinfo(ity).max, n, dtype=ity).view(dtype)
    bits = bits[np.isfinite(bits) & (bits >= lo) & (bits <= hi)]
    grid = np.linspace(lo, min(hi, 1e3), n // 2).astype(dtype)
    return np.concatenate([bits, grid])


def ulp_err(got, want, dtype):
    with np.errstate(all="ignore"):
        r = want.astype(dtype)
        ok = np.isfinite(r) & (np.abs(want) >= np.finfo(dtype).tiny)
        bad = (~ok) & np.isfinite(want) & ~((got == r) | (np.abs(got - want) <= np.finfo(
            dtype).tiny))
        e = np.abs(got[ok].astype(np.float64) - want[ok]) / np.spacing(np.abs(r[ok])).astype(
            np.float64)
    return (float(e.max()) if e.size else 0.0), int(bad.sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--f32-points", type=int, default=4_000_000)
    ap.add_argument("--f64-points", type=int, default=3_000)
    args = ap.parse_args(argv)
    print("| function | float32 max ULP | float64 max ULP | range |\n|---|---:|---:|---|")
    for name, (kern, ref, mref, (lo, hi)) in FUNCS.items():
        f = _vectorized(kern)
        x32 = sample(np.float32, lo, hi, args.f32_points)
        e32, bad32 = ulp_err(f(x32), ref(x32.astype(np.float64)), np.float32)
        x64 = sample(np.float64, lo, hi, args.f64_points, seed=1)
        got = f(x64)
        e64 = 0.0
        for xi, yi in zip(x64.tolist(), got.tolist(), strict=True):
            w = mref(mp.mpf(xi))
            if abs(w) < mp.mpf("1e-300") or abs(w) > mp.mpf("1e300"):
                continue
            e64 = max(e64, float(abs(mp.mpf(yi) - w) / np.spacing(abs(float(w)))))
        flag = f" ({bad32} non-finite/zero mismatches)" if bad32 else ""
        print(f"| {name} | {e32:.2f}{flag} | {e64:.2f} | [{lo:g}, {hi:g}] |", flush=True)


if __name__ == "__main__":
    main()
