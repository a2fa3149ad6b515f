"""The parallel backend, the dispatcher's thresholds, tune profiles, chunked, and reliability.

The parallel loops run the serial loops block by block, so their results must be bit-equal to the
serial backend's (which test_accuracy and test_api check against the references).
"""

import json
import os
import subprocess
import sys
import textwrap
import warnings
from decimal import Decimal

import numpy as np
import pytest

import fastact
from fastact import dispatch, tuning
from fastact.backends import parallel
from fastact.registry import PIECEWISE_LINEAR

from .reference import cases

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 3.0, -3.0, 6.0, 1.0, -1.0, 88.0,
           -88.0]


#: float64 on a few kernels only: each parallel loop is a separate ~0.6 s compile, and the
#: generated parallel code is the same for every kernel (float32 covers them all)
FLOAT64_VARIANTS = {"relu", "leaky_relu", "elu", "softplus", "gelu", "gelu_tanh"}


def _variants():
    """One parameter set per kernel variant (gelu and its tanh form are two), per dtype."""
    seen, out = set(), []
    for name, variant, params in cases():
        if variant in seen:
            continue
        seen.add(variant)
        for dtype in (np.float32, np.float64):
            if dtype == np.float32 or variant in FLOAT64_VARIANTS:
                out.append(pytest.param(name, params, dtype,
                                        id=f"{variant}-{np.dtype(dtype).name}"))
    return out


def _data(dtype, n=5003, seed=0):
    """Several blocks for two threads (blocks are >= 1024 elements), with every special value."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 8).astype(dtype)
    x[: len(SPECIAL)] = SPECIAL
    return x


@pytest.mark.parametrize("name, params, dtype", _variants())
def test_parallel_is_bit_equal_to_serial(name, params, dtype):
    f, g = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = _data(dtype)
    go = _data(dtype, seed=1)
    serial = f(x, **params, backend="cpu")
    np.testing.assert_array_equal(f(x, **params, backend="parallel"), serial)
    gs = g(go, x, **params, backend="cpu")
    gp = g(go, x, **params, backend="parallel")
    if fastact.ACTIVATIONS[name].has_weight:
        np.testing.assert_array_equal(gp[0], gs[0])
        np.testing.assert_allclose(gp[1], gs[1], rtol=1e-5)  # sums, in another order
    else:
        np.testing.assert_array_equal(gp, gs)
    # in place: the float32 loops only (compile time)
    if not fastact.ACTIVATIONS[name].has_weight and dtype == np.float32:
        y = x.copy()
        assert f(y, **params, inplace=True, backend="parallel") is y
        np.testing.assert_array_equal(y, serial)


def test_parallel_layouts_without_the_fast_path():
    """Strided, broadcast, per-channel prelu, float16, integers: cut along the first axis."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 40))
    v = x[:, ::3]  # strided rows
    np.testing.assert_array_equal(fastact.gelu(v, backend="parallel"),
                                  fastact.gelu(v, backend="cpu"))
    out = np.empty_like(v)
    assert fastact.gelu(v, out=out, backend="parallel") is out
    np.testing.assert_array_equal(out, fastact.gelu(v, backend="cpu"))
    g = rng.standard_normal(40)  # broadcasts along the first axis
    np.testing.assert_array_equal(fastact.silu_grad(g, x, backend="parallel"),
                                  fastact.silu_grad(g, x, backend="cpu"))
    w = np.linspace(0.1, 0.4, 40)
    np.testing.assert_array_equal(fastact.prelu(x, w, backend="parallel"),
                                  fastact.prelu(x, w, backend="cpu"))
    h = x.astype(np.float16)
    assert fastact.tanh(h, backend="parallel").dtype == np.float16
    np.testing.assert_array_equal(fastact.tanh(h, backend="parallel"),
                                  fastact.tanh(h, backend="cpu"))
    i = np.arange(-50, 50).reshape(10, 10)
    np.testing.assert_array_equal(fastact.relu(i, backend="parallel"), np.maximum(i, 0))
    # in place on a strided view: only the view changes
    y = x.copy()
    fastact.relu(y[:, ::2], inplace=True, backend="parallel")
    np.testing.assert_array_equal(y[:, ::2], np.maximum(x[:, ::2], 0))
    np.testing.assert_array_equal(y[:, 1::2], x[:, 1::2])
    # partial overlap: handled by NumPy in one call (not split across threads)
    z = np.arange(-20.0, 20.0)
    fastact.relu(z[:-1], out=z[1:], backend="parallel")
    assert fastact.relu(np.float32(-2.0), backend="parallel") == 0.0


def test_auto_dispatch_thresholds_and_explain(monkeypatch):
    with dispatch.use_thresholds(dispatch.DEFAULT_THRESHOLDS, "test table"):
        _check_auto_dispatch(monkeypatch)


def _check_auto_dispatch(monkeypatch):
    limit = dispatch.DEFAULT_THRESHOLDS[PIECEWISE_LINEAR]["float32"]
    small, big = np.ones(limit - 1, np.float32), np.ones(limit, np.float32)
    assert "backend cpu" in fastact.explain(small, "relu")
    line = fastact.explain(big, "relu")
    assert "backend parallel" in line and f">= piecewise-linear float32 threshold {limit}" in line
    np.testing.assert_array_equal(fastact.relu(-big), np.zeros_like(big))
    # one thread (numba.set_num_threads is per thread) -> serial, and explain says why
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert parallel.threads() == 1
        assert "one CPU usable" in fastact.explain(big, "relu")
    finally:
        numba.set_num_threads(before)
    # precedence: backend= > use_backend() > FASTACT_BACKEND > profile/defaults
    monkeypatch.setenv("FASTACT_BACKEND", "cpu")
    assert "backend cpu, requested by FASTACT_BACKEND" in fastact.explain(big, "relu")
    with fastact.use_backend("parallel"):
        assert "backend parallel, requested by use_backend()" in fastact.explain(small, "relu")
        assert "backend cpu, requested by backend=" in fastact.explain(big, "relu", backend="cpu")


def test_block_size_from_l2():
    b = parallel.block_elements(2, 4)
    assert b % 1024 == 0 and b >= 1024
    l2 = parallel._L2
    assert b * 2 * 4 <= l2 // 2 + 4096 * 8
    assert parallel.block_elements(2, 4, n=10_000, threads=2) == 1024  # every thread has blocks
    assert parallel.block_elements(3, 8) <= b


