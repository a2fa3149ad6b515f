"""Every float32 input: max ULP error of each float32 kernel (forward and gradient).

    .venv/bin/python benchmarks/exhaustive.py [--only NAME ...] [--markdown FILE] [--json FILE]

All 2**32 bit patterns go through the float32 kernel and, as the reference, through the same
kernel compiled for float64 (itself checked against mpmath by tests/test_accuracy.py to within
16 float64 ULP, i.e. 1e-8 of a float32 ULP). The error is counted where the reference is a normal
float32; where it is NaN, +-inf or zero the float32 result must be the same; near a zero of f'
(within ROOT_WINDOW of a root in the entry's reference, where |f'| < 1e-3: f' is a difference
of O(1) terms there) the gradient's error is counted in units of the float32 epsilon instead.
Everywhere else, the tails included, the error is in ULP. Default parameters; for a parameter
without a default, the first value the entry's reference tests (prelu's weight: 0.25).
Runs in chunks on all cores (Numba prange); a few minutes per kernel pair on 2 cores.
``--grad-only`` sweeps the gradients alone. ``--json docs/data/exhaustive.json`` (a full sweep,
hours on 2 cores) writes the measurement that ``tools/gen_docs.py`` renders in docs/accuracy.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastact.backends.cpu import FASTMATH  # noqa: E402
from fastact.registry import ELEMENTWISE, REQUIRED, of_kind  # noqa: E402
from tests.reference import REFS  # noqa: E402

#: half-width of the interval around a zero of f' where |f'| < 1e-3 is counted in eps
ROOT_WINDOW = 0.25

CHUNK = 1 << 26
TINY32 = float(np.finfo(np.float32).tiny)


@njit
def near_root(x, roots):
    for r in roots:
        if abs(x - r) < ROOT_WINDOW:
            return True
    return False


def roots_of(name):
    """The zeros of f' listed in this variant's reference in the registry (float64 array)."""
    ref = REFS.get(name)
    return np.array(ref.roots if ref is not None else (), dtype=np.float64)


def _make_sweep(kern, nparams, grad):
    """A parallel loop over float32 inputs: per-thread (max ULP, its index, mismatches, max abs
    error in eps units where |f'| < 1e-3 for gradients)."""
    ps = [f"p{i}" for i in range(nparams)]
    a32 = "".join(f", np.float32({p})" for p in ps)
    a64 = "".join(f", np.float64(np.float32({p}))" for p in ps)
    # np.float32(...): a kernel that evaluates in float64 returns float64; the loops store float32
    y = f"np.float32(kern(np.float32(1), x{a32}))" if grad else f"np.float32(kern(x{a32}))"
    r = f"kern(1.0, xd{a64})" if grad else f"kern(xd{a64})"
    src = f'''
def sweep(xs, nthreads, roots{"".join(", " + p for p in ps)}):
    n = xs.size
    errs = np.zeros(nthreads)
    where = np.zeros(nthreads, np.int64)
    bad = np.zeros(nthreads, np.int64)
    absmax = np.zeros(nthreads)
    per = (n + nthreads - 1) // nthreads
    for t in prange(nthreads):
        worst = 0.0
        wi = -1
        nbad = 0
        am = 0.0
        for i in range(t * per, min(n, (t + 1) * per)):
            x = xs[i]
            y = {y}
            xd = np.float64(x)
            r = {r}
            r32 = np.float32(r)
            if r != r:
                if y == y:
                    nbad += 1
                    wi = i
                continue
            if math.isinf(r32) or r32 == 0 or abs(r) < TINY32:
                if not (y == r32 or abs(np.float64(y) - r) <= TINY32):
                    nbad += 1
                    wi = i
                continue
            if GRAD and abs(r) < 1e-3 and near_root(xd, roots):
                am = max(am, abs(np.float64(y) - r) / EPS32)
                continue
            e = abs(np.float64(y) - r) / np.float64(np.spacing(abs(r32)))
            if e > worst:
                worst = e
                wi = i
        errs[t] = worst
        where[t] = wi
        bad[t] = nbad
        absmax[t] = am
    return errs, where, bad, absmax
'''
    env = {"np": np, "math": math, "prange": prange, "kern": kern, "TINY32": TINY32,
           "GRAD": grad, "EPS32": float(np.finfo(np.float32).eps), "near_root": near_root}
    exec(src, env)  # one loop per kernel: the kernel is a compile-time constant
    return njit(parallel=True, fastmath=FASTMATH, error_model="numpy")(env["sweep"])


def variants():
    """(kernel variant name, forward, grad, parameter values, bound, activation, parameters by
    name) for every kernel pair: default parameters, and for a parameter without a default the
    value of the first parameter set the entry's reference lists (prelu's weight 0.25)."""
    for spec in of_kind(ELEMENTWISE).values():
        named = {p.name: spec.reference.params[0][p.name] for p in spec.params
                 if p.default is REQUIRED}
        params = list(spec.scalars({**spec.defaults(), **named}))
        if spec.has_weight:
            params.append(named[spec.weight_param.name])
        yield spec.name, spec.forward, spec.grad, params, spec.accuracy_ulp, spec.name, named
        choice = spec.choice
        for value, (fwd, grad) in spec.variants.items():
            yield (f"{spec.name}_{value}", fwd, grad, params, spec.accuracy_ulp, spec.name,
                   {**named, choice.name: value})


def run_all(jobs, chunk=CHUNK):
    """jobs: [(kernel, params, grad, roots)] -> [(max ULP, at x, mismatches, max abs error / eps
    where |f'| < 1e-3 near a root)] over all float32 inputs; each chunk of inputs is built once
    for every job."""
    sweeps = [_make_sweep(kern, len(params), grad) for kern, params, grad, _ in jobs]
    nthreads = numba.get_num_threads()
    stats = [[0.0, float("nan"), 0, 0.0] for _ in jobs]
    for lo in range(0, 1 << 32, chunk):
        xs = np.arange(lo, lo + chunk, dtype=np.uint64).astype(np.uint32).view(np.float32)
        for st, sweep, (_, params, _, roots) in zip(stats, sweeps, jobs, strict=True):
            e, w, b, a = sweep(xs, nthreads, roots, *params)
            i = int(np.argmax(e))
            if e[i] > st[0]:
                st[0], st[1] = float(e[i]), float(xs[w[i]])
            if b.sum():
                st[1] = float(xs[w[int(np.argmax(b))]])
            st[2] += int(b.sum())
            st[3] = max(st[3], float(a.max()))
        print(f"  {lo + chunk:>10d} / {1 << 32} inputs", end="\r", flush=True)
    print()
    return [tuple(st) for st in stats]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="kernel variants to sweep (default: all)")
    ap.add_argument("--markdown", type=Path, help="write the table to this file")
    ap.add_argument("--grad-only", action="store_true", help="sweep the gradients alone")
    ap.add_argument("--json", type=Path, help="write the measurement to this file (JSON)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    chosen = [v for v in variants() if not args.only or v[0] in args.only]
    jobs = []
    for name, fwd, grad, params, *_ in chosen:
        roots = roots_of(name)
        if not args.grad_only:
            jobs.append((fwd, params, False, roots))
        jobs.append((grad, params, True, roots))
    t0 = time.perf_counter()
    stats = run_all(jobs)
    none = (float("nan"), float("nan"), 0, float("nan"))
    rows = []
    records = []
    for i, (name, _, _, _, bound, activation, named) in enumerate(chosen):
        f, g = (none, stats[i]) if args.grad_only else (stats[2 * i], stats[2 * i + 1])
        rows.append((name, f, g, bound))
        label = name + "".join(f" {k}={v}" for k, v in named.items() if not isinstance(v, str))
        records.append({
            "label": label, "activation": activation, "variant": name, "params": named,
            "forward": {"max_ulp": _finite(f[0]), "at": _finite(f[1]), "mismatches": f[2]},
            "grad": {"max_ulp": _finite(g[0]), "at": _finite(g[1]),
                     "near_root_eps": _finite(g[3]), "mismatches": g[2]},
            "bound": bound,
        })
        print(f"{name:14s} forward {f[0]:6.2f} ULP (x={f[1]:.7g}, mismatches {f[2]})   "
              f"grad {g[0]:6.2f} ULP (x={g[1]:.7g}, mismatches {g[2]}; near f'=0: "
              f"{g[3]:.2f} eps)")
    print(f"{time.perf_counter() - t0:.0f} s")
    lines = ["| activation | forward max ULP | at x | gradient max ULP | at x | "
             "gradient where \\|f'\\| < 1e-3 (eps) | mismatches (NaN/inf/0) | bound |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, f, g, bound in rows:
        lines.append(f"| {name} | {f[0]:.2f} | {f[1]:.7g} | {g[0]:.2f} | {g[1]:.7g} | "
                     f"{g[3]:.2f} | {f[2] + g[2]} | {bound if bound else 'exact'} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown:
        args.markdown.write_text(table)
    if args.json:
        write_json(args.json, records, argv, partial=bool(args.only) or args.grad_only)


def write_json(path: Path, records, argv, partial: bool):
    """Write the sweep's rows to ``path``; a partial sweep (``--only``, ``--grad-only``) replaces
    only its own rows (a ``--grad-only`` row keeps the forward columns it had) and adds its run to
    the file's list of runs."""
    from benchmarks.accuracy import provenance

    old = json.loads(path.read_text()) if partial and path.exists() else {"runs": [], "rows": []}
    run = {"id": max((r["id"] for r in old["runs"]), default=0) + 1,
           **provenance(argv, "benchmarks/exhaustive.py")}
    by_variant = {r["variant"]: r for r in old["rows"]}
    for rec in records:
        prev = by_variant.get(rec["variant"])
        if prev is not None and rec["forward"]["max_ulp"] is None:
            rec["forward"] = prev["forward"]
        by_variant[rec["variant"]] = {**rec, "run": run["id"]}
    rows = list(by_variant.values())
    used = {r["run"] for r in rows}
    data = {"method": "every float32 input against the same kernel compiled for float64 "
                      "(benchmarks/exhaustive.py's docstring)",
            "runs": [r for r in [*old["runs"], run] if r["id"] in used], "rows": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")

def _finite(v):
    """A float for JSON: None where there is no value (NaN: nothing measured, or no such x)."""
    return None if v is None or math.isnan(v) else float(v)


if __name__ == "__main__":
    main()
