"""Measured accuracy of every activation and gradient: max ULP error against the references.

    .venv/bin/python benchmarks/accuracy.py [--f32-points N] [--f64-points N] [--markdown FILE]
                                            [--json FILE]

float32: over N random float32 bit patterns (every exponent and sign) plus a dense grid on
[-50, 50] and the tails, against the float64 reference of tests/reference.py, wherever the reference
is a normal float32. float64: over N points (random bit patterns, [-40, 40], the tails) against
mpmath at 50 digits. Near a zero of f' (silu, swish, mish, gelu) the gradient's error is absolute,
so those points are reported separately (see tests/test_accuracy.py).

``--json docs/data/accuracy.json`` (``make accuracy``) writes the measurement with the command,
machine and commit that made it; ``tools/gen_docs.py`` renders docs/accuracy.md's table and the
activation pages from that file.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
from pathlib import Path

import mpmath as mp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fastact  # noqa: E402
from fastact.registry import ACTIVATIONS  # noqa: E402
from tests.reference import AXISWISE, GATED, REFS, adversarial_rows, cases, ref_params  # noqa: E402,E501


def full_params(name, params, dtype):
    full = {**ACTIVATIONS[name].defaults(), **params}
    return {k: (float(dtype(v)) if not isinstance(v, str) else v) for k, v in full.items()}


def run(name, x, params, grad):
    if grad:
        r = getattr(fastact, f"{name}_grad")(np.ones_like(x), x, **params)
        return r[0] if ACTIVATIONS[name].has_weight else r
    return getattr(fastact, name)(x, **params)


def max_ulp_f32(got, ref, x, exclude):
    with np.errstate(all="ignore"):
        r = ref.astype(np.float32)
        ok = np.isfinite(r) & (np.abs(ref) >= np.finfo(np.float32).tiny) & ~exclude
        err = np.abs(got[ok].astype(np.float64) - ref[ok]) / np.spacing(np.abs(r[ok])).astype(
            np.float64)
    i = int(np.argmax(err))
    return float(err[i]), float(x[ok][i])


def near(x, roots, window):
    m = np.zeros(x.shape, bool)
    for r in roots:
        m |= np.abs(x.astype(np.float64) - r) < window
    return m


def f32_sample(n, seed=0):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([
        bits[np.isfinite(bits)], np.linspace(-50, 50, 200_001, dtype=np.float32),
        np.linspace(-110, -80, 30_001, dtype=np.float32),
        np.linspace(-20, -5, 30_001, dtype=np.float32),
    ])


def f64_sample(n, seed=1):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, n // 4, dtype=np.uint64).view(np.float64)
    return np.concatenate([
        bits[np.isfinite(bits)], rng.uniform(-40, 40, n // 2), rng.uniform(-745, -700, n // 12),
        rng.uniform(-40, -27, n // 12), rng.uniform(-30, -20, n // 12),
    ])


def mp_ulp(got, want):
    if math.isnan(got):
        return 0.0 if mp.isnan(want) else math.inf
    if abs(want) < mp.mpf("1e-330"):
        return 0.0
    w = float(want)
    if math.isinf(w) or abs(w) < np.finfo(np.float64).tiny:
        return 0.0
    return float(abs(mp.mpf(got) - want) / np.spacing(abs(w)))


def _ups(n, dtype, seed=2):
    """Second inputs of the gated kind: both signs, magnitudes from 1e-3 to 1e36 (so that a product
    with a gate whose activation underflows is still a normal number) and around 1."""
    rng = np.random.default_rng(seed)
    mag = np.where(rng.random(n) < 0.5, 10.0 ** rng.uniform(-3, 36, n), rng.uniform(0.1, 4, n))
    return (mag * rng.choice([-1.0, 1.0], n)).astype(dtype)


def gated_records(x32, x64):
    """The rows of the gated kind: the gate over the element-wise samples, the up input from
    :func:`_ups`; the gradient's column is the larger error of its two partial derivatives
    (the gate's left out within 1e-3 of a zero of act', in float64 within 0.5)."""
    out = []
    for name, spec in GATED.items():
        for variant, ref in spec.references().items():
            params = {} if variant == name else {spec.choice.name: variant[len(name) + 1:]}
            f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
            b32 = _ups(x32.size, np.float32)
            a64, b64 = x32.astype(np.float64), b32.astype(np.float64)
            with np.errstate(all="ignore"):
                want = ref.f(a64, b64)
                da, db = ref.df(a64, b64)
            f32 = max_ulp_f32(f(x32, b32, **params), want, x32, np.zeros(x32.shape, bool))
            ga, gb = fg(np.ones_like(x32), x32, b32, **params)
            g32 = max(max_ulp_f32(ga, da, x32, near(x32, ref.roots, 1e-3)),
                      max_ulp_f32(gb, db, x32, np.zeros(x32.shape, bool)))
            b = _ups(x64.size, np.float64, seed=3)
            y = f(x64, b, **params)
            ya, yb = fg(np.ones_like(x64), x64, b, **params)
            excl = near(x64, ref.roots, 0.5)
            # float64 forms round act(a) first: where it is below the float64 normals (silu
            # below a = -708, gelu below -37.5) a large b brings its subnormal rounding into a
            # normal product; those points are not counted (the kernels' docstring says so)
            with np.errstate(all="ignore"):
                gate = np.abs(getattr(fastact, spec.gate)(x64, **params))
            sub = (gate < np.finfo(np.float64).tiny) & (spec.gate_input == 0)
            f64 = g64 = 0.0
            for ai, bi, yi, gai, gbi, skip, tail in zip(
                    x64.tolist(), b.tolist(), y.tolist(), ya.tolist(), yb.tolist(), excl, sub,
                    strict=True):
                if tail:
                    continue
                am, bm = mp.mpf(ai), mp.mpf(bi)
                f64 = max(f64, mp_ulp(yi, ref.mf(am, bm)))
                wa, wb = ref.mdf(am, bm)
                g64 = max(g64, mp_ulp(gbi, wb), 0.0 if skip else mp_ulp(gai, wa))
            out.append({
                "label": variant, "activation": name, "variant": variant, "params": params,
                "float32": {"forward": f32[0], "forward_at": f32[1], "grad": g32[0],
                            "grad_at": g32[1]},
                "float64": {"forward": f64, "grad": g64},
            })
    return out


def _grad_terms(spec, row, g):
    """The magnitude of the terms whose sum is each gradient element (the gradients of the
    axis-wise kind are differences, ``y (g - sum(g y))``, ``g - p sum(g)``: where they cancel
    the error is measured against the terms, as the element-wise gradients' near a root of f')."""
    if spec.reduces:
        return np.abs(spec.reference.df(row, g[0]))
    if spec.reduction == "sparsemax":
        y = spec.reference.f(row)
        on = y > 0
        return np.where(on, np.abs(g) + abs(math.fsum(g[on]) / on.sum()), 0.0)
    p = spec.reference.f(row) if not spec.log else np.exp(spec.reference.f(row))
    if spec.log:
        return np.abs(g) + p * abs(math.fsum(g))
    return p * (np.abs(g) + abs(math.fsum(g * p)))


def _terms_ulp(got, ref, terms, dtype):
    """Max error in ULP of ``terms`` (the magnitudes the result is measured against: its own,
    the terms of a sum, a row's scale), where they are normal numbers of ``dtype``."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    ok = terms >= np.finfo(dtype).tiny
    if not ok.any():
        return 0.0
    ulp = np.spacing(terms[ok].astype(dtype)).astype(np.float64)
    return float(np.max(np.abs(got[ok] - ref[ok]) / ulp))


def axis_records():
    """The rows of the axis-wise kind over tests/reference.py's adversarial rows: float32
    against the float64 reference, float64 against mpmath; gradients with a random grad_output
    from x, their error in ULP of the magnitude of the terms they sum (:func:`_grad_terms`)."""
    out = []
    for name, spec in AXISWISE.items():
        f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
        sparse = spec.reduction == "sparsemax"
        res = {}
        for dtype in (np.float32, np.float64):
            fwd = grad = 0.0
            rng = np.random.default_rng(0)
            for row in adversarial_rows(dtype):
                x = row.astype(dtype)
                g = rng.standard_normal(1 if spec.reduces else row.size)
                g = g.astype(dtype).astype(np.float64)
                gg = g[0] if spec.reduces else g
                if dtype == np.float32:
                    want, dwant = spec.reference.f(row), spec.reference.df(row, gg)
                else:
                    xm = [mp.mpf(v) for v in row]
                    want = spec.reference.mf(xm)
                    want = [float(v) for v in (want if isinstance(want, list) else [want])]
                    dm = spec.reference.mdf(xm, mp.mpf(gg) if spec.reduces else
                                            [mp.mpf(v) for v in g])
                    dwant = [float(v) for v in dm]
                want = np.atleast_1d(np.asarray(want, np.float64))
                scale = (np.full(want.shape, np.max(np.abs(row))) if sparse  # differences
                         else np.abs(want))
                fwd = max(fwd, _terms_ulp(np.atleast_1d(f(x)), want, scale, dtype))
                got = fg(dtype(gg) if spec.reduces else g.astype(dtype), x)
                grad = max(grad, _terms_ulp(got, dwant, _grad_terms(spec, row, g), dtype))
            res[dtype] = (fwd, grad)
        out.append({
            "label": name, "activation": name, "variant": name, "params": {},
            "float32": {"forward": res[np.float32][0], "forward_at": None,
                        "grad": res[np.float32][1], "grad_at": None},
            "float64": {"forward": res[np.float64][0], "grad": res[np.float64][1]},
        })
    return out


def provenance(argv, script="benchmarks/accuracy.py") -> dict:
    """What produced a measurement: the command, the machine, the versions and the commit."""
    import llvmlite.binding as llvm
    import numba

    info = fastact.info()
    root = Path(__file__).resolve().parents[1]

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no", "--", "fastact",
                      "kernels"):
        commit += " (with uncommitted changes to fastact/ or kernels/)"
    return {
        "command": " ".join([f"python {script}", *argv]),
        "machine": f"{info['cpu']} (LLVM target {llvm.get_host_cpu_name()}), "
                   f"{info['logical_cores']} logical cores, {platform.system()} "
                   f"{platform.machine()}",
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "numba": numba.__version__, "mpmath": mp.__version__},
        "commit": commit,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--f32-points", type=int, default=2_000_000)
    ap.add_argument("--f64-points", type=int, default=2_000)
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    ap.add_argument("--json", type=Path, help="also write the measurement to this file (JSON)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    x32 = f32_sample(args.f32_points)
    x64 = f64_sample(args.f64_points)
    rows = []
    records = []
    for name, variant, params in cases():
        ref = REFS[variant]
        p32 = full_params(name, params, np.float32)
        with np.errstate(all="ignore"):
            want = ref.f(x32.astype(np.float64), **ref_params(p32))
            dwant = ref.df(x32.astype(np.float64), **ref_params(p32))
        f32 = max_ulp_f32(run(name, x32, params, False), want, x32, np.zeros(x32.shape, bool))
        g32 = max_ulp_f32(run(name, x32, params, True), dwant, x32, near(x32, ref.roots, 1e-3))
        rp = ref_params(full_params(name, params, np.float64))
        y, dy = run(name, x64, params, False), run(name, x64, params, True)
        f64 = g64 = 0.0
        excl = near(x64, ref.roots, 0.5)
        for xi, yi, dyi, skip in zip(x64.tolist(), y.tolist(), dy.tolist(), excl, strict=True):
            xm = mp.mpf(xi)
            f64 = max(f64, mp_ulp(yi, ref.mf(xm, **rp)))
            if not skip:
                g64 = max(g64, mp_ulp(dyi, ref.mdf(xm, **rp)))
        label = variant + "".join(f" {k}={v}" for k, v in params.items() if k != "approximate")
        rows.append((label, f32, g32, f64, g64))
        records.append({
            "label": label, "activation": name, "variant": variant,
            "params": {k: v for k, v in params.items()},
            "float32": {"forward": f32[0], "forward_at": f32[1], "grad": g32[0],
                        "grad_at": g32[1]},
            "float64": {"forward": f64, "grad": g64},
        })
        print(f"{label:34s} f32 {f32[0]:6.2f} (x={f32[1]:.6g})  grad {g32[0]:6.2f}   "
              f"f64 {f64:6.2f}  grad {g64:6.2f}", flush=True)
    for rec in gated_records(x32, x64) + axis_records():
        f32, g32 = rec["float32"], rec["float64"]
        rows.append((rec["label"], (f32["forward"], f32["forward_at"]),
                     (f32["grad"], f32["grad_at"]), g32["forward"], g32["grad"]))
        records.append(rec)
        print(f"{rec['label']:34s} f32 {f32['forward']:6.2f}  grad {f32['grad']:6.2f}   "
              f"f64 {g32['forward']:6.2f}  grad {g32['grad']:6.2f}", flush=True)
    lines = [
        f"Max ULP error, float32 over {x32.size:,} inputs (random bit patterns + dense grids) "
        f"against a float64 reference; float64 over {x64.size:,} inputs against mpmath.",
        "",
        "| activation | float32 forward | float32 grad | float64 forward | float64 grad |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, f32, g32, f64, g64 in rows:
        lines.append(f"| {label} | {f32[0]:.2f} | {g32[0]:.2f} | {f64:.2f} | {g64:.2f} |")
    table = "\n".join(lines) + "\n"
    if args.markdown:
        args.markdown.write_text(table)
    if args.json:
        data = {
            **provenance(argv),
            "method": (
                "Max ULP error of the result's type. float32: random float32 bit patterns (every "
                "exponent, both signs) plus dense grids on [-50, 50] and the tails, against the "
                "float64 references of tests/reference.py, wherever the reference is a normal "
                "float32; gradients = f'(x) (grad_output = 1), points within 1e-3 of a zero of "
                "f' left out. float64: random bit patterns, [-40, 40] and the underflow tails, "
                "against mpmath at 50 digits, gradients without the points within 0.5 of a "
                "zero of f'. Gated (act(a) * b): a as x above, b of both signs with magnitudes "
                "from 1e-3 to 1e36; the gradient column is the larger error of d/da and d/db; "
                "float64 where act(a) is a normal float64. Axis-wise: over the adversarial rows of "
                "tests/reference.py (random, one huge element, equal elements, a linear range "
                "down to -100, subnormal probabilities, near ties, 1000 elements), float32 "
                "against float64, float64 against mpmath; gradients from x with a random "
                "grad_output, in ULP of the magnitude of the terms each gradient element sums "
                "(y g and y sum(g y) for softmax; they cancel where the result is tiny); "
                "sparsemax in ULP of the row's largest magnitude."),
            "float32_inputs": int(x32.size), "float64_inputs": int(x64.size),
            "rows": records,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=1) + "\n")
    print(table)


if __name__ == "__main__":
    main()
