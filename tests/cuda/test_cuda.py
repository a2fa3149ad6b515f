"""The cuda backend: device arrays in -> device arrays out, host streaming, grads, in place, errors.

Runs on Numba's CUDA simulator in CI (``NUMBA_ENABLE_CUDASIM=1``, see conftest.py) and on a real
GPU where there is one. Expected values are the CPU backend's results (themselves checked against
the float64/mpmath reference by tests/test_accuracy.py), compared explicitly: NaN where NaN, the
same infinities, the same signed zeros, and otherwise within ``TOL_ULP`` (a GPU may contract
other products into FMAs; on the simulator the kernels run as the same CPU code and agree
exactly). No comparison uses ``max``/``min`` (the simulator's ``max(nan, 0)`` is not ``fmax``).
"""

import threading

import numpy as np
import pytest
from numba import cuda

import fastact
from fastact.backends import cuda as cuda_backend
from fastact.registry import ACTIVATIONS, PIECEWISE_LINEAR

from ..reference import ELEMENTWISE, cases, grad_input, sample_params

SIM = cuda_backend.simulated()
NAMES = list(ELEMENTWISE)
FROM_RESULT = [n for n, a in ELEMENTWISE.items() if a.result_grad is not None]
TOL_ULP = 8  # each side within 4 ULP of the exact value


def default_params(name):
    return sample_params(ACTIVATIONS[name])


def inputs(dtype):
    """Special values, kinks and their neighbours, tails and a grid: ~150 elements."""
    f = np.dtype(dtype).type
    tiny = np.finfo(dtype).tiny
    big = np.finfo(dtype).max
    specials = [0.0, -0.0, np.nan, np.inf, -np.inf, tiny, -tiny, tiny / 4, -tiny / 4, big, -big,
                1e-30, -1e-30]
    kinks = np.array([0, -3, 3, 6, -1, 1, 0.5, -2.5, 20, 10, 15], dtype)
    near = np.concatenate([np.nextafter(kinks, f(np.inf)), np.nextafter(kinks, f(-np.inf))])
    grid = np.linspace(-30, 30, 73, dtype=dtype)
    tails = np.array([-90, -88, -87, -85, -60, -40, -14, -13, -12, -9, 40, 88, 100], dtype)
    with np.errstate(over="ignore"):
        return np.concatenate([np.array(specials, dtype), kinks, near, grid, tails])


def ulp_diff(a, b):
    """ULP distance between two float arrays of one dtype (finite, same sign or zero)."""
    dt = a.dtype
    if dt == np.float16:
        a, b = a.astype(np.float32), b.astype(np.float32)
        dt = np.dtype(np.float16)
    spacing = np.spacing(np.abs(b).astype(dt)).astype(np.float64)
    return np.abs(a.astype(np.float64) - b.astype(np.float64)) / spacing


def assert_matches(got, want, tol, what):
    assert got.dtype == want.dtype, what
    assert got.shape == want.shape, what
    got, want = got.reshape(-1), want.reshape(-1)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), f"{what}: NaN pattern differs"
    inf = np.isinf(want)
    assert np.array_equal(got[inf], want[inf]), f"{what}: infinities differ"
    zero = want == 0
    assert np.array_equal(got[zero] == 0, np.ones(zero.sum(), bool)), f"{what}: zeros differ"
    assert np.array_equal(np.signbit(got[zero]), np.signbit(want[zero])), f"{what}: zero signs"
    rest = ~(nan | inf | zero)
    with np.errstate(all="ignore"):
        d = ulp_diff(got[rest], want[rest])
    worst = float(d.max()) if d.size else 0.0
    assert worst <= tol, f"{what}: {worst} ULP from the CPU backend (tolerance {tol})"


def tol_for(name):
    return 0 if ACTIVATIONS[name].family == PIECEWISE_LINEAR else TOL_ULP


def host(d):
    return d.copy_to_host()