# -- tune and profiles ----------------------------------------------------------------------------


def test_tune_writes_a_profile_that_auto_uses(tmp_path, monkeypatch):
    path = tmp_path / "profile.json"
    monkeypatch.setenv("FASTACT_PROFILE", str(path))
    monkeypatch.setattr(tuning, "SIZES", (1 << 10, 1 << 12))
    monkeypatch.setattr(tuning, "crossover", _fake_crossover)
    monkeypatch.setattr(tuning, "streaming_crossover", lambda progress: (None, []))
    prof = fastact.tune(progress=False)
    data = json.loads(path.read_text())
    assert data["fingerprint"] == tuning.fingerprint() and data["version"] == 1
    for family in tuning.PROBES:
        for dtype in tuning.DTYPES:
            assert data["thresholds"][family][dtype] == 777
            assert data["thresholds"]["inplace"][family][dtype] == 888
    assert "relu/float32/inplace" in data["measurements"]
    assert prof["path"] == str(path)
    try:
        x = np.ones(888, np.float32)
        assert "backend parallel" in fastact.explain(x[:777], "relu")
        assert f"tuned profile {path}" in fastact.explain(x, "relu")
        assert "backend cpu" in fastact.explain(x[:776], "relu")
        assert "backend cpu" in fastact.explain(x[:887], "relu", inplace=True)
        assert "in-place threshold 888" in fastact.explain(x, "relu", inplace=True)
    finally:
        dispatch.reload_profile()


def _fake_crossover(name, dtype, sizes=None, progress=None, inplace=False):
    progress()
    return 888 if inplace else 777, [(1024, 2e-6, 1e-6)]


def test_inplace_calls_take_the_in_place_threshold(monkeypatch):
    """A call that overwrites its input (inplace=True, or out= the input itself or a view of its
    elements; forward, gradient, bias= and gated) runs in parallel from the profile's in-place
    threshold, every other call from its family's; a table without in-place thresholds (the
    built-in defaults) uses the family's for both."""
    table = {f: {"float32": 1000, "float64": 1000} for f in tuning.PROBES}
    table["inplace"] = {f: {"float32": 5000, "float64": 5000} for f in tuning.PROBES}
    x = np.linspace(-3, 3, 2000, dtype=np.float32)
    g = np.ones_like(x)
    launched = _launched(monkeypatch)
    with dispatch.use_thresholds(table, "test table"):
        assert "backend parallel" in fastact.explain(x, "relu")
        line = fastact.explain(x, "relu", inplace=True)
        assert "backend cpu" in line and "in-place threshold 5000" in line
        fastact.relu(x)
        fastact.relu_grad(g, x)
        assert launched == ["relu", "relu_grad"]
        y, h = x.copy(), g.copy()
        fastact.relu(y, inplace=True)
        fastact.sigmoid(y, out=y)
        np.testing.assert_array_equal(y, fastact.sigmoid(np.maximum(x, 0), backend="cpu"))
        fastact.relu_grad(h, x, inplace=True)
        fastact.swiglu(y.reshape(20, 100), h.reshape(20, 100), inplace=True)
        assert launched == ["relu", "relu_grad"]
        # out= another view of the input's own elements is in place too, forward and gradient
        fastact.relu(y, out=y[...])
        fastact.relu_grad(h, x, out=h.reshape(20, 100).reshape(-1))
        assert launched == ["relu", "relu_grad"]
        y = np.linspace(-3, 3, 6000, dtype=np.float32)
        fastact.relu(y, inplace=True)
        fastact.relu(y, out=y[...])
        assert launched[2:] == ["relu_inplace", "relu_inplace"]
        # bias=: the fused loops, run on the parallel backend's thread pool
        fused, real = [], parallel.run_bias
        monkeypatch.setattr(parallel, "run_bias",
                            lambda loop, *a, **k: fused.append(loop) or real(loop, *a, **k))
        b = np.linspace(-1, 1, 100, dtype=np.float32)
        h = x.reshape(20, 100)
        fastact.relu(h, bias=b)
        fastact.relu(h.copy(), bias=b, inplace=True)
        hc = h.copy()
        fastact.relu(hc, bias=b, out=hc[:])
        fastact.relu_grad(g.reshape(20, 100).copy(), h, bias=b, inplace=True)
        assert fused == ["relu_bias"]
    limit = dispatch.DEFAULT_THRESHOLDS[PIECEWISE_LINEAR]["float32"]
    with dispatch.use_thresholds(dispatch.DEFAULT_THRESHOLDS, "defaults"):
        assert "backend parallel" in fastact.explain(np.ones(limit, np.float32), "relu",
                                                     inplace=True)


def test_crossover_is_measured():
    """The real measurement on two small sizes: a threshold and positive timings."""
    thr, rows = tuning.crossover("relu", "float32", sizes=(1 << 10, 1 << 11))
    assert thr in (1 << 10, 1 << 11, (1 << 11) + 1)
    assert all(s > 0 and p > 0 for _, s, p in rows)


def test_crossover_needs_a_margin_at_three_sizes_in_a_row():
    """Parallel must take under CROSSOVER_GAIN of the serial time at a size, and under
    HOLD_GAIN at the next two: a tie within noise (as a memory-bound loop on two cores shows for
    a while) keeps the serial loop, and so does one winning size between losing ones."""
    sizes = [1 << k for k in range(10, 17)]

    def win(ratios):
        return tuning._first_win([(n, 1.0, r) for n, r in zip(sizes, ratios, strict=True)],
                                 sizes)

    assert (tuning.CROSSOVER_GAIN, tuning.HOLD_GAIN) == (0.8, 0.9)
    # a tie, then wins: 0.8 crossed between 8192 (0.98) and 16384 (0.7)
    assert win([1.0, 1.0, 0.97, 0.98, 0.7, 0.6, 0.5]) == round(8192 * 2 ** (9 / 14))
    # a lone win: crossed between 4096 (1.1) and 8192 (0.7)
    assert win([1.2, 0.7, 1.1, 0.7, 0.72, 0.6, 0.5]) == round(4096 * 2 ** (3 / 4))
    # wins by less than the margin keep the serial loop
    assert win([0.85] * 7) == (1 << 16) + 1
    # a win that holds by less at larger (memory-bound) sizes: crossed between 2048 and 4096
    assert win([1.2, 1.0, 0.7, 0.85, 0.88, 0.85, 0.85]) == round(2048 * 2 ** (2 / 3))
    assert win([1.2, 1.0, 0.7, 0.85, 0.95, 0.85, 0.85]) == (1 << 16) + 1
    assert win([0.5] * 7) == 1 << 10


