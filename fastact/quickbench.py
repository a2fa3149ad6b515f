"""``fastact bench``: a quick, self-contained timing table (the full suite is ``make bench``).

Times a few activations, forward and backward, float32, against the NumPy formula and, where
installed, PyTorch (``torch.nn.functional`` forward, the aten backward op), in one process, and
prints medians and ratios. Every result is checked against the NumPy formula before timing.
"""

from __future__ import annotations

import time

import numpy as np

import fastact


def _numpy_tables():
    def sig(x):
        return 0.5 * (1 + np.tanh(0.5 * x))

    fwd = {
        "relu": lambda x: np.maximum(x, 0),
        "sigmoid": sig,
        "tanh": np.tanh,
        "silu": lambda x: x * sig(x),
    }
    bwd = {
        "relu": lambda g, x: np.where(x > 0, g, 0).astype(x.dtype),
        "sigmoid": lambda g, x: g * sig(x) * (1 - sig(x)),
        "tanh": lambda g, x: g * (1 - np.tanh(x) ** 2),
        "silu": lambda g, x: g * (sig(x) * (1 + x * (1 - sig(x)))),
    }
    return fwd, bwd


def _torch_tables():
    try:
        import torch
    except ImportError:
        return None
    F = torch.nn.functional
    fwd = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "silu": F.silu}
    ops = torch.ops.aten
    bwd = {
        "relu": lambda g, x: ops.threshold_backward(g, x, 0),
        "sigmoid": lambda g, x: ops.sigmoid_backward(g, torch.sigmoid(x)),
        "tanh": lambda g, x: ops.tanh_backward(g, torch.tanh(x)),
        "silu": lambda g, x: ops.silu_backward(g, x),
    }
    return torch, fwd, bwd


def _median(fn, budget):
    fn()
    times, start = [], time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 1000):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def run(sizes=(10**3, 10**6, 10**7), names=("relu", "sigmoid", "tanh", "silu"),
        budget=0.2, echo=print) -> list[dict]:
    """Time each case; returns rows of dicts and prints a table through ``echo``."""
    npf, npb = _numpy_tables()
    tt = _torch_tables()
    rng = np.random.default_rng(0)
    rows = []
    head = f"{'activation':10s} {'dir':3s} {'N':>5s} {'fastact':>10s} {'numpy':>10s} " \
           f"{'torch':>10s} {'vs numpy':>9s} {'vs torch':>9s}"
    echo(head)
    echo("-" * len(head))
    for n in sizes:
        x = (rng.standard_normal(n) * 3).astype(np.float32)
        g = rng.standard_normal(n).astype(np.float32)
        for name in names:
            for direction in ("fwd", "bwd"):
                fa, fn, ft = _callables(name, direction, x, g, npf, npb, tt)
                with np.errstate(all="ignore"):
                    np.testing.assert_allclose(fa(), fn(), rtol=2e-5, atol=2e-6)
                    t_fa, t_np = _median(fa, budget), _median(fn, budget)
                t_t = _median(ft, budget) if ft is not None else None
                row = {"activation": name, "direction": direction, "n": n, "fastact_s": t_fa,
                       "numpy_s": t_np, "torch_s": t_t}
                rows.append(row)
                echo(f"{name:10s} {direction:3s} {f'1e{len(str(n)) - 1}':>5s} "
                     f"{_fmt(t_fa):>10s} {_fmt(t_np):>10s} {_fmt(t_t):>10s} "
                     f"{t_fa / t_np:>8.2f}x {(f'{t_fa / t_t:.2f}x' if t_t else '-'):>9s}")
    return rows


def _callables(name, direction, x, g, npf, npb, tt):
    """(fastact call, NumPy call, torch call or None) for one row."""
    if direction == "fwd":
        f, ref = getattr(fastact, name), npf[name]

        def fa():
            return f(x)

        def fn():
            return ref(x)
    else:
        f, ref = getattr(fastact, f"{name}_grad"), npb[name]

        def fa():
            return f(g, x)

        def fn():
            return ref(g, x)
    ft = None
    if tt is not None:
        torch, tf, tb = tt
        tx, tg = torch.from_numpy(x), torch.from_numpy(g)
        if direction == "fwd":
            def ft():
                return tf[name](tx)
        else:
            def ft():
                return tb[name](tg, tx)
    return fa, fn, ft


def _fmt(s):
    if s is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"