def test_usable_and_explained():
    ok, why = cuda_backend.usable()
    assert ok, why
    d = cuda.to_device(np.zeros(10, np.float32))
    assert "backend cuda" in fastact.explain(d, "gelu")
    assert "cuda" in fastact.info()["cuda"] or "simulator" in fastact.info()["cuda"]
    assert "refused" in fastact.explain(d, "gelu", backend="cpu")


# -- the activation table, device in -> device out -------------------------------------------


@pytest.mark.parametrize("name,variant,params", cases(),
                         ids=[f"{v}-{'-'.join(f'{k}={p[k]}' for k in p) or 'default'}"
                              for _, v, p in cases()])
def test_forward_and_grad_float32(name, variant, params):
    x = inputs(np.float32)
    g = np.linspace(-2, 2, x.size, dtype=np.float32)
    d = cuda.to_device(x)
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    y = f(d, **params)
    assert cuda_backend.is_device_array(y) and y.shape == x.shape
    assert_matches(host(y), f(x, **params, backend="cpu"), tol_for(name), f"{variant} forward")
    r = fg(cuda.to_device(g), d, **params)
    want = fg(g, x, **params, backend="cpu")
    if ACTIVATIONS[name].has_weight:
        r, gw = r
        want, want_w = want
        np.testing.assert_allclose(gw, want_w, rtol=1e-5)
    assert_matches(host(r), want, tol_for(name), f"{variant} grad")


#: float64 on the simulator: one activation per kernel family and code path (each float64 kernel
#: compiles for minutes in all on a cold cache; the simulator runs the same CPU code the float64
#: CPU tests check). On a GPU: every activation.
FLOAT64 = NAMES if not SIM else ["relu", "hardtanh", "prelu", "elu", "sigmoid", "gelu"]
DTYPE_CASES = [(n, np.float16) for n in NAMES] + [(n, np.float64) for n in FLOAT64]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")  # float16 results
@pytest.mark.parametrize("name,dtype", DTYPE_CASES,
                         ids=[f"{n}-{np.dtype(d).name}" for n, d in DTYPE_CASES])
def test_forward_and_grad_other_dtypes(name, dtype):
    x = inputs(dtype)
    g = np.linspace(-2, 2, x.size).astype(dtype)
    p = default_params(name)
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    y = f(cuda.to_device(x), **p)
    assert np.dtype(y.dtype) == np.dtype(dtype)
    tol = tol_for(name) if dtype == np.float64 else (1 if tol_for(name) else 0)
    assert_matches(host(y), f(x, **p, backend="cpu"), tol, f"{name} {np.dtype(dtype)}")
    r = fg(cuda.to_device(g), cuda.to_device(x), **p)
    r = grad_input(ACTIVATIONS[name], r)
    want = fg(g, x, **p, backend="cpu")
    want = grad_input(ACTIVATIONS[name], want)
    assert_matches(host(r), want, tol, f"{name}_grad {np.dtype(dtype)}")


@pytest.mark.parametrize("name", FROM_RESULT)
def test_grad_from_result(name):
    x = inputs(np.float32)
    g = np.linspace(-2, 2, x.size, dtype=np.float32)
    fg = getattr(fastact, f"{name}_grad")
    y = getattr(fastact, name)(x)
    got = fg(cuda.to_device(g), result=cuda.to_device(y))
    assert_matches(host(got), fg(g, result=y, backend="cpu"), tol_for(name), name)


# -- in place, out=, layouts --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "gelu", "hardtanh", "silu"])
def test_inplace_and_out(name):
    x = inputs(np.float32)
    want = getattr(fastact, name)(x, backend="cpu")
    d = cuda.to_device(x)
    assert getattr(fastact, name)(d, inplace=True) is d
    assert_matches(host(d), want, tol_for(name), "inplace")
    d = cuda.to_device(x)
    o = cuda.device_array_like(d)
    assert getattr(fastact, name)(d, out=o) is o
    assert_matches(host(o), want, tol_for(name), "out=")
    np.testing.assert_array_equal(host(d), x)  # the input is untouched
    assert getattr(fastact, name)(d, out=d) is d  # out aliasing x: in place
    assert_matches(host(d), want, tol_for(name), "out=x")
    g = np.linspace(-1, 1, x.size, dtype=np.float32)
    dg = cuda.to_device(g)
    fg = getattr(fastact, f"{name}_grad")
    assert fg(dg, cuda.to_device(x), inplace=True) is dg
    assert_matches(host(dg), fg(g, x, backend="cpu"), tol_for(name), "grad inplace")


