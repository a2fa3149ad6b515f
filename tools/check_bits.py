"""Fingerprint every serial loop's output, to prove a refactoring left every bit as it was.

    .venv/bin/python tools/check_bits.py --write /tmp/bits_before.json   # on the old tree
    .venv/bin/python tools/check_bits.py --compare /tmp/bits_before.json # after the change

Runs each out-of-place loop of fastact/backends/_cpu_loops.py (``--inplace``: the in-place loops
too) for float32 and float64 on the same inputs: ``--n`` values spread over every binade, with
the special values (+-0, +-inf, NaN, subnormals, the largest finite) at the front; gradients get a
second array of the same kind as ``g``. Kernels with parameters run with two sets of values. The
result is a sha1 of each output's bytes; ``--compare`` names every output whose sha1 changed and
exits 1 if any did.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: two parameter sets per kernel family (by parameter count where the name does not decide)
PARAMS = {
    "hardtanh": [(-1.0, 1.0), (-0.5, 2.0)],
    "softplus": [(1.0, 20.0), (0.7, 15.0)],
    "leaky_relu": [(0.01,), (0.3,)],
    "prelu": [(0.25,), (-1.5,)],
}
ONE_PARAM = [(1.0,), (1.7,)]


def inputs(dtype, n, seed):
    """``n`` values of ``dtype``: the specials, then random signs, mantissas and exponents."""
    dtype = np.dtype(dtype)
    fi = np.finfo(dtype)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, fi.max, -fi.max, fi.tiny, -fi.tiny,
                         fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny / 3, 1.0, -1.0,
                         0.5, -0.5, 3.0, -3.0, 6.0, 20.0, -20.0, 30.0, -30.0, 88.0, -104.0],
                        dtype)
    rng = np.random.default_rng(seed)
    m = n - specials.size
    emin, emax = (-150, 128) if dtype == np.float32 else (-1075, 1024)
    # a third over every binade, two thirds over the binades where the activations bend
    exps = np.concatenate([rng.integers(emin, emax, m // 3), rng.integers(-30, 8, m - m // 3)])
    with np.errstate(over="ignore", under="ignore"):
        vals = (rng.uniform(1.0, 2.0, m) * np.ldexp(1.0, exps)).astype(dtype)
    vals *= np.where(rng.random(m) < 0.5, dtype.type(-1), dtype.type(1))
    return np.concatenate([specials, vals])


def run(n, inplace):
    from fastact.backends import _cpu_loops as L
    from fastact.backends.cpu import KERNELS, n_arrays

    out = {}
    for dtype in (np.float32, np.float64):
        x = inputs(dtype, n, 1)
        g = inputs(dtype, n, 2)
        for name in sorted(KERNELS):
            nin = KERNELS[name][1]
            k = n_arrays(name)
            arrays = [g, x] if k == 2 else [x]
            nparams = nin - k
            base = name.split("_grad")[0]
            sets = PARAMS.get(base, ONE_PARAM if nparams == 1 else [
                tuple(0.5 * (i + 1) * v[0] for i in range(nparams)) for v in ONE_PARAM])
            sets = sets if nparams else [()]
            for ps in sets:
                ps = tuple(dtype(p) for p in ps)
                res = np.empty_like(x)
                with np.errstate(all="ignore"):
                    getattr(L, name)(*arrays, res, *ps)
                key = f"{name}[{np.dtype(dtype).name}]{list(map(float, ps))}"
                out[key] = hashlib.sha1(res.tobytes()).hexdigest()
                if inplace:
                    first = arrays[0].copy()
                    with np.errstate(all="ignore"):
                        getattr(L, name + "_inplace")(first, *arrays[1:], *ps)
                    out[key + "inplace"] = hashlib.sha1(first.tobytes()).hexdigest()
                    if out[key + "inplace"] != out[key]:
                        print(f"{key}: in-place loop differs from out-of-place")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", type=Path)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--n", type=int, default=4_000_000)
    ap.add_argument("--inplace", action="store_true")
    args = ap.parse_args(argv)
    got = run(args.n, args.inplace)
    if args.write:
        args.write.write_text(json.dumps(got, indent=1, sort_keys=True))
        print(f"{len(got)} outputs written to {args.write}")
    if args.compare:
        want = json.loads(args.compare.read_text())
        changed = sorted(k for k in want if got.get(k) != want[k])
        new = sorted(set(got) - set(want))
        for k in changed:
            print(f"CHANGED {k}")
        print(f"{len(want)} outputs compared: {len(changed)} changed, {len(new)} not in the "
              "reference")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