@pytest.mark.parametrize("content, match", [
    ("{not json", "corrupted"),
    ('{"version": 1, "thresholds": {"piecewise-linear": {"float32": -3}}}', "corrupted"),
    ("[1, 2]", "corrupted"),
    (None, "measured for"),
])
def test_bad_profiles_are_ignored_with_a_warning(tmp_path, monkeypatch, content, match):
    path = tmp_path / "p.json"
    if content is None:  # a valid profile from another machine
        table = {f: {"float32": 5, "float64": 5} for f in tuning.PROBES}
        content = json.dumps({"version": 1, "fingerprint": {"cpu": "elsewhere"},
                              "thresholds": table})
    path.write_text(content)
    monkeypatch.setenv("FASTACT_PROFILE", str(path))
    dispatch.reload_profile()
    try:
        with pytest.warns(RuntimeWarning, match=match):
            table, source = dispatch.thresholds()
        assert table is dispatch.DEFAULT_THRESHOLDS and source == "built-in defaults"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # warned once, not on every call
            fastact.relu(np.ones(3))
    finally:
        dispatch.reload_profile()


def _launched(monkeypatch):
    """The parallel loops launched from now on, by name."""
    names = []
    real = parallel._launch
    monkeypatch.setattr(parallel, "_launch",
                        lambda loop, *a, **k: names.append(loop) or real(loop, *a, **k))
    return names


def test_streaming_stores_where_the_profile_says(monkeypatch):
    """With a profile's streaming threshold, out= calls from that output size on (fast path and
    general path, forward and gradient, float32 and float64, any alignment) run the streaming
    loops: the same bits as the serial loops. New arrays, in-place calls, bfloat16, smaller
    outputs and a profile without the threshold keep the plain loops."""
    if not parallel.STREAMING_STORES:
        pytest.skip("no streaming stores on this machine")
    names = _launched(monkeypatch)
    n = 300_007
    x = np.linspace(-3, 3, n).astype(np.float32)
    x[:4] = [np.nan, -0.0, np.inf, -np.inf]
    g = np.linspace(1, -1, n).astype(np.float32)
    table = dict(dispatch.thresholds()[0], streaming=4 * (n - 100))
    table[PIECEWISE_LINEAR] = {"float32": 1 << 12, "float64": 1 << 12}
    cases = [(fastact.relu, (x,), ()), (fastact.hardtanh, (x,), (-0.5, 2.0)),
             (fastact.leaky_relu_grad, (g, x), (0.2,)), (fastact.relu, (x.astype(np.float64),), ())]
    with dispatch.use_thresholds(table, "test"):
        for f, arrays, params in cases:
            want = f(*arrays, *params, backend="cpu")
            for backend in (None, "parallel"):
                for shift in (0, 1, 3):  # the output 4, 8 or 16 bytes past a 32-byte boundary
                    buf = np.full(n + 8, 7, want.dtype)
                    out = buf[shift:shift + n]
                    names.clear()
                    assert f(*arrays, *params, out=out, backend=backend) is out
                    np.testing.assert_array_equal(out, want)
                    assert (buf[:shift] == 7).all() and (buf[shift + n:] == 7).all()
                    assert names and all(s.endswith("_stream") for s in names), names
        pytest.importorskip("ml_dtypes")
        from ml_dtypes import bfloat16
        xb = np.concatenate([x, x]).astype(bfloat16)  # as many bytes as x
        out = np.empty_like(xb)
        names.clear()
        fastact.relu(xb, out=out)
        assert names == ["relu"]  # bfloat16 words: no 16-bit streaming store to widen
        np.testing.assert_array_equal(out.view(np.uint16),
                                      fastact.relu(xb, backend="cpu").view(np.uint16))
        out = np.empty_like(x)
        names.clear()
        fastact.prelu(x, 0.25, out=out)  # a float weight: its own fast path
        assert names == ["prelu_stream"]
        np.testing.assert_array_equal(out, fastact.prelu(x, 0.25, backend="cpu"))
        names.clear()
        fastact.relu(x)  # a new array
        fastact.relu(x.copy(), inplace=True)
        fastact.relu(x[:n - 200], out=np.empty(n - 200, np.float32))  # below the threshold
        assert names == ["relu", "relu_inplace", "relu"]
    names.clear()
    fastact.relu(x, out=np.empty_like(x), backend="parallel")  # no threshold: never
    assert names == ["relu"]


def test_streaming_crossover_is_measured(tmp_path, monkeypatch):
    """The measurement on small sizes gives positive timings and a threshold from them; the
    profile keeps it, and a bad one is refused."""
    thr, rows = tuning.streaming_crossover(sizes=(1 << 14, 1 << 15))
    if not parallel.STREAMING_STORES:
        assert (thr, rows) == (None, [])
        return
    assert [b for b, _, _ in rows] == [1 << 16, 1 << 17]
    assert all(p > 0 and s > 0 for _, p, s in rows)
    assert thr in (None, 1 << 16, 1 << 17)
    path = tmp_path / "p.json"
    monkeypatch.setenv("FASTACT_PROFILE", str(path))
    monkeypatch.setattr(tuning, "crossover", _fake_crossover)
    monkeypatch.setattr(tuning, "streaming_crossover", lambda progress: (1 << 20, []))
    fastact.tune(progress=False)
    try:
        assert dispatch.streaming_bytes() == 1 << 20
        data = json.loads(path.read_text())
        data["thresholds"]["streaming"] = "big"
        path.write_text(json.dumps(data))
        dispatch.reload_profile()
        with pytest.warns(RuntimeWarning, match="streaming"):
            assert dispatch.streaming_bytes() is None
    finally:
        dispatch.reload_profile()