def test_layouts_and_shapes():
    rng = np.random.default_rng(3)
    a = (rng.standard_normal((6, 10)) * 3).astype(np.float32)
    for arr in (a, np.asfortranarray(a), a.reshape(3, 4, 5), np.float32(-1.5).reshape(()),
                np.empty((0, 3), np.float32)):
        y = fastact.gelu(cuda.to_device(arr))
        assert y.shape == arr.shape
        np.testing.assert_array_equal(host(y), fastact.gelu(arr, backend="cpu"))
    f = cuda.to_device(np.asfortranarray(a))
    g = fastact.silu_grad(f, f)
    np.testing.assert_array_equal(host(g), fastact.silu_grad(a, a, backend="cpu"))


def test_refused_calls_change_nothing():
    x = inputs(np.float32)
    d = cuda.to_device(x)
    two = cuda.to_device(np.ones((4, 5), np.float32))
    cases = [
        (ValueError, "shape", lambda: fastact.relu(d, out=cuda.device_array(3, np.float32))),
        (ValueError, "dtype", lambda: fastact.relu(d, out=cuda.device_array(x.size, np.float64))),
        (TypeError, "not a CUDA device array", lambda: fastact.relu(d, out=np.empty_like(x))),
        (TypeError, "not a CUDA device array",
         lambda: fastact.relu(np.ones(3, np.float32), out=cuda.device_array(3, np.float32))),
        (TypeError, "not a CUDA device array", lambda: fastact.relu_grad(d, x)),
        (ValueError, "same shape", lambda: fastact.relu_grad(d, cuda.to_device(x[:5]))),
        (TypeError, "same dtype", lambda: fastact.relu_grad(d, cuda.to_device(x.astype("f8")))),
        (ValueError, "runs on the CPU", lambda: fastact.relu(d, backend="cpu")),
        (ValueError, "runs on the CPU", lambda: fastact.relu(d, backend="parallel")),
        (ValueError, "out= or inplace", lambda: fastact.relu(d, out=d, inplace=True)),
        (TypeError, "unsupported dtype", lambda: fastact.relu(cuda.to_device(np.arange(4)))),
        (ValueError, "contiguous", lambda: fastact.relu(two[:, ::2])),
        (ValueError, "partly overlaps", lambda: fastact.relu(d[1:], out=d[:-1])),
        (ValueError, "channels", lambda: fastact.prelu(two, np.ones(3, np.float32))),
    ]
    for exc, words, call in cases:
        with pytest.raises(exc, match=words):
            call()
        np.testing.assert_array_equal(host(d), x)
    with fastact.use_backend("cpu"), pytest.raises(ValueError, match="runs on the CPU"):
        fastact.gelu(d)


# -- prelu on the device: scalar and per-channel weights, both layouts ---------------------------


@pytest.mark.parametrize("order", ["C", "F"])
def test_prelu_channels(order):
    rng = np.random.default_rng(5)
    x = np.asarray(rng.standard_normal((4, 3, 5)).astype(np.float32), order=order)
    g = np.asarray(rng.standard_normal((4, 3, 5)).astype(np.float32), order=order)
    w = np.float32([0.1, 0.2, 0.3])
    dx, dg = cuda.to_device(x), cuda.to_device(g)
    np.testing.assert_array_equal(host(fastact.prelu(dx, w)), fastact.prelu(x, w))
    gi, gw = fastact.prelu_grad(dg, dx, w)
    want_i, want_w = fastact.prelu_grad(g, x, w)
    np.testing.assert_array_equal(host(gi), want_i)
    assert isinstance(gw, np.ndarray) and gw.shape == (3,)  # a host weight: a host gradient
    np.testing.assert_allclose(gw, want_w, rtol=1e-5)
    gi, gw = fastact.prelu_grad(dg, dx, cuda.to_device(w))  # a device weight stays there
    assert cuda_backend.is_device_array(gw)
    np.testing.assert_allclose(host(gw), want_w, rtol=1e-5)
    gi, gw = fastact.prelu_grad(dg, dx, 0.25)
    np.testing.assert_allclose(gw, fastact.prelu_grad(g, x, 0.25)[1], rtol=1e-5)


