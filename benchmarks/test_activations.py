"""Every activation, forward and backward, fastact's backends beside the peers, in one run.

A row is (variant, direction, N, dtype, call style); its implementations are fastact's backends
(``fastact:auto`` plus each concrete backend from ``fastact.BACKENDS``, cuda only with a usable
GPU) and the installed peers (``numpy``, ``torch``, ``jax``, ``numexpr``), and, for a row bound
by memory, its ceiling (the same bytes moved with no math, in the same style). Every
implementation's result is checked once against the float64 reference, then the row's
implementations are timed interleaved (each round calls each once, in turn: a slow moment of a
shared machine lands on all of them), so its ratios, "auto" against the backend it picked, and
the share of the ceiling are measured at the same moments.

Backward rows give each implementation what its autograd saves: torch's sigmoid and tanh backward
ops take the forward output, so fastact's sigmoid/tanh rows use ``_grad(g, result=y)`` (y computed
once, untimed) on both sides; every other row takes x.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
from numba import njit, prange

import fastact
from fastact.backends import _stream, parallel
from fastact.registry import ACTIVATIONS, PIECEWISE_LINEAR
from tests.reference import REFS, first_cases, ref_params

from . import peers
from .conftest import DATA, MODE, interleaved, skip_if_no_memory

VARIANTS = list(REFS)  # every registry activation and every variant of a choice (gelu_tanh)
#: variant -> (activation, the parameters it is timed with: the first set its reference tests,
#: e.g. prelu's weight 0.25, with the choice value that selects the variant)
CALLS = first_cases()
CHEAP = {v for v in VARIANTS if ACTIVATIONS[CALLS[v][0]].family == PIECEWISE_LINEAR}
FROM_OUTPUT = peers.FROM_OUTPUT

#: size -> (forward styles, backward styles). The large sizes keep what the DESIGN.md targets
#: compare (allocating against allocating, and every relu-family style), within the time budget.
PLAN = {
    10**3: (("alloc", "out"), ("alloc",)),
    10**5: (("alloc", "out"), ("alloc",)),
    10**6: (("alloc", "out", "inplace"), ("alloc", "out")),
    10**7: (("alloc", "out"), ("alloc",)),
    10**8: (("alloc", "out", "inplace"), ("alloc",)),
}
#: at N >= this, transcendental activations are timed allocating only, a concrete backend that
#: "auto" already runs is not timed again, and the NumPy formula (seconds per call) is skipped
LARGE = 10**8

if MODE == "quick":  # within 2 minutes: relu up to 1e8, gelu (serial: seconds a call) to 1e7
    VARIANTS = ["relu", "gelu"]
    PLAN = {n: PLAN[n] for n in (10**3, 10**6, 10**7, 10**8)}
SIZES = list(PLAN)
#: fastact's backends timed here: "cuda" (host data streamed through the GPU) only where a GPU is
#: usable (benchmarks/gpu.py measures device-resident data)
BACKENDS = [b for b in fastact.BACKENDS
            if b != "cuda" or (peers.gpu_usable() and not os.environ.get("NUMBA_ENABLE_CUDASIM"))]
CONCRETE_IMPLS = [f"fastact:{b}" for b in BACKENDS if b != "auto"]


def activation_of(variant: str) -> str:
    return CALLS[variant][0]


def params_of(variant: str) -> dict:
    return CALLS[variant][1]


def available_impls():
    impls = [f"fastact:{b}" for b in BACKENDS] + ["numpy"]
    for mod in ("torch", "jax", "numexpr"):
        if peers.installed(mod):
            impls.append(mod)
    return impls


@dataclass(frozen=True)
class Case:
    variant: str
    direction: str  # "forward" | "backward"
    n: int
    dtype: str
    style: str  # "alloc" | "out" | "inplace"
    impl: str

    @property
    def group(self):
        return f"{self.variant} {self.direction} N=1e{len(str(self.n)) - 1} {self.dtype} " \
               f"{self.style}"

    @property
    def bytes(self):
        arrays = 3 if self.direction == "backward" else 2
        return arrays * self.n * np.dtype(self.dtype).itemsize


def _has_peer(impl, variant, direction, style):
    if impl == "numpy":
        table = {("forward", "alloc"): peers.NUMPY_FORWARD, ("forward", "out"): peers.NUMPY_OUT,
                 ("forward", "inplace"): peers.NUMPY_INPLACE,
                 ("backward", "alloc"): peers.NUMPY_BACKWARD}.get((direction, style), {})
        return variant in table
    spec = ACTIVATIONS[activation_of(variant)]
    if impl == "torch":  # refined when the tables are built (they need torch imported)
        return spec.torch is not None and spec.torch.computes(params_of(variant))
    if impl == "jax":
        return style == "alloc" and spec.jax is not None and spec.jax.computes(
            params_of(variant))
    if impl == "numexpr":
        table = peers.NUMEXPR_FORWARD if direction == "forward" else peers.NUMEXPR_BACKWARD
        return style in ("alloc", "out") and variant in table
    return True


def _cases():
    impls = available_impls()
    out = []
    for n, (fwd_styles, bwd_styles) in PLAN.items():
        dtypes = ["float32", "float64"] if n == 10**6 else ["float32"]
        for dtype, variant in ((d, v) for d in dtypes for v in VARIANTS):
            for direction, styles in (("forward", fwd_styles), ("backward", bwd_styles)):
                for style in styles:
                    if (ACTIVATIONS[activation_of(variant)].has_weight and style == "inplace"
                            or dtype == "float64" and style != "alloc"):
                        continue
                    if n >= LARGE and variant not in CHEAP and (
                            style != "alloc" or MODE == "quick"):
                        continue
                    for impl in impls:
                        if n >= LARGE and (impl in CONCRETE_IMPLS or (
                                impl == "numpy" and variant not in CHEAP)):
                            continue
                        if _has_peer(impl, variant, direction, style):
                            out.append(Case(variant, direction, n, dtype, style, impl))
    return out


CASES = _cases()
_TORCH = None
_JAX = None


def torch_tables():
    global _TORCH
    if _TORCH is None:
        _TORCH = peers.torch_tables()
    return _TORCH


def jax_tables():
    global _JAX
    if _JAX is None:
        _JAX = peers.jax_tables()
    return _JAX


def build(case: Case, d: dict):
    """(timed callable, setup or None, callable returning the result to check)."""
    x, g, out, work = d["x"], d["g"], d["out"], d["work"]
    p = params_of(case.variant)
    name = activation_of(case.variant)
    spec = ACTIVATIONS[name]
    fwd = case.direction == "forward"
    restore = (lambda: np.copyto(work, x)) if case.style == "inplace" else None
    last = {}

    if case.impl.startswith("fastact:"):
        backend = case.impl.split(":", 1)[1]
        f = getattr(fastact, name if fwd else f"{name}_grad")
        if not fwd and case.variant in FROM_OUTPUT:  # as torch's sigmoid/tanh backward
            y_saved = getattr(fastact, name)(x)
            grad = f

            def f(g_, x_, **kw):
                return grad(g_, result=y_saved, **kw)
        if fwd and case.style == "alloc":
            def call():
                last["y"] = f(x, **p, backend=backend)
        elif fwd and case.style == "out":
            def call():
                f(x, **p, out=out, backend=backend)
        elif fwd:
            def call():
                f(work, **p, inplace=True, backend=backend)
        elif case.style == "alloc":
            def call():
                last["y"] = f(g, x, **p, backend=backend)
        else:
            def call():
                f(g, x, **p, out=out, backend=backend)
        result = {"alloc": lambda: last["y"], "out": lambda: out, "inplace": lambda: work}
        if spec.has_weight and not fwd:  # (grad_input, grad_weight)
            result["alloc"] = lambda: last["y"][0]
        return call, restore, result[case.style]

    if case.impl == "numpy":
        if fwd:
            fn = {"alloc": peers.NUMPY_FORWARD, "out": peers.NUMPY_OUT,
                  "inplace": peers.NUMPY_INPLACE}[case.style][case.variant]
            if case.style == "alloc":
                def call():
                    with np.errstate(all="ignore"):
                        last["y"] = fn(x)
                return call, None, lambda: last["y"]
            if case.style == "out":
                def call():
                    fn(x, out)
                return call, None, lambda: out

            def call():
                fn(work)
            return call, restore, lambda: work
        fn = peers.NUMPY_BACKWARD[case.variant]

        def call():
            with np.errstate(all="ignore"):
                last["y"] = fn(g, x)
        return call, None, lambda: last["y"]

    if case.impl == "torch":
        import torch

        tf, tf_out, t_inplace, tb, tb_out = torch_tables()
        tx, tg, to, tw = (torch.from_numpy(a) for a in (x, g, out, work))
        table = {("forward", "alloc"): tf, ("forward", "out"): tf_out,
                 ("forward", "inplace"): t_inplace, ("backward", "alloc"): tb,
                 ("backward", "out"): tb_out}[(case.direction, case.style)]
        if case.variant not in table:
            if case.style != "alloc":
                pytest.skip(f"torch has no {case.style} form of {case.variant} {case.direction}")
            return peers.torch_from_registry(spec, p, tx, tg, fwd, last)
        fn = table[case.variant]
        saved = peers.torch_saved(case.variant, tx)
        if fwd and case.style == "alloc":
            def call():
                last["y"] = fn(tx)
        elif fwd and case.style == "out":
            def call():
                fn(tx, to)
        elif fwd:
            def call():
                fn(tw)
        elif case.style == "alloc":
            def call():
                last["y"] = fn(tg, tx, saved)
        else:
            def call():
                fn(tg, tx, saved, to)
        result = {"alloc": lambda: last["y"].numpy(), "out": lambda: out, "inplace": lambda: work}
        return call, restore, result[case.style]

    if case.impl == "jax":
        jax = peers.import_jax()
        jf, jb = jax_tables()
        if case.variant not in jf:
            jf, jb = peers.jax_from_registry(spec, p, case.variant)
        jx, jg = jax.device_put(x), jax.device_put(g)
        if fwd:
            fn = jf[case.variant]

            def call():
                last["y"] = fn(jx).block_until_ready()
        else:
            fn = jb[case.variant]

            def call():
                last["y"] = fn(jg, jx).block_until_ready()
        return call, None, lambda: np.asarray(last["y"])

    if case.impl == "numexpr":
        import numexpr

        expr = (peers.NUMEXPR_FORWARD if fwd else peers.NUMEXPR_BACKWARD)[case.variant]
        local = {"x": x, "g": g}
        if case.style == "alloc":
            def call():
                last["y"] = numexpr.evaluate(expr, local_dict=local)
            return call, None, lambda: last["y"]

        def call():
            numexpr.evaluate(expr, local_dict=local, out=out)
        return call, None, lambda: out
    raise AssertionError(case.impl)


def check(case: Case, result: np.ndarray, d: dict):
    """The result, on a sample of elements, against the float64 reference."""
    x, g = d["x"], d["g"]
    idx = np.unique(np.concatenate([np.arange(min(x.size, 2000)),
                                    np.random.default_rng(1).integers(0, x.size, 2000)]))
    ref = REFS[case.variant]
    kw = ref_params(params_of(case.variant))
    xs = x[idx].astype(np.float64)
    with np.errstate(all="ignore"):
        want = ref.f(xs, **kw) if case.direction == "forward" else g[idx] * ref.df(xs, **kw)
    assert np.asarray(result).dtype == np.dtype(case.dtype), (
        f"{case.impl} {case.group}: a {np.asarray(result).dtype} result (a different computation)")
    got = np.asarray(result).reshape(-1)[idx].astype(np.float64)
    eps = np.finfo(case.dtype).eps
    if case.impl.startswith("fastact"):
        # fastact's contract: a few ULP where the result is normal (float64: the SciPy reference's
        # own tail error allows 1e-13), subnormals absolutely, and near a zero of f' a few eps of
        # the gradient's O(1) terms (README, Accuracy)
        rtol = max(8 * eps, 1e-13)
        atol = 16 * eps * float(np.abs(g[idx]).max()) if case.direction == "backward" else (
            float(np.finfo(case.dtype).tiny))
    else:  # the peers' own formulas cancel or overflow in places: a loose but real check
        rtol, atol = 1e-3, 1e-4
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                               err_msg=f"{case.impl} {case.group}: wrong result")


def _groups():
    """{group key: [Case per impl]}: the rows, each timed as one interleaved set."""
    out = {}
    for c in CASES:
        out.setdefault((c.variant, c.direction, c.n, c.dtype, c.style), []).append(c)
    return out


GROUPS = _groups()


@njit(parallel=True, cache=True)
def _rmw(a):
    for i in prange(a.size):
        a[i] = -a[i]


@njit(parallel=True, cache=True)
def _copy(a, out):
    for i in prange(a.size):
        out[i] = a[i]


@njit(parallel=True, cache=True)
def _add(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] + b[i]


@njit(parallel=True, cache=True)
def _add_blocks(a, b, out, block):
    for k in prange((a.size + block - 1) // block):
        s, e = k * block, min(k * block + block, a.size)
        ab, bb, ob = a[s:e], b[s:e], out[s:e]
        for i in range(ob.size):
            ob[i] = ab[i] + bb[i]


@njit(parallel=True, cache=True)
def _copy_stream(a, out, block):
    """A copy in the blocks and with the streaming stores of fastact's ``<loop>_stream``."""
    n = out.size
    for b in prange((n + block - 1) // block):
        s, e = b * block, min(b * block + block, n)
        h = s + min(e - s, _stream.unaligned(out[s:]))
        m = h + _stream.whole(e - h, out)
        ah, oh, am, om, at, ot = a[s:h], out[s:h], a[h:m], out[h:m], a[m:e], out[m:e]
        for i in range(oh.size):
            oh[i] = ah[i]
        for i in range(om.size):
            _stream.put(om, i, am[i])
        for i in range(ot.size):
            ot[i] = at[i]
        _stream.fence()


@njit(parallel=True, cache=True)
def _scale(a, one, out):
    for i in prange(a.size):
        out[i] = a[i] * one


@njit(parallel=True, cache=True)
def _scale_blocks(a, one, out, block):
    for b in prange((a.size + block - 1) // block):
        s, e = b * block, min(b * block + block, a.size)
        ab, ob = a[s:e], out[s:e]
        for i in range(ob.size):
            ob[i] = ab[i] * one


def _ceilings(direction, style, d):
    """{name: call}: the row's streaming ceiling, its bytes moved with no math on all cores in
    the same style, the fastest of which counts. In place: a read-modify-write of an array of
    the same size (over the whole range per thread, and in fastact's cache-sized blocks);
    ``out=``: a copy into a preallocated array, as a loop of plain stores (both ways) and as
    the ``memcpy`` LLVM makes of a copy loop (the C library's, which may stream its stores) and
    in fastact's blocks with its streaming stores (fastact.backends._stream), or
    for a backward the sum of two arrays (both ways); allocating: the same into a new array
    (its page faults included)."""
    x, g = d["x"], d["g"]
    buf, one = np.empty_like(x), x.dtype.type(1)
    block = parallel.block_elements(2, x.itemsize, x.size, parallel.threads())
    if style == "inplace":
        return {"ceiling": lambda: _rmw(buf),
                "ceiling:blocks": lambda: _scale_blocks(buf, one, buf, block)}
    new = style == "alloc"
    if direction == "backward":
        block = parallel.block_elements(3, x.itemsize, x.size, parallel.threads())
        return {"ceiling": lambda: _add(g, x, np.empty_like(x) if new else buf),
                "ceiling:blocks": lambda: _add_blocks(g, x, np.empty_like(x) if new else buf,
                                                      block)}
    ceilings = {"ceiling": lambda: _scale(x, one, np.empty_like(x) if new else buf),
                "ceiling:blocks": lambda: _scale_blocks(x, one, np.empty_like(x) if new else buf,
                                                        block),
                "ceiling:memcpy": lambda: _copy(x, np.empty_like(x) if new else buf)}
    if not new and parallel.STREAMING_STORES and x.itemsize >= 4:  # as fastact may stream
        # into its own array, written by streaming stores only: a streaming store to a line
        # that another loop's stores left dirty in cache (here the memcpy's, into ``buf``)
        # first waits for the line's write-back, ~25% of the copy's time at 1e7 float32
        stream_buf = np.empty_like(x)
        ceilings["ceiling:stream"] = lambda: _copy_stream(x, stream_buf, block)
    return ceilings


def _bound_by_memory(variant, n):
    """Whether a row is timed beside its ceiling: the piecewise-linear family from 1e6 on."""
    return variant in CHEAP and n >= 10**6


@pytest.mark.parametrize("key", list(GROUPS), ids=lambda k: GROUPS[k][0].group.replace(
    " ", "-").replace("=", ""))
def test_activation(benchmark, key):
    """One row: every implementation built, checked against the reference, then timed
    interleaved (conftest.interleaved) with the row's ceiling where it is bound by memory."""
    variant, direction, n, dtype, style = key
    skip_if_no_memory(n, np.dtype(dtype).itemsize, 10)  # inputs, outputs, peers' temporaries
    d = DATA.get(n, dtype)
    calls, setups = {}, {}
    for case in GROUPS[key]:
        try:
            call, setup, result = build(case, d)
        except pytest.skip.Exception:
            continue
        if setup is not None:
            setup()
            setups[case.impl] = setup
        call()  # warm-up (and, for fastact, the JIT compile): never timed
        check(case, result(), d)
        calls[case.impl] = call
    if _bound_by_memory(variant, n):
        for name, call in _ceilings(direction, style, d).items():
            call()
            calls[name] = call
    stats = interleaved(calls, setups=setups)
    case = GROUPS[key][0]
    benchmark.group = case.group
    benchmark.name = "interleaved"
    benchmark.extra_info.update({
        "variant": variant, "activation": activation_of(variant), "direction": direction,
        "n": n, "dtype": dtype, "style": style, "bytes": case.bytes,
        "family": ACTIVATIONS[activation_of(variant)].family, "interleaved": stats,
    })
    auto = calls["fastact:auto"]
    benchmark.pedantic(auto, setup=setups.get("fastact:auto"), rounds=1, iterations=1)
