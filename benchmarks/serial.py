"""fastact's serial backend against PyTorch on one thread: every transcendental activation, N=1e6.

    .venv/bin/python benchmarks/serial.py [--n 1000000] [--markdown FILE]

Both sides allocate their result (fastact ``backend="cpu"``, torch.nn.functional / the aten
backward ops with ``torch.set_num_threads(1)``), float32, random normal inputs (scale 3); each row
is the median of interleaved repetitions, so machine noise hits both sides alike. Needs torch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fastact  # noqa: E402
from benchmarks import peers  # noqa: E402
from fastact.registry import ACTIVATIONS, TRANSCENDENTAL  # noqa: E402


def median_pair(f, g, reps=25):
    f()
    g()
    tf, tg = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        t1 = time.perf_counter()
        g()
        t2 = time.perf_counter()
        tf.append(t1 - t0)
        tg.append(t2 - t1)
    return float(np.median(tf)), float(np.median(tg))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    fwd, _, _, bwd, _ = peers.torch_tables()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(args.n) * 3).astype(np.float32)
    g = rng.standard_normal(args.n).astype(np.float32)
    tx, tg = torch.from_numpy(x), torch.from_numpy(g)
    rows = []
    variants = [n for n, s in ACTIVATIONS.items() if s.family == TRANSCENDENTAL] + ["gelu_tanh"]
    for v in variants:
        name, p = ("gelu", ("tanh",)) if v == "gelu_tanh" else (v, ())
        f = getattr(fastact, name)
        fg = getattr(fastact, f"{name}_grad")
        saved = peers.torch_saved(v, tx)
        a, b = median_pair(lambda f=f, p=p: f(x, *p, backend="cpu"), lambda v=v: fwd[v](tx))
        c, d = median_pair(lambda fg=fg, p=p: fg(g, x, *p, backend="cpu"),
                           lambda v=v, s=saved: bwd[v](tg, tx, s))
        rows.append((v, a, b, c, d))
        print(f"{v:12s} forward {a * 1e3:7.3f} ms vs torch {b * 1e3:7.3f} ms = {a / b:5.2f}x   "
              f"backward {c * 1e3:7.3f} ms vs {d * 1e3:7.3f} ms = {c / d:5.2f}x", flush=True)
    lines = [
        f"Serial backend vs PyTorch {torch.__version__} on 1 thread, float32, N={args.n:.0e}, "
        "allocating; median of 25 interleaved runs (`benchmarks/serial.py`). Ratio < 1: fastact "
        "faster; goal <= 1.0.",
        "",
        "| activation | fastact fwd | torch fwd | ratio | fastact bwd | torch bwd | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for v, a, b, c, d in rows:
        lines.append(f"| {v} | {a * 1e3:.3f} ms | {b * 1e3:.3f} ms | {a / b:.2f}× | "
                     f"{c * 1e3:.3f} ms | {d * 1e3:.3f} ms | {c / d:.2f}× |")
    met = sum(a / b <= 1.0 for _, a, b, _, _ in rows) + sum(c / d <= 1.0 for *_, c, d in rows)
    lines += ["", f"{met} of {2 * len(rows)} rows meet the goal."]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