# -- host arrays through the GPU -------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    """Staging buffers of 256 bytes: every host call below spans several chunks and streams."""
    monkeypatch.setattr(cuda_backend, "HOST_CHUNK_BYTES", 256)
    for key in [k for k in cuda_backend._state if isinstance(k, tuple)]:
        monkeypatch.delitem(cuda_backend._state, key)
    yield
    for key in [k for k in cuda_backend._state if isinstance(k, tuple)]:
        cuda_backend._state.pop(key)


def test_host_streaming(small_chunks):
    x = inputs(np.float32)
    for name in ("relu", "gelu", "softplus"):
        f = getattr(fastact, name)
        want = f(x, backend="cpu")
        got = f(x, backend="cuda")
        assert isinstance(got, np.ndarray)
        assert_matches(got, want, tol_for(name), name)
        o = np.empty_like(x)
        assert f(x, out=o, backend="cuda") is o
        y = x.copy()
        assert f(y, inplace=True, backend="cuda") is y
        assert_matches(y, want, tol_for(name), f"{name} in place")
    # strided, float16, float64, integers, broadcasting gradients, 0-d
    m = (np.random.default_rng(2).standard_normal((40, 30)) * 4).astype(np.float32)
    np.testing.assert_array_equal(fastact.gelu(m[::2, ::3], backend="cuda"),
                                  fastact.gelu(m[::2, ::3], backend="cpu"))
    h = m.astype(np.float16)
    np.testing.assert_array_equal(fastact.silu(h, backend="cuda"), fastact.silu(h, backend="cpu"))
    d = m.astype(np.float64)
    np.testing.assert_array_equal(fastact.tanh(d, backend="cuda"), fastact.tanh(d, backend="cpu"))
    i = np.arange(-50, 50)
    np.testing.assert_array_equal(fastact.sigmoid(i, backend="cuda"), fastact.sigmoid(i))
    row = m[0]
    np.testing.assert_array_equal(fastact.gelu_grad(row, m, backend="cuda"),
                                  fastact.gelu_grad(row, m, backend="cpu"))
    assert fastact.relu(np.float32(-2), backend="cuda") == 0
    assert fastact.gelu(np.empty((0, 4), np.float32), backend="cuda").shape == (0, 4)
    t = m.T  # an F-ordered out receives the result through a contiguous temporary
    o = np.empty_like(t)
    fastact.elu(t, out=o, backend="cuda")
    np.testing.assert_array_equal(o, fastact.elu(t, backend="cpu"))


def test_host_streaming_prelu_channels_cross_chunks(small_chunks):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 7, 3)).astype(np.float32)
    g = rng.standard_normal((5, 7, 3)).astype(np.float32)
    w = np.linspace(0.05, 0.7, 7).astype(np.float32)
    np.testing.assert_array_equal(fastact.prelu(x, w, backend="cuda"), fastact.prelu(x, w))
    gi, gw = fastact.prelu_grad(g, x, w, backend="cuda")
    want_i, want_w = fastact.prelu_grad(g, x, w)
    np.testing.assert_array_equal(gi, want_i)
    np.testing.assert_allclose(gw, want_w, rtol=1e-5)


# -- other producers: the CUDA Array Interface, streams, threads --------------------------------


