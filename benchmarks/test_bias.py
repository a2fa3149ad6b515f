"""``bias=`` + activation, forward and backward, timed interleaved beside the peers and the
streaming ceiling (float32, all cores).

A linear layer's output and bias: x of (8192, 4096) and b of (4096,). Each round calls every
implementation once, in turn (A/B/C/... in one loop), so a slow moment of a shared machine
lands on all of them; the row keeps each one's median and spread. Implementations:

- fastact: ``f(x, bias=b)``, ``f_grad(g, x, bias=b)`` -> (grad_input, grad_bias), fused;
- fastact unfused: ``f(x + b)`` and ``f_grad(g, x + b)`` with ``grad.sum(0)``;
- torch: ``F.gelu(x + b)`` and ``torch.autograd.grad`` of it for x and b (one untimed forward);
- JAX: ``jax.jit`` of the same and of its vjp;
- ceiling: a loop that moves the bytes of the fused call with no math: the forward reads x and
  writes the result (8 bytes an element), the backward reads grad_output and x and writes
  grad_input (12 bytes), each into a preallocated array (fastact and the peers allocate).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from numba import njit, prange

import fastact
from fastact.backends import parallel

from . import peers
from .conftest import MODE, interleaved, skip_if_no_memory

SHAPE = (8192, 4096)
NAMES = ["gelu", "relu", "silu"] if MODE == "full" else ["gelu"]
IMPLS = ("fastact", "fastact:unfused", "torch", "jax", "ceiling")


@njit(parallel=True, cache=True)
def _stream_fwd(x, b, out, rows, n):
    for r in prange(rows):
        xr, orow = x[r * n:(r + 1) * n], out[r * n:(r + 1) * n]
        for i in range(n):
            orow[i] = xr[i] + b[i]


@njit(parallel=True, cache=True)
def _stream_bwd(g, x, out, rows, n):
    for r in prange(rows):
        gr, xr, orow = g[r * n:(r + 1) * n], x[r * n:(r + 1) * n], out[r * n:(r + 1) * n]
        for i in range(n):
            orow[i] = gr[i] + xr[i]


def _calls(name, direction, x, b, g):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    rows, n = x.shape
    out = np.empty_like(x)
    fx, fg_, fo = x.reshape(-1), g.reshape(-1), out.reshape(-1)
    if direction == "forward":
        calls = {"fastact": lambda: f(x, bias=b), "fastact:unfused": lambda: f(x + b),
                 "ceiling": lambda: _stream_fwd(fx, b, fo, rows, n)}
    else:
        calls = {"fastact": lambda: fg(g, x, bias=b),
                 "fastact:unfused": lambda: (lambda gi: (gi, gi.sum(0)))(fg(g, x + b)),
                 "ceiling": lambda: _stream_bwd(fg_, fx, fo, rows, n)}
    if peers.installed("torch"):
        calls["torch"] = _torch_call(name, direction, x, b, g)
    if peers.installed("jax"):
        calls["jax"] = _jax_call(name, direction, x, b, g)
    return calls


def _torch_call(name, direction, x, b, g):
    import torch
    import torch.nn.functional as F

    fn = {"gelu": F.gelu, "relu": torch.relu, "silu": F.silu}[name]
    xt, bt, gt = (torch.from_numpy(a) for a in (x, b, g))
    if direction == "forward":
        return lambda: fn(xt + bt)
    leaves = [xt.detach().requires_grad_(), bt.detach().requires_grad_()]
    y = fn(leaves[0] + leaves[1])
    return lambda: torch.autograd.grad(y, leaves, gt, retain_graph=True)


def _jax_call(name, direction, x, b, g):
    jax = peers.import_jax()
    fn = {"gelu": lambda v: jax.nn.gelu(v, approximate=False), "relu": jax.nn.relu,
          "silu": jax.nn.silu}[name]
    xs, bs, gs = (jax.device_put(a) for a in (x, b, g))

    def f(xx, bb):
        return fn(xx + bb)

    if direction == "forward":
        jf = jax.jit(f)
        return lambda: jf(xs, bs).block_until_ready()
    jb = jax.jit(lambda gg, xx, bb: jax.vjp(f, xx, bb)[1](gg))
    return lambda: jax.block_until_ready(jb(gs, xs, bs))


CASES = [(name, direction) for name in NAMES for direction in ("forward", "backward")]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_bias(benchmark, case):
    name, direction = case
    rows, n = SHAPE
    skip_if_no_memory(rows * n, 4, 10)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(SHAPE, dtype=np.float32) * 3
    g = rng.standard_normal(SHAPE, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    calls = _calls(name, direction, x, b, g)
    for call in calls.values():
        call()  # warm-up (compiles): never timed
    stats = interleaved(calls)
    benchmark.group = f"bias {direction}"
    benchmark.name = f"{name}:interleaved"
    benchmark.extra_info.update({
        "variant": "bias", "activation": name, "label": "x".join(map(str, SHAPE)),
        "direction": direction, "bytes": (8 if direction == "forward" else 12) * rows * n,
        "threads": parallel.threads(), "interleaved": stats,
    })
    t0 = time.perf_counter()
    benchmark.pedantic(calls["fastact"], rounds=1, iterations=1)  # the row's own entry
    assert time.perf_counter() - t0 < 60