def test_tune_cli(tmp_path):
    path = tmp_path / "cli.json"
    env = dict(os.environ, FASTACT_PROFILE=str(path))
    code = ("import fastact.tuning as t, fastact.cli as c, sys; t.SIZES = (1024, 2048); "
            "t.STREAM_SIZES = (1 << 14,); "
            "sys.exit(c.main(['tune', '-q']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"wrote {path}" in r.stdout and path.exists() and "streaming stores" in r.stdout
    assert "in place from" in r.stdout
    # `fastact info` prints the tuned thresholds in force: every table of the profile
    r = subprocess.run([sys.executable, "-m", "fastact.cli", "info"], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    line = next(v for v in r.stdout.splitlines() if v.startswith("thresholds "))
    assert "piecewise-linear in place: float32 >= " in line and "streaming stores: " in line


# -- chunked -------------------------------------------------------------------------------------


def _gelu_tanh_formula(v):
    return 0.5 * v * (1 + np.tanh(0.7978845608 * (v + 0.044715 * v ** 3)))


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_chunked_matches_the_whole_array_formula(threads):
    x = np.random.default_rng(3).standard_normal(200_003).astype(np.float32)
    want = _gelu_tanh_formula(x)
    got = fastact.chunked(_gelu_tanh_formula, x, block=5000, threads=threads)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_chunked_args_out_layouts_and_errors():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 70))
    y = rng.standard_normal((300, 70))
    out = np.empty_like(x)
    assert fastact.chunked(np.add, x, y, out=out, block=1000) is out
    np.testing.assert_array_equal(out, x + y)
    np.testing.assert_array_equal(fastact.chunked(np.multiply, x, 3.0, block=999), x * 3.0)
    xt = x.T  # Fortran order
    np.testing.assert_array_equal(fastact.chunked(np.exp, xt, block=1024), np.exp(xt))
    v = x[::2, ::3]  # strided: whole rows per block, no copy
    np.testing.assert_array_equal(fastact.chunked(np.tanh, v, block=100), np.tanh(v))
    z = x.copy()
    fastact.chunked(np.negative, z, out=z, block=1000)  # in place
    np.testing.assert_array_equal(z, -x)
    o32 = np.empty(x.shape, np.float32)
    fastact.chunked(np.sqrt, np.abs(x), out=o32)
    np.testing.assert_allclose(o32, np.sqrt(np.abs(x)).astype(np.float32))
    assert fastact.chunked(np.exp, np.ones(0)).shape == (0,)
    assert fastact.chunked(np.exp, np.float64(0.0)) == 1.0
    with pytest.raises(ValueError, match="shape"):
        fastact.chunked(np.add, x, np.ones(70))
    with pytest.raises(ValueError, match="element-wise"):
        fastact.chunked(lambda v: v.sum(keepdims=True), np.ones(100), block=10)
    with pytest.raises(TypeError, match="callable"):
        fastact.chunked(None, x)
    with pytest.raises(ValueError, match="overlap"):
        a = np.arange(10.0)
        fastact.chunked(np.negative, a[1:], out=a[:-1])
    with pytest.raises(ZeroDivisionError):  # func's own errors reach the caller
        fastact.chunked(lambda v: 1 // 0, np.ones(10))


# -- reliability ----------------------------------------------------------------------------------


def _run(code, env=None, timeout=240):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _layer_loads(layer):
    r = _run("""
        import numba, numpy as np
        from numba import njit, prange
        @njit(parallel=True)
        def f(x):
            for i in prange(x.size):
                x[i] += 1
        f(np.zeros(10)); print(numba.threading_layer())
        """, {"NUMBA_THREADING_LAYER": layer}, timeout=120)
    return r.returncode == 0


CONCURRENT = """
    import threading, numpy as np, fastact
    x = np.linspace(-8, 8, 1 << 18, dtype=np.float32)
    want = {n: getattr(fastact, n)(x, backend="cpu") for n in ("relu", "gelu", "sigmoid")}
    errors = []
    def worker(k):
        try:
            for i in range(20):
                n = ("relu", "gelu", "sigmoid")[(k + i) % 3]
                got = getattr(fastact, n)(x, backend="parallel")
                if not np.array_equal(got, want[n]):
                    errors.append(n)
        except BaseException as e:
            errors.append(repr(e))
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
    [t.start() for t in ts]; [t.join() for t in ts]
    import numba
    print("layer", numba.threading_layer(), "errors", errors)
    assert not errors
"""


@pytest.mark.parametrize("layer", ["omp", "workqueue", "tbb"])
def test_sixteen_threads_under_each_threading_layer(layer):
    """workqueue aborts the process on concurrent launches unless fastact serializes them."""
    if not _layer_loads(layer):
        pytest.skip(f"the {layer} threading layer does not load here")
    r = _run(CONCURRENT, {"NUMBA_THREADING_LAYER": layer})
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"layer {layer} errors []" in r.stdout


@pytest.mark.parametrize("layer", ["default", "workqueue"])
def test_fork_pool_after_a_parallel_call(layer):
    """GNU OpenMP is not fork-safe: a forked child must not launch (Numba would kill it)."""
    r = _run("""
        import multiprocessing as mp, numpy as np, fastact
        x = np.linspace(-5, 5, 1 << 20, dtype=np.float32)
        want = fastact.gelu(x, backend="parallel")
        def child(i):
            return bool(np.array_equal(fastact.gelu(x), want)), fastact.explain(x, "gelu")
        with mp.get_context("fork").Pool(2) as pool:
            res = pool.map(child, range(4))
        assert all(ok for ok, _ in res), res
        print(res[0][1])
        """, {"NUMBA_THREADING_LAYER": layer})
    assert r.returncode == 0, r.stdout + r.stderr


def test_memory_error_before_allocating_on_the_parallel_backend():
    x = np.broadcast_to(np.float32(1.0), (1 << 42,))  # 16 TiB of float32 results
    with pytest.raises(MemoryError, match="inplace=True or out="):
        fastact.gelu(x, backend="parallel")


def test_ctrl_c_during_a_long_call_leaves_the_process_usable():
    """SIGINT to the main thread while it runs parallel calls: KeyboardInterrupt, and the next
    calls work. The signal goes to the main thread itself (pthread_kill from a timer), as a
    terminal's Ctrl-C reaches a foreground process: a signal sent to the process from outside
    may be taken by any of its threads, and under a loaded test run was seen to stay pending."""
    code = """
        import signal, threading, time, numpy as np, fastact
        x = np.ones(1 << 26, np.float32)
        fastact.gelu(x, backend="parallel")  # compiled before the signal
        main = threading.main_thread().ident
        threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT)).start()
        try:
            start = time.time()
            while time.time() - start < 30:
                fastact.gelu(x, backend="parallel")
            print("never interrupted")
        except KeyboardInterrupt:
            print("interrupted after", round(time.time() - start, 2), flush=True)
        y = fastact.relu(np.array([-1.0, 2.0], np.float32))
        assert y.tolist() == [0.0, 2.0]
        assert np.array_equal(fastact.gelu(x[:1000]), fastact.gelu(x[:1000], backend="cpu"))
        print("usable")
    """
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "interrupted after" in r.stdout and "usable" in r.stdout, r.stdout + r.stderr


def test_small_array_fast_path_respects_every_override(monkeypatch):
    """Small calls skip binding and dispatch, but never an explicit backend choice."""
    calls = []
    real = parallel.call
    monkeypatch.setattr(parallel, "call", lambda *a: calls.append(a[0]) or real(*a))
    x = np.linspace(-1, 1, 100, dtype=np.float32)
    np.testing.assert_array_equal(fastact.relu(x), fastact.relu(x, backend="cpu"))
    np.testing.assert_array_equal(fastact.gelu_grad(x, x), fastact.gelu_grad(x, x, backend="cpu"))
    assert calls == []
    monkeypatch.setenv("FASTACT_BACKEND", "parallel")
    fastact.relu(x)
    assert calls == ["relu"]
    monkeypatch.delenv("FASTACT_BACKEND")
    with fastact.use_backend("parallel"):
        fastact.gelu_grad(x, x)
    assert calls == ["relu", "gelu_grad"]
    fastact.elu(x, backend="parallel")
    assert calls[-1] == "elu"
    # non-default parameters and 2-D inputs give the same values through either path
    y = x.reshape(10, 10)
    np.testing.assert_array_equal(fastact.elu(y), fastact.elu(y, 1.0, backend="cpu"))
    np.testing.assert_array_equal(fastact.elu(x, 0.5), fastact.elu(x, alpha=0.5, backend="cpu"))


def test_fast_path_large_arrays_parallel_and_memory_guard(monkeypatch):
    """Above the threshold the fast path runs the parallel loop (the same values), and an output
    that does not fit is refused before it is allocated, as on the general path."""
    from types import SimpleNamespace

    from fastact import hardware

    x = np.linspace(-4, 4, 1 << 19, dtype=np.float32)
    assert "backend parallel" in fastact.explain(x, "gelu")
    np.testing.assert_array_equal(fastact.gelu(x), fastact.gelu(x, backend="cpu"))
    np.testing.assert_array_equal(fastact.relu_grad(x, x), fastact.relu_grad(x, x, backend="cpu"))
    y = x.copy()
    fastact.elu(y, inplace=True)
    np.testing.assert_array_equal(y, fastact.elu(x, backend="cpu"))
    big = np.zeros(20_000_000, np.float32)  # 80 MB: above the 64 MiB memory check
    monkeypatch.setattr(hardware.psutil, "virtual_memory", lambda: SimpleNamespace(available=1))
    for call in (lambda: fastact.relu(big), lambda: fastact.sigmoid_grad(big, big)):
        with pytest.raises(MemoryError, match="inplace=True or out="):
            call()
    fastact.relu(big, inplace=True)  # allocates nothing: allowed


def test_profile_with_gpu_thresholds(tmp_path, monkeypatch):
    """A profile tuned on a GPU machine carries host-streaming thresholds (None: never)."""
    path = tmp_path / "gpu.json"
    table = {f: {"float32": 5, "float64": 5} for f in tuning.PROBES}
    table["cuda"] = {f: {"float32": 1 << 22, "float64": None} for f in tuning.PROBES}
    path.write_text(json.dumps({"version": 1, "fingerprint": tuning.fingerprint(),
                                "thresholds": table}))
    monkeypatch.setenv("FASTACT_PROFILE", str(path))
    dispatch.reload_profile()
    try:
        loaded, _ = dispatch.thresholds()
        assert loaded["cuda"][PIECEWISE_LINEAR] == {"float32": 1 << 22, "float64": None}
        table["cuda"][PIECEWISE_LINEAR]["float32"] = "big"
        path.write_text(json.dumps({"version": 1, "fingerprint": tuning.fingerprint(),
                                    "thresholds": table}))
        dispatch.reload_profile()
        with pytest.warns(RuntimeWarning, match="corrupted"):
            dispatch.thresholds()
    finally:
        dispatch.reload_profile()


@pytest.mark.parametrize("order", ["openmp_first", "fastact_first"])
def test_parallel_calls_leave_the_openmp_thread_count_alone(order):
    """Numba's omp layer sets OpenMP's thread count as its pool starts; in a process sharing that
    runtime (PyTorch's OpenMP, here GNU OpenMP through ctypes) that undid the user's own count."""
    if not _layer_loads("omp"):
        pytest.skip("the omp threading layer does not load here")
    r = _run(f"""
        import ctypes, numpy as np
        first = {order == "openmp_first"}
        def gomp():
            g = ctypes.CDLL("libgomp.so.1")
            g.omp_set_num_threads(1)
            return g
        if first:
            g = gomp()
        import fastact
        if not first:
            g = gomp()
        x = np.linspace(-4, 4, 1 << 20, dtype=np.float32)
        assert np.array_equal(fastact.gelu(x, backend="parallel"), fastact.gelu(x, backend="cpu"))
        import numba
        print("layer", numba.threading_layer(), "openmp threads", g.omp_get_max_threads(),
              "fastact threads", fastact.info()["parallel_threads"])
        """, {"NUMBA_THREADING_LAYER": "omp"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "layer omp openmp threads 1 " in r.stdout, r.stdout
    # and fastact's own parallel calls still use every CPU it may
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert f"fastact threads {cpus}" in r.stdout, r.stdout


def test_parallel_calls_leave_torch_threads_alone():
    """torch.set_num_threads(1) survives fastact's first parallel call (it did not: 1 became 2)."""
    pytest.importorskip("torch")
    r = _run("""
        import numpy as np, fastact, torch
        torch.set_num_threads(1)
        x = np.ones(1 << 20, np.float32)
        torch.sigmoid(torch.from_numpy(x))  # torch's OpenMP runtime is started
        fastact.sigmoid(x, backend="parallel")
        print("torch threads", torch.get_num_threads())
        """)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "torch threads 1" in r.stdout, r.stdout


def _general_calls(monkeypatch):
    """([names of the general-path calls from now on], the real forward, the real grad), after
    one "auto" call has loaded the profile (the first takes the general path)."""
    from fastact import _calls

    fastact.relu(np.ones(3))
    general = []
    fwd, grd = _calls.forward, _calls.grad
    monkeypatch.setattr(_calls, "forward",
                        lambda *a, **k: general.append("forward") or fwd(*a, **k))
    monkeypatch.setattr(_calls, "grad", lambda *a, **k: general.append("grad") or grd(*a, **k))
    return general, fwd, grd


def test_fast_path_for_backend_cpu_and_gradient_out(monkeypatch):
    """backend="cpu" and gradients with out= skip binding and dispatch too (the general path cost
    ~8-14 us a call): same values as the general path, which still takes every other case."""

    general, fwd, grd = _general_calls(monkeypatch)
    x = np.linspace(-6, 6, 1001, dtype=np.float32)
    g = np.linspace(2, -2, 1001, dtype=np.float32)
    y = fastact.sigmoid(x)
    for dtype in (np.float32, np.float64):
        xd, gd, yd = x.astype(dtype), g.astype(dtype), y.astype(dtype)
        want_f = fwd(fastact.ACTIVATIONS["silu"], xd, {}, None, False, "cpu", None)
        want_g = grd(fastact.ACTIVATIONS["gelu"], gd, xd, {"approximate": "none"}, None, "cpu",
                     None, False, None)
        want_r = grd(fastact.ACTIVATIONS["sigmoid"], gd, None, {}, None, "cpu", yd, False, None)
        general.clear()
        o = np.full_like(xd, np.nan)
        np.testing.assert_array_equal(fastact.silu(xd, backend="cpu"), want_f)
        assert fastact.silu(xd, out=o, backend="cpu") is o
        np.testing.assert_array_equal(o, want_f)
        np.testing.assert_array_equal(fastact.gelu_grad(gd, xd, backend="cpu"), want_g)
        assert fastact.gelu_grad(gd, xd, out=o, backend="cpu") is o
        np.testing.assert_array_equal(o, want_g)
        assert fastact.sigmoid_grad(gd, result=yd, out=o) is o
        np.testing.assert_array_equal(o, want_r)
        assert general == []
        # out= overlapping an input, of another dtype or read-only: the general path
        gc = gd.copy()
        assert fastact.gelu_grad(gc, xd, out=gc, backend="cpu") is gc
        np.testing.assert_array_equal(gc, want_g)
        o32 = np.empty(x.shape, np.float32 if dtype == np.float64 else np.float64)
        ro = np.empty_like(xd)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="dtype"):
            fastact.gelu_grad(gd, xd, out=o32, backend="cpu")
        with pytest.raises(ValueError, match="read-only"):
            fastact.gelu_grad(gd, xd, out=ro)
        assert general == ["grad"] * 3


def test_fast_path_with_parameters(monkeypatch):
    """Parameters given as Python scalars, positionally or by name (threshold's have no
    default), skip the general path after their first call: the same values, the variant kernel
    a choice selects, -0.0 apart from 0.0, and bad values, bools, arrays and other keywords
    still the general path's to refuse or handle."""
    from fastact import _fastpath

    general, fwd, grd = _general_calls(monkeypatch)
    x = np.linspace(-3, 3, 1001, dtype=np.float32)
    x[:3] = [np.nan, -np.inf, -0.0]
    g = np.linspace(2, -2, 1001, dtype=np.float32)
    A = fastact.ACTIVATIONS
    cases = [  # (name, args, kwargs, bound parameters)
        ("threshold", (0.5, -1.0), {}, {"threshold": 0.5, "value": -1.0}),
        ("leaky_relu", (0.2,), {}, {"negative_slope": 0.2}),
        ("elu", (), {"alpha": 0.5}, {"alpha": 0.5}),
        ("hardtanh", (-2, 2), {}, {"min_val": -2.0, "max_val": 2.0}),
        ("gelu", (), {"approximate": "tanh"}, {"approximate": "tanh"}),
    ]
    for name, args, kwargs, params in cases:
        f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
        for _ in range(2):  # the first call binds the set, the second finds it
            general.clear()
            np.testing.assert_array_equal(f(x, *args, **kwargs),
                                          fwd(A[name], x, params, None, False, "cpu"))
            np.testing.assert_array_equal(fg(g, x, *args, **kwargs),
                                          grd(A[name], g, x, params, None, "cpu"))
            y = x.copy()
            assert f(y, *args, inplace=True, **kwargs) is y
            np.testing.assert_array_equal(y, f(x, *args, **kwargs))
            assert general == []
    xs = np.array([-2.0, -0.5, 1.0])
    pos, neg = fastact.leaky_relu(xs, 0.0), fastact.leaky_relu(xs, -0.0)
    assert not np.signbit(neg[:2]).any() and np.signbit(pos[:2]).all()
    np.testing.assert_array_equal(fastact.leaky_relu(xs, 1), fastact.leaky_relu(xs, 1.0))
    with pytest.raises(TypeError, match="real number"):  # raised by the general path's binding
        fastact.leaky_relu(xs, True)
    with pytest.raises(ValueError, match="greater"):
        fastact.hardtanh(xs, 2.0, -2.0)
    w = np.float64(0.2)
    general.clear()
    np.testing.assert_array_equal(fastact.leaky_relu(xs, w), fastact.leaky_relu(xs, 0.2))
    np.testing.assert_array_equal(fastact.elu(xs, 1.0, bias=0.5), fastact.elu(xs + 0.5, 1.0))
    assert general == ["forward"] * 2
    # a sweep over more parameter sets than are kept: the general path past the table
    for i in range(_fastpath.PARAM_PATHS + 5):
        np.testing.assert_array_equal(fastact.leaky_relu(xs, i / 1000),
                                      np.where(xs > 0, xs, xs * (i / 1000)))


def test_prelu_with_a_float_weight_takes_leaky_relus_loop(monkeypatch):
    """A float weight is one slope for every channel: the fast path runs leaky_relu's loop with
    it; array weights, ints and other layouts take the general path; the values agree."""
    from fastact import _calls

    fastact.relu(np.ones(3))  # "auto" takes the general path once, to load the profile
    general = []
    fwd = _calls.forward
    monkeypatch.setattr(_calls, "forward", lambda *a, **k: general.append(a[2]) or fwd(*a, **k))
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    for dtype in (np.float32, np.float64):
        xd = x.astype(dtype)
        for w in (0.25, -0.3, float("nan")):
            want = fwd(fastact.ACTIVATIONS["prelu"], xd, {"weight": w}, None, False, "cpu", None)
            general.clear()
            np.testing.assert_array_equal(fastact.prelu(xd, w), want)
            np.testing.assert_array_equal(fastact.prelu(xd, weight=w, backend="cpu"), want)
            o = np.empty_like(xd)
            assert fastact.prelu(xd, w, out=o) is o
            np.testing.assert_array_equal(o, want)
            assert general == []
            np.testing.assert_array_equal(fastact.prelu(xd, np.array([w] * 3)), want)
            np.testing.assert_array_equal(fastact.prelu(np.asfortranarray(xd), w), want)
            assert len(general) == 2
    assert fastact.prelu(np.float32([-2.0]), 1)[0] == -2.0  # an int weight: the general path
    assert general[-1] == {"weight": 1}


def test_prelu_grad_with_a_float_weight_fast_path(monkeypatch):
    """prelu_grad with a float weight: the per-element loops with that slope and the weight's
    gradient summed as the general path sums it; identical results, and the general path still
    takes array weights, result=/inplace=, and foreign out=."""
    from fastact import _calls

    fastact.relu(np.ones(3))  # "auto" takes the general path once, to load the profile
    general = []
    grd = _calls.grad
    monkeypatch.setattr(_calls, "grad", lambda *a, **k: general.append(a[3]) or grd(*a, **k))
    for dtype in (np.float32, np.float64):
        x = np.linspace(-3, 3, 60, dtype=dtype).reshape(3, 4, 5)
        g = np.linspace(2, -1, 60, dtype=dtype).reshape(3, 4, 5)
        for w in (0.25, -0.3):
            want_in, want_w = grd(fastact.ACTIVATIONS["prelu"], g, x, {"weight": w}, None, "cpu",
                                  None, False, None)
            general.clear()
            for kw in ({}, {"backend": "cpu"}):
                got_in, got_w = fastact.prelu_grad(g, x, w, **kw)
                np.testing.assert_array_equal(got_in, want_in)
                assert type(got_w) is type(want_w) and got_w == want_w
            o = np.empty_like(x)
            got_in, got_w = fastact.prelu_grad(g, x, weight=w, out=o)
            assert got_in is o and got_w == want_w
            np.testing.assert_array_equal(o, want_in)
            assert general == []
            got_in, got_w = fastact.prelu_grad(g, x, np.array([w] * 4))  # per channel
            np.testing.assert_allclose(got_w.sum(), want_w, rtol=1e-5)
            gc = g.copy()
            fastact.prelu_grad(gc, x, w, out=gc)  # out is grad_output: the general path
            np.testing.assert_array_equal(gc, want_in)
            assert len(general) == 2
    big = np.full(10, 3e38, np.float32)
    _, gw = fastact.prelu_grad(big, -big, 0.5)  # the sum overflows to -inf, no warning raised
    assert gw == -np.inf


def test_small_calls_run_the_serial_loop_as_a_ufunc(monkeypatch):
    """A plain call on a small array runs the serial loop through a NumPy ufunc made from it
    (fastact.backends.cpu.loop_ufunc): the general path's values bit for bit, for every layout the
    loop is given, no floating-point warning NumPy would raise for a ufunc (the loops set the
    flags on NaN and inf as a matter of course), and a change of thresholds seen at once."""
    from fastact import _calls
    from fastact.backends import cpu

    if not cpu.X86:
        pytest.skip("the ufuncs are built on x86 only")
    general, fwd, grd = _general_calls(monkeypatch)
    x = np.linspace(-9, 9, 999, dtype=np.float32)
    x[:6] = [np.nan, -np.inf, np.inf, -0.0, 1e-40, -1e-40]
    g = np.linspace(2, -2, 999, dtype=np.float32)
    for dtype in (np.float32, np.float64):
        xd, gd = x.astype(dtype), g.astype(dtype)
        gelu, silu_grad = fastact.ACTIVATIONS["gelu"], fastact.ACTIVATIONS["silu"]
        want_f = fwd(gelu, xd, {"approximate": "none"}, None, False, "cpu", None)
        want_g = grd(silu_grad, gd, xd, {}, None, "cpu", None, False, None)
        for _ in range(2):  # the first call fills the small calls' table
            with warnings.catch_warnings(), np.errstate(all="raise"):
                warnings.simplefilter("error")
                np.testing.assert_array_equal(fastact.gelu(xd), want_f)
                np.testing.assert_array_equal(fastact.silu_grad(gd, xd), want_g)
                np.testing.assert_array_equal(fastact.gelu(xd.reshape(27, 37)),
                                              want_f.reshape(27, 37))
        # the ufunc itself on operands that are not contiguous: strided, reversed, broadcast
        uf = cpu.loop_ufunc("silu_grad", np.dtype(dtype), (), 2)
        for a, b in ((gd[::3], xd[::3]), (gd[::-1], xd[::-1]), (gd[:1], xd)):
            a, b = np.broadcast_arrays(a, b)
            np.testing.assert_array_equal(
                uf(a, b), grd(silu_grad, np.ascontiguousarray(a), np.ascontiguousarray(b), {},
                              None, "cpu", None, False, None))
    assert general == []
    # a threshold below the array's size: the parallel loop, from the next call on
    ran = []
    real = parallel.run_loop
    monkeypatch.setattr(parallel, "run_loop", lambda loop, *a: ran.append(loop) or real(loop, *a))
    table = {family: {"float32": 64, "float64": 64} for family in dispatch.DEFAULT_THRESHOLDS}
    with dispatch.use_thresholds(table, "test"):
        np.testing.assert_array_equal(fastact.gelu(x), fastact.gelu(x, backend="cpu"))
    if parallel.threads() > 1:
        assert ran == ["gelu"]
    assert _calls.forward is not fwd and general == []


def test_small_calls_with_parameters_skip_the_general_path(monkeypatch):
    """A small call passing parameters (positionally or by name) takes the small calls' table
    from its second call on: the general path's values, and a value that equals another but
    means something else (a zero of the other sign, a bool for a number) still gets its own."""
    general, fwd, grd = _general_calls(monkeypatch)
    x = np.linspace(-4, 4, 777, dtype=np.float32)
    x[:3] = [np.nan, -np.inf, -0.0]
    for dtype in (np.float32, np.float64):
        xd = x.astype(dtype)
        spec = fastact.ACTIVATIONS
        cases = [("leaky_relu", (0.2,), {}, {"negative_slope": 0.2}),
                 ("leaky_relu", (0.0,), {}, {"negative_slope": 0.0}),
                 ("leaky_relu", (-0.0,), {}, {"negative_slope": -0.0}),
                 ("leaky_relu", (2,), {}, {"negative_slope": 2.0}),
                 ("hardtanh", (-2.0, 3.0), {}, {"min_val": -2.0, "max_val": 3.0}),
                 ("elu", (), {"alpha": 0.5}, {"alpha": 0.5}),
                 ("gelu", (), {"approximate": "tanh"}, {"approximate": "tanh"})]
        for _ in range(2):  # the first call of each fills the table
            for name, args, kwargs, params in cases:
                want = fwd(spec[name], xd, params, None, False, "cpu", None)
                got = getattr(fastact, name)(xd, *args, **kwargs)
                np.testing.assert_array_equal(got, want)
                assert np.array_equal(np.signbit(got), np.signbit(want)), (name, args)
                grad = getattr(fastact, f"{name}_grad")(xd, xd, *args, **kwargs)
                np.testing.assert_array_equal(
                    grad, grd(spec[name], xd, xd, params, None, "cpu", None, False, None))
    # (celu's and softshrink's parameter tables are their own: another test fills leaky_relu's)
    fastact.celu(x, 0.75), fastact.softshrink(x, lambd=0.25), fastact.celu(x, 1.0)
    general.clear()
    for _ in range(2):
        fastact.celu(x, 0.75)
        fastact.softshrink(x, lambd=0.25)
    assert general == []
    # values equal to a kept one but of another type: the general path's answer
    with pytest.raises(TypeError, match="real number"):
        fastact.celu(x, True)
    for bad in (Decimal("0.75"), 0.75 + 0j):
        with pytest.raises(TypeError, match="real number"):
            fastact.celu(x, bad)
    general.clear()
    np.testing.assert_array_equal(fastact.celu(x, np.float64(0.75)), fastact.celu(x, 0.75))
    assert general == ["forward"]
    for _ in range(3):  # NaN: never kept (a new key each time)
        assert np.isnan(fastact.leaky_relu(x, float("nan"))[x < 0]).all()


def test_small_gated_and_axiswise_calls_skip_the_general_path(monkeypatch):
    """Plain gated and axis-wise calls on small arrays (the split along the last axis, or gate
    and up of one shape; the reduction along the last axis) run the serial loops directly: the
    general path's values bit for bit, for every form and gradient, and the general path for
    everything else (an override, FASTACT_BACKEND, the parallel loop's sizes, bad input)."""
    from fastact import _axis, _gated

    calls = []
    for module in (_gated, _axis):
        for fn in ("forward", "grad"):
            real = getattr(module, fn)
            monkeypatch.setattr(module, fn, lambda *a, _r=real, _n=fn, **k:
                                calls.append(_n) or _r(*a, **k))
    rng = np.random.default_rng(7)
    gated = ("glu", "swiglu", "geglu", "reglu")
    axiswise = ("softmax", "log_softmax", "softmin", "logsumexp", "sparsemax")

    def runs(dtype, shape):
        """(function, arguments, keywords) of every plain call on arrays of this shape."""
        x = rng.standard_normal(shape).astype(dtype) * 4
        x.flat[:3] = [np.nan, np.inf, -0.0]
        half = (*shape[:-1], shape[-1] // 2)
        h = rng.standard_normal(half).astype(dtype)
        a, b = x[..., :shape[-1] // 2].copy(), x[..., shape[-1] // 2:].copy()
        for name in gated:
            f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
            yield from ((f, (x,), {}), (f, (a, b), {}), (fg, (h, x), {}), (fg, (h, a, b), {}))
        for name in axiswise:
            f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
            y = f(x, backend="cpu")
            gr = rng.standard_normal(np.shape(y)).astype(dtype)
            yield from ((f, (x,), {}), (fg, (gr, x), {}))
            yield (fg, (gr, x), {"result": np.asarray(y)}) if name == "logsumexp" else \
                (fg, (gr,), {"result": y})

    for dtype in (np.float32, np.float64):
        for shape in ((10,), (3, 8), (2, 3, 6), (0, 4)):
            for fn, args, kwargs in runs(dtype, shape):
                want = fn(*args, backend="cpu", **kwargs)
                calls.clear()
                got = fn(*args, **kwargs)
                assert calls == [] or 0 in shape, shape  # (empty: either path)
                for w, o in zip(*((want, got) if isinstance(want, tuple) else
                                  ((want,), (got,))), strict=True):
                    assert type(o) is type(w) and o.dtype == w.dtype and o.shape == w.shape
                    np.testing.assert_array_equal(o, w)
    x = np.ones((4, 6), np.float32)
    calls.clear()
    with fastact.use_backend("cpu"):
        fastact.swiglu(x), fastact.softmax(x)
    monkeypatch.setenv("FASTACT_BACKEND", "cpu")
    fastact.swiglu(x), fastact.softmax(x)
    monkeypatch.delenv("FASTACT_BACKEND")
    table = {family: {"float32": 8, "float64": 8} for family in dispatch.DEFAULT_THRESHOLDS}
    with dispatch.use_thresholds(table, "test"):
        fastact.swiglu(x), fastact.softmax(x)
    assert calls == ["forward"] * 6
    with pytest.raises(ValueError, match="odd"):
        fastact.swiglu(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="broadcast"):
        fastact.swiglu_grad(np.ones((2, 2), np.float32), np.ones((2, 6), np.float32))
    with pytest.raises(TypeError, match="not both"):
        fastact.softmax_grad(x, x, result=x)
    # the last axis named as an int takes the small calls too; lists the general path
    want = fastact.swiglu(x, backend="cpu"), fastact.softmax(x, backend="cpu")
    calls.clear()
    for got, w in ((fastact.swiglu(x, -1), want[0]), (fastact.swiglu(x, axis=1), want[0]),
                   (fastact.softmax(x, 1), want[1])):
        np.testing.assert_array_equal(got, w)
    assert calls == []
    np.testing.assert_array_equal(fastact.softmax_grad(np.ones(3), [1.0, 2.0, 3.0]),
                                  fastact.softmax_grad(np.ones(3), np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(fastact.logsumexp_grad(np.ones(()), [1.0, 2.0]),
                                  fastact.logsumexp_grad(np.ones(()), np.array([1.0, 2.0])))
    np.testing.assert_array_equal(fastact.softmax_grad(np.ones(2), result=[0.5, 0.5]),
                                  fastact.softmax_grad(np.ones(2), result=np.full(2, 0.5)))
    assert fastact.swiglu(np.ones((2, 6)), 0).shape == (1, 6)