class Interface:
    """A minimal foreign device array: only ``__cuda_array_interface__`` (v3, with a stream).

    On the simulator "device memory" is host memory, so it wraps a NumPy array's buffer."""

    def __init__(self, arr, readonly=False, stream=None):
        self.arr = arr
        self.__cuda_array_interface__ = {
            "shape": arr.shape, "typestr": arr.dtype.str, "strides": None,
            "data": (arr.__array_interface__["data"][0], readonly), "version": 3,
            "stream": stream,
        }


@pytest.mark.skipif(not SIM, reason="the interface double points at host memory")
def test_cuda_array_interface_producers():
    x = inputs(np.float32)
    buf = x.copy()
    y = fastact.gelu(Interface(buf, stream=1))
    np.testing.assert_array_equal(host(y), fastact.gelu(x, backend="cpu"))
    assert fastact.gelu(Interface(buf), inplace=True) is not None
    np.testing.assert_array_equal(buf, fastact.gelu(x, backend="cpu"))  # written where it lives
    frozen = x.copy()
    with pytest.raises(ValueError, match="read-only"):
        fastact.relu(Interface(frozen, readonly=True), inplace=True)
    np.testing.assert_array_equal(frozen, x)


def test_explicit_stream_and_threads():
    x = inputs(np.float32)
    want = fastact.mish(x, backend="cpu")
    s = cuda.stream()
    y = fastact.mish(cuda.to_device(x, stream=s), stream=s)
    s.synchronize()
    assert_matches(host(y), want, TOL_ULP, "stream=")
    errors, results = [], {}

    def work(i):
        try:
            results[i] = host(fastact.mish(cuda.to_device(x)))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results.values():
        assert_matches(r, want, TOL_ULP, "threads")


def test_gpu_benchmark_script_runs(tmp_path):
    """benchmarks/gpu.py end to end on a tiny size (on the simulator its figures mean nothing)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "gpu.py"), "--n", "2048", "--reps", "1",
         "--only", "relu", "gelu", "--markdown", str(tmp_path / "gpu.md")],
        capture_output=True, text=True, timeout=600, cwd=root,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    table = (tmp_path / "gpu.md").read_text()
    assert "| relu |" in table and "| gelu |" in table and "copy" in table


def test_tune_measures_host_streaming(tmp_path, monkeypatch):
    """gpu_crossover times backend="cuda" on host data against the CPU; tune() stores it where a
    GPU is usable (forced here on the simulator, whose figures mean nothing)."""
    from fastact import dispatch, tuning

    thr, rows = tuning.gpu_crossover("relu", "float32", sizes=(256, 512, 1024))
    assert [n for n, _, _ in rows] == [256, 512, 1024]
    assert all(h > 0 and c > 0 for _, h, c in rows)
    assert thr is None or thr in (256, 512, 1024)
    monkeypatch.setenv("FASTACT_PROFILE", str(tmp_path / "p.json"))
    monkeypatch.setattr(tuning, "SIZES", (1 << 10, 1 << 11))
    monkeypatch.setattr(tuning, "GPU_SIZES", (256, 512))
    monkeypatch.setattr(cuda_backend, "simulated", lambda: False)
    monkeypatch.setattr(tuning, "gpu_crossover",
                        lambda name, dtype, progress=None: (progress(), (512, []))[1])
    try:
        prof = fastact.tune(progress=False)
        assert prof["thresholds"]["cuda"][PIECEWISE_LINEAR]["float32"] == 512
        monkeypatch.undo()
        monkeypatch.setenv("FASTACT_PROFILE", str(tmp_path / "p.json"))
        dispatch.reload_profile()
        x = np.linspace(-1, 1, 600, dtype=np.float32)
        assert "backend cuda" in fastact.explain(x, "relu")
        assert "backend cpu" in fastact.explain(x[:500], "relu")
        calls = []
        real = cuda_backend.call
        monkeypatch.setattr(cuda_backend, "call", lambda *a: calls.append(a[0]) or real(*a))
        np.testing.assert_array_equal(fastact.relu(x), fastact.relu(x, backend="cpu"))
        fastact.relu(x[:500])
        assert calls == ["relu"]  # auto sent the 600 elements, not the 500, to the GPU
    finally:
        dispatch.reload_profile()
