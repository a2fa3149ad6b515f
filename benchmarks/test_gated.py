"""The gated activations (glu, swiglu, geglu, reglu), forward and backward, beside the peers and
the streaming ceiling, in one run (float32, all cores).

Shapes: a transformer MLP's (8192, 2 x 4096) and a decoder step's (64, 2 x 11008), and x of 1e7
and 1e8 elements (rows of 2 x 4096). Forms: split (x's two halves along the last axis) and
two-input (gate and up arrays). Peers, each given what its users write:

- torch: the composite ``F.silu(x1) * x2`` on ``x.chunk(2, -1)`` (split) or on two tensors, and
  its autograd backward of one untimed forward (``torch.autograd.grad``); glu's split form is
  ``F.glu(x)`` itself;
- JAX: ``jax.jit`` of the same composite (``jax.nn.glu`` for glu's split form) and of its vjp.

The ceiling is a parallel loop that moves the same bytes with no math: the forward reads gate
and up and writes the result (12 bytes an element of the result), the backward reads
grad_output, gate and up and writes both gradients (20 bytes).
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit, prange

import fastact
from fastact.backends import parallel
from tests.reference import GATED

from . import peers
from .conftest import MODE, interleaved, skip_if_no_memory

#: label -> (rows, half width): x has shape (rows, 2 * half)
SHAPES = {"8192x2x4096": (8192, 4096), "64x2x11008": (64, 11008),
          "1e7": (1221, 4096), "1e8": (12208, 4096)}
if MODE == "quick":
    SHAPES = {k: SHAPES[k] for k in ("64x2x11008", "1e7")}
NAMES = list(GATED) if MODE == "full" else ["swiglu"]
FORMS = ("split", "pair")
IMPLS = ["fastact:auto", "torch", "jax", "ceiling"]


def _cases():
    out = []
    for label in SHAPES:
        for name in NAMES:
            for form in FORMS:
                for direction in ("forward", "backward"):
                    for impl in IMPLS:
                        if impl in ("torch", "jax") and not peers.installed(impl):
                            continue
                        out.append((label, name, form, direction, impl))
    return out


CASES = _cases()
_DATA = {}


def _data(label):
    if label not in _DATA:
        _DATA.clear()
        rows, h = SHAPES[label]
        rng = np.random.default_rng(7)
        x = (rng.standard_normal((rows, 2 * h), dtype=np.float32) * 3)
        _DATA[label] = {"x": x, "gate": np.ascontiguousarray(x[:, :h]),
                        "up": np.ascontiguousarray(x[:, h:]),
                        "g": rng.standard_normal((rows, h), dtype=np.float32)}
    return _DATA[label]


@njit(parallel=True, cache=True)
def _stream_fwd(a, b, out, rows, n, sa, sb, so):
    for r in prange(rows):
        ar, br, orow = a[r * sa:r * sa + n], b[r * sb:r * sb + n], out[r * so:r * so + n]
        for i in range(orow.size):
            orow[i] = ar[i] + br[i]


@njit(parallel=True, cache=True)
def _stream_bwd(g, a, b, da, db, rows, n, sg, sa, sb, sd):
    for r in prange(rows):
        gr, ar, br = g[r * sg:r * sg + n], a[r * sa:r * sa + n], b[r * sb:r * sb + n]
        dar, dbr = da[r * sd:r * sd + n], db[r * sd:r * sd + n]
        for i in range(gr.size):
            dar[i] = gr[i] + ar[i]
            dbr[i] = gr[i] + br[i]


def _ceiling(form, direction, d):
    """The no-math loop over the same operands and layout as fastact's."""
    x, g = d["x"], d["g"]
    rows, h = g.shape
    if form == "split":
        fx = x.reshape(-1)
        a, b, sab = fx, fx[h:], 2 * h
    else:
        a, b, sab = d["gate"].reshape(-1), d["up"].reshape(-1), h
    if direction == "forward":
        out = np.empty(rows * h, np.float32)
        return lambda: _stream_fwd(a, b, out, rows, h, sab, sab, h)
    da = np.empty(rows * 2 * h if form == "split" else rows * h, np.float32)
    db = da[h:] if form == "split" else np.empty(rows * h, np.float32)
    sd = 2 * h if form == "split" else h
    return lambda: _stream_bwd(g.reshape(-1), a, b, da, db, rows, h, h, sab, sab, sd)


