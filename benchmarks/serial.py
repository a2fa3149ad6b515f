"""fastact's serial backend against PyTorch on one thread: every transcendental activation, N=1e6.

    .venv/bin/python benchmarks/serial.py [--n 1000000] [--markdown FILE]

Two tables: both sides allocating their result, and both writing into a preallocated array (the
kernels alone: a fresh 4 MB result costs page faults whose price depends on the allocator's state,
which moved torch's allocating rows by up to 2x between runs here). fastact ``backend="cpu"``,
torch.nn.functional / the aten ops with ``torch.set_num_threads(1)``, float32, random normal
inputs (scale 3); each row is the median of interleaved repetitions, so machine noise hits both
sides alike. Where torch's backward op takes the forward output (sigmoid, tanh), fastact's
gradient is given it too (``result=``): the same array, torch's saved output. These rows are bound
by memory, and their time depends on which array they read (fastact's tanh gradient here:
0.105-0.136 ms across four copies of one y): with separate copies the ratio measured the two
arrays' placement as much as the two loops. Needs torch.
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
from benchmarks.test_activations import CALLS, FROM_OUTPUT  # noqa: E402
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
    fwd, fwd_out, _, bwd, bwd_out = peers.torch_tables()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(args.n) * 3).astype(np.float32)
    g = rng.standard_normal(args.n).astype(np.float32)
    o = np.empty_like(x)
    tx, tg, to = torch.from_numpy(x), torch.from_numpy(g), torch.from_numpy(o)
    rows = {"allocating": [], "out=": []}
    variants = [v for v, (name, _) in CALLS.items()
                if ACTIVATIONS[name].family == TRANSCENDENTAL and ACTIVATIONS[name].torch]
    for v in variants:
        name, p = CALLS[v]
        f = getattr(fastact, name)
        fg = getattr(fastact, f"{name}_grad")
        saved = peers.torch_saved(v, tx)
        # torch's backward takes the forward output for sigmoid/tanh: so does fastact's (result=),
        # reading the very array torch's reads (see the module docstring)
        a1 = {"result": saved.numpy()} if v in FROM_OUTPUT else {}
        gx = () if v in FROM_OUTPUT else (x,)
        if v in fwd:
            t_fwd, t_bwd = (lambda v=v: fwd[v](tx)), (lambda v=v, s=saved: bwd[v](tg, tx, s))
        else:  # the registry's counterpart (a composite: its autograd backward)
            spec = ACTIVATIONS[name]
            t_fwd = peers.torch_from_registry(spec, p, tx, tg, True, {})[0]
            t_bwd = peers.torch_from_registry(spec, p, tx, tg, False, {})[0]
        pairs = {
            "allocating": (
                median_pair(lambda f=f, p=p: f(x, **p, backend="cpu"), t_fwd),
                median_pair(lambda fg=fg, gx=gx, a1=a1, p=p: fg(g, *gx, **p, **a1,
                                                                 backend="cpu"), t_bwd)),
            "out=": (
                median_pair(lambda f=f, p=p: f(x, **p, out=o, backend="cpu"),
                            lambda v=v: fwd_out[v](tx, to)) if v in fwd_out else None,
                median_pair(lambda fg=fg, gx=gx, a1=a1, p=p: fg(g, *gx, **p, **a1, out=o,
                                                                 backend="cpu"),
                            lambda v=v, s=saved: bwd_out[v](tg, tx, s, to))
                if v in bwd_out else None),
        }
        if torch.get_num_threads() != 1:  # see parallel._start_pool
            sys.exit(f"torch's thread count moved to {torch.get_num_threads()} during the "
                     f"{v} rows: the comparison is not on one thread")
        for style, (fw, bw) in pairs.items():
            rows[style].append((v, fw, bw))
            cells = [f"{w} {a[0] * 1e3:7.3f} ms vs {a[1] * 1e3:7.3f} ms = {a[0] / a[1]:5.2f}x"
                     for w, a in (("forward", fw), ("backward", bw)) if a is not None]
            print(f"{v:12s} {style:10s} " + "   ".join(cells), flush=True)
    lines = [
        f"Serial backend vs PyTorch {torch.__version__} on 1 thread, float32, N={args.n:.0e}; "
        "median of 25 interleaved runs (`benchmarks/serial.py`). Ratio < 1: fastact faster; "
        "goal <= 1.0. Backward rows of sigmoid and tanh take the forward output on both sides "
        "(torch's ops do; fastact's `result=`).",
    ]
    met = total = 0
    for style, what in (("allocating", "Both sides allocate the result"),
                        ("out=", "Both sides write into a preallocated array (torch's `.out` / "
                                 "`.grad_input` aten overloads; a dash where torch has none)")):
        lines += ["", f"**{style}** — {what}:", "",
                  "| activation | fastact fwd | torch fwd | ratio "
                  "| fastact bwd | torch bwd | ratio |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for v, fw, bw in rows[style]:
            cells = []
            for pair in (fw, bw):
                if pair is None:
                    cells += ["—"] * 3
                    continue
                cells += [f"{pair[0] * 1e3:.3f} ms", f"{pair[1] * 1e3:.3f} ms",
                          f"{pair[0] / pair[1]:.2f}×"]
                met += pair[0] <= pair[1]
                total += 1
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
    lines += ["", f"{met} of {total} rows meet the goal."]
    # the relu family in cache: N=1e5 float32, out=, against np.maximum(x, 0, out=o)
    n = 10**5
    xs, os_ = x[:n].copy(), np.empty(n, np.float32)
    lines += ["", f"**relu family in cache** — N={n:.0e} float32, `out=`, serial, against "
              "`np.maximum(x, 0, out=o)` (goal: at least 1.5x faster, i.e. ratio <= 0.67):", "",
              "| activation | fastact | np.maximum | ratio |", "|---|---:|---:|---:|"]
    family = {"relu": (), "relu6": (), "leaky_relu": (), "hardtanh": (), "prelu": (0.25,)}
    for name, p in family.items():
        f = getattr(fastact, name)
        a, b = median_pair(lambda f=f, p=p: f(xs, *p, out=os_, backend="cpu"),
                           lambda: np.maximum(xs, 0, out=os_), reps=200)
        lines.append(f"| {name} | {a * 1e6:.1f} us | {b * 1e6:.1f} us | {a / b:.2f}× |")
        print(f"{name:12s} 1e5 out= {a * 1e6:6.1f} us vs np.maximum {b * 1e6:6.1f} us", flush=True)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
