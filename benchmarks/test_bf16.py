"""bfloat16 (ml_dtypes), forward and backward, beside torch's bfloat16 CPU ops and fastact's own
float32, in one run (all cores).

Rows (issue 24): element-wise activations at N = 1e6 and 1e8; swiglu and geglu in the split
form on x of (8192, 2 x 4096); softmax and log_softmax on (8192, 4096) over the last axis and
(4096, 8192) over axis 0. Each row times three implementations on the same values, interleaved
(benchmarks/conftest.interleaved: each round calls each once):

- ``fastact:bf16``: fastact on ml_dtypes.bfloat16 arrays;
- ``fastact:f32``: fastact on the float32 arrays of the same values (the target's "own float32");
- ``torch:bf16``: torch on bfloat16 tensors (the same memory): the aten ops of
  benchmarks/peers.py for the element-wise kind (backward: the op autograd runs, given what the
  forward saved: the output for sigmoid and tanh, which fastact's rows are given too, as
  ``result=``); for the gated kind the composite ``F.silu(a) * b`` and its autograd backward;
  for softmax ``torch.softmax`` and ``_softmax_backward_data`` from the saved output.

Every implementation allocates its result. Memory-bound rows (the piecewise-linear family) aim at
<= 0.6x fastact's float32 at 1e8; every row at <= 0.8x torch's bfloat16.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastact
from fastact.backends import parallel
from tests.reference import GATED

from . import peers
from .conftest import MODE, interleaved, skip_if_no_memory

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)

ELEMENTWISE = ["relu", "leaky_relu", "hardtanh", "gelu", "silu", "sigmoid", "tanh", "elu",
               "hardswish", "mish"]
SIZES = {"1e6": 10 ** 6, "1e8": 10 ** 8}
GATED_NAMES = ["swiglu", "geglu"]
AXIS = {"8192x4096 axis -1": ((8192, 4096), -1), "4096x8192 axis 0": ((4096, 8192), 0)}
AXIS_NAMES = ["softmax", "log_softmax"]
if MODE == "quick":
    ELEMENTWISE, GATED_NAMES, AXIS_NAMES = ["relu", "gelu"], ["swiglu"], ["softmax"]
    AXIS = {"8192x4096 axis -1": AXIS["8192x4096 axis -1"]}
IMPLS = ["fastact:bf16", "fastact:f32", "torch:bf16"]


def _cases():
    out = []
    rows = ([("elementwise", n, label) for n in ELEMENTWISE for label in SIZES]
            + [("gated", n, "8192x2x4096") for n in GATED_NAMES]
            + [("axiswise", n, label) for n in AXIS_NAMES for label in AXIS])
    for kind, name, label in rows:
        for direction in ("forward", "backward"):
            for impl in IMPLS:
                if impl.startswith("torch") and not peers.installed("torch"):
                    continue
                out.append((kind, name, label, direction, impl))
    return out


CASES = _cases()
_DATA = {}


def _data(kind, label):
    """(x, g) in float32, the same values as bfloat16 exactly (drawn, then rounded)."""
    key = (kind, label)
    if key not in _DATA:
        _DATA.clear()
        rng = np.random.default_rng(11)
        if kind == "elementwise":
            shape, gshape = (SIZES[label],), (SIZES[label],)
        elif kind == "gated":
            shape, gshape = (8192, 2 * 4096), (8192, 4096)
        else:
            shape = gshape = AXIS[label][0]
        x = (rng.standard_normal(shape, dtype=np.float32) * 3).astype(BF16)
        g = rng.standard_normal(gshape, dtype=np.float32).astype(BF16)
        _DATA[key] = {"bf16": (x, g), "f32": (x.astype(np.float32), g.astype(np.float32))}
    return _DATA[key]


def _tensor(a):
    import torch

    return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)


def _fastact_call(kind, name, label, direction, x, g):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    if kind == "axiswise":
        axis = AXIS[label][1]
        if direction == "forward":
            return lambda: f(x, axis=axis)
        y = f(x, axis=axis)
        return lambda: fg(g, axis=axis, result=y)
    if direction == "forward":
        return lambda: f(x)
    if name in peers.FROM_OUTPUT:
        y = f(x)
        return lambda: fg(g, result=y)
    return lambda: fg(g, x)


def _torch_call(kind, name, label, direction, x, g):
    import torch

    tx, tg = _tensor(x), _tensor(g)
    if kind == "axiswise":
        axis = AXIS[label][1]
        fn = torch.softmax if name == "softmax" else torch.log_softmax
        if direction == "forward":
            return lambda: fn(tx, axis)
        y = fn(tx, axis)
        back = (torch._softmax_backward_data if name == "softmax"
                else torch._log_softmax_backward_data)
        return lambda: back(tg, y, axis, torch.bfloat16)
    if kind == "gated":
        spec = GATED[name]
        act = spec.torch.function(torch, spec.defaults())

        def forward(t):
            return act(*t.chunk(2, -1))

        if direction == "forward":
            return lambda: forward(tx)
        leaf = tx.detach().requires_grad_()
        y = forward(leaf)
        return lambda: torch.autograd.grad(y, [leaf], tg, retain_graph=True)
    fwd, _, _, bwd, _ = peers.torch_tables()
    if direction == "forward":
        fn = fwd[name]
        return lambda: fn(tx)
    saved = peers.torch_saved(name, tx)
    fn = bwd[name]
    return lambda: fn(tg, tx, saved)


ROWS = sorted({c[:4] for c in CASES}, key=lambda r: [c[:4] for c in CASES].index(r))


@pytest.mark.parametrize("row", ROWS, ids=["-".join(r) for r in ROWS])
def test_bf16(benchmark, row):
    """One row: fastact on bfloat16, on float32 and torch on bfloat16, timed interleaved."""
    kind, name, label, direction = row
    d = _data(kind, label)
    skip_if_no_memory(d["f32"][0].size, 4, 8)
    calls = {}
    for impl in (c[4] for c in CASES if c[:4] == row):
        x, g = d["f32" if impl == "fastact:f32" else "bf16"]
        build = _torch_call if impl.startswith("torch") else _fastact_call
        calls[impl] = build(kind, name, label, direction, x, g)
        calls[impl]()  # warm-up (compiles): never timed
    stats = interleaved(calls)
    benchmark.group = f"bf16 {kind} {label} {direction}"
    benchmark.name = f"{name}:interleaved"
    benchmark.extra_info.update({
        "variant": "bf16", "kind": kind, "activation": name, "label": label,
        "direction": direction, "elements": int(d["f32"][0].size),
        "threads": parallel.threads(), "interleaved": stats,
    })
    benchmark.pedantic(calls["fastact:bf16"], rounds=1, iterations=1)