def _torch_call(name, form, direction, d):
    import torch

    spec = GATED[name]
    fn = spec.torch.function(torch, spec.defaults())
    split = spec.torch.split(torch, spec.defaults()) if spec.torch.split else None

    def forward(t, a=None, b=None):
        if form == "split":
            if split is not None:
                return split(t, -1)
            return fn(*t.chunk(2, -1))
        return fn(a, b)

    x, g = torch.from_numpy(d["x"]), torch.from_numpy(d["g"])
    a, b = torch.from_numpy(d["gate"]), torch.from_numpy(d["up"])
    if direction == "forward":
        return lambda: forward(x, a, b)
    leaves = [x.detach().requires_grad_()] if form == "split" else [
        a.detach().requires_grad_(), b.detach().requires_grad_()]
    y = forward(leaves[0], *([None, None] if form == "split" else leaves))
    return lambda: torch.autograd.grad(y, leaves, g, retain_graph=True)


def _jax_call(name, form, direction, d):
    jax = peers.import_jax()
    spec = GATED[name]
    fn = spec.jax.function(jax, spec.defaults())
    split = spec.jax.split(jax, spec.defaults()) if spec.jax.split else None
    h = d["g"].shape[1]

    def f_split(x):
        return split(x, -1) if split is not None else fn(x[:, :h], x[:, h:])

    if form == "split":
        args = (jax.device_put(d["x"]),)
        f = f_split
    else:
        args = (jax.device_put(d["gate"]), jax.device_put(d["up"]))
        f = fn
    g = jax.device_put(d["g"])
    if direction == "forward":
        jf = jax.jit(f)
        return lambda: jf(*args).block_until_ready()
    jb = jax.jit(lambda gg, *xs: jax.vjp(f, *xs)[1](gg))
    return lambda: jax.block_until_ready(jb(g, *args))


def _fastact_call(name, form, direction, d):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x, g, a, b = d["x"], d["g"], d["gate"], d["up"]
    if direction == "forward":
        return (lambda: f(x)) if form == "split" else (lambda: f(a, b))
    return (lambda: fg(g, x)) if form == "split" else (lambda: fg(g, a, b))


ROWS = sorted({c[:4] for c in CASES}, key=lambda r: [c[:4] for c in CASES].index(r))


@pytest.mark.parametrize("row", ROWS, ids=["-".join(r) for r in ROWS])
def test_gated(benchmark, row):
    """One row: fastact, the peers and the row's ceiling, timed interleaved."""
    label, name, form, direction = row
    rows, h = SHAPES[label]
    skip_if_no_memory(rows * h, 4, 14)  # x (2), outputs (2), the peers' temporaries
    d = _data(label)
    builders = {"fastact:auto": _fastact_call, "torch": _torch_call, "jax": _jax_call}
    calls = {}
    for impl in (c[4] for c in CASES if c[:4] == row):
        if impl != "ceiling":
            calls[impl] = builders[impl](name, form, direction, d)
            calls[impl]()  # warm-up (compiles): never timed
    calls["ceiling"] = _ceiling(form, direction, d)
    calls["ceiling"]()
    stats = interleaved(calls)
    benchmark.group = f"gated {label} {form} {direction}"
    benchmark.name = f"{name}:interleaved"
    benchmark.extra_info.update({
        "variant": "gated", "activation": name, "label": label, "form": form,
        "direction": direction, "rows": rows, "half": h,
        "bytes": (12 if direction == "forward" else 20) * rows * h,
        "threads": parallel.threads(), "interleaved": stats,
    })
    benchmark.pedantic(calls["fastact:auto"], rounds=1, iterations=1)
