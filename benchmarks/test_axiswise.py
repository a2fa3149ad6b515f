"""The axis-wise activations (softmax, log_softmax, logsumexp), forward and backward, beside the
peers in one run (float32 and float64, all cores).

Shapes (issue 23): (8192, 4096) over the last axis, (4096, 8192) over axis 0, (32, 81, 8732)
over axis 1 (torch issue #64726's shape) and (49152, 512) over the last axis (attention scores).
Peers, each given what its users write:

- torch: ``torch.softmax(x, dim)`` etc.; backward: ATen's own ops from the saved output
  (``_softmax_backward_data``, ``_log_softmax_backward_data``) and, for logsumexp, autograd's
  backward of one untimed forward;
- JAX: ``jax.jit`` of ``jax.nn.softmax(x, axis)`` etc. and of its vjp (which recomputes the
  forward: JAX has no backward from a saved output);
- scipy.special: ``softmax(x, axis)`` etc. (forward only; single-threaded NumPy).

A row's implementations are timed interleaved (benchmarks/conftest.interleaved: each round calls
each once). fastact's backward is ``<name>_grad(g, result=y)`` (logsumexp: ``logsumexp_grad(g, x,
result=y)``), the output saved by the forward as torch's ops take it.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastact
from fastact.backends import parallel
from tests.reference import AXISWISE

from . import peers
from .conftest import MODE, interleaved, skip_if_no_memory

#: label -> (shape, axis)
SHAPES = {"8192x4096 axis -1": ((8192, 4096), -1), "4096x8192 axis 0": ((4096, 8192), 0),
          "32x81x8732 axis 1": ((32, 81, 8732), 1), "49152x512 axis -1": ((49152, 512), -1)}
NAMES = ["softmax", "log_softmax", "logsumexp"]
DTYPES = ["float32", "float64"]
if MODE == "quick":
    SHAPES = {k: SHAPES[k] for k in ("8192x4096 axis -1", "4096x8192 axis 0")}
    NAMES, DTYPES = ["softmax"], ["float32"]
IMPLS = ["fastact:auto", "torch", "jax", "scipy"]


def _cases():
    out = []
    for label in SHAPES:
        for dtype in DTYPES:
            for name in NAMES:
                for direction in ("forward", "backward"):
                    for impl in IMPLS:
                        if impl != "fastact:auto" and not peers.installed(impl):
                            continue
                        if impl == "scipy" and direction == "backward":
                            continue  # scipy.special has no gradients
                        out.append((label, dtype, name, direction, impl))
    return out


CASES = _cases()
_DATA = {}


def _data(label, dtype):
    key = (label, dtype)
    if key not in _DATA:
        _DATA.clear()
        shape, axis = SHAPES[label]
        rng = np.random.default_rng(7)
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        d = {"x": x, "axis": axis, "g": rng.standard_normal(shape).astype(dtype)}
        d["lse_g"] = rng.standard_normal(fastact.logsumexp(x, axis).shape).astype(dtype)
        d["y"] = {n: getattr(fastact, n)(x, axis) for n in NAMES}
        _DATA[key] = d
    return _DATA[key]


def _grad_output(name, d):
    return d["lse_g"] if AXISWISE[name].reduces else d["g"]


def _fastact_call(name, direction, d):
    x, axis = d["x"], d["axis"]
    if direction == "forward":
        f = getattr(fastact, name)
        return lambda: f(x, axis)
    fg, g, y = getattr(fastact, f"{name}_grad"), _grad_output(name, d), d["y"][name]
    if AXISWISE[name].reduces:
        return lambda: fg(g, x, axis, result=y)
    return lambda: fg(g, axis=axis, result=y)


def _torch_call(name, direction, d):
    import torch

    spec, axis = AXISWISE[name], d["axis"]
    x = torch.from_numpy(d["x"])
    fn = spec.torch.along(torch, axis)
    if direction == "forward":
        return lambda: fn(x)
    g = torch.from_numpy(_grad_output(name, d))
    if spec.torch.result_backward is not None:
        y = torch.from_numpy(d["y"][name])
        back = spec.torch.result_backward
        return lambda: back(torch, g, y, {"axis": axis})
    leaf = x.detach().requires_grad_()
    y = fn(leaf)
    return lambda: torch.autograd.grad(y, leaf, g, retain_graph=True)


def _jax_call(name, direction, d):
    jax = peers.import_jax()
    fn = AXISWISE[name].jax.along(jax, d["axis"])
    x = jax.device_put(d["x"])
    if direction == "forward":
        jf = jax.jit(fn)
        return lambda: jf(x).block_until_ready()
    g = jax.device_put(_grad_output(name, d))
    jb = jax.jit(lambda gg, xx: jax.vjp(fn, xx)[1](gg))
    return lambda: jax.block_until_ready(jb(g, x))


def _scipy_call(name, direction, d):
    import scipy

    fn = AXISWISE[name].scipy.along(scipy, d["axis"])
    x = d["x"]
    return lambda: fn(x)


ROWS = sorted({c[:4] for c in CASES}, key=lambda r: [c[:4] for c in CASES].index(r))


@pytest.mark.parametrize("row", ROWS, ids=["-".join(r) for r in ROWS])
def test_axiswise(benchmark, row):
    """One row: fastact and the peers, each checked for its dtype, timed interleaved."""
    label, dtype, name, direction = row
    shape, axis = SHAPES[label]
    n = int(np.prod(shape))
    skip_if_no_memory(n, np.dtype(dtype).itemsize, 8)  # x, g, the outputs, the peers' own
    d = _data(label, dtype)
    builders = {"fastact:auto": _fastact_call, "torch": _torch_call, "jax": _jax_call,
                "scipy": _scipy_call}
    calls = {}
    for impl in (c[4] for c in CASES if c[:4] == row):
        call = builders[impl](name, direction, d)
        result = call()  # warm-up (compiles): never timed
        if impl in ("fastact:auto", "torch", "jax") and direction == "forward":
            got = np.asarray(result[0] if isinstance(result, tuple) else result)
            assert got.dtype == np.dtype(dtype), f"{impl} computed {got.dtype}, not {dtype}"
        calls[impl] = call
    stats = interleaved(calls)
    benchmark.group = f"axis-wise {label} {dtype} {direction}"
    benchmark.name = f"{name}:interleaved"
    benchmark.extra_info.update({
        "variant": "axiswise", "activation": name, "label": label, "dtype": dtype,
        "direction": direction, "shape": list(shape), "axis": axis,
        "threads": parallel.threads(), "interleaved": stats,
    })
    benchmark.pedantic(calls["fastact:auto"], rounds=1, iterations=1)
