"""The public API: every activation x dtype x layout x call style, out=, inplace=, scalars, errors.

The expected values come from the float64 reference (tests/reference.py), so these tests check the
plumbing (shapes, strides, dtypes, aliasing) with a reference that shares no code with fastact.
"""

import inspect
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import fastact
from fastact import ufuncs
from fastact.registry import ACTIVATIONS, REQUIRED

from .reference import ELEMENTWISE, REFS, grad_input, ref_params, sample_params

NAMES = list(ELEMENTWISE)


def _one_per_code_path():
    """One activation per kernel module and family (the float64 layout cases: the layout handling
    is the same for every kernel, and each kernel's float64 values are checked by
    tests/test_accuracy.py)."""
    seen, out = set(), []
    for name, spec in ELEMENTWISE.items():
        key = (spec.forward.py_func.__module__, spec.family, spec.has_weight)
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out


#: (activation, dtype) of the layout tests: every activation in float32, one per code path in
#: float64
LAYOUT_CASES = [(n, np.float32) for n in NAMES] + [(n, np.float64) for n in _one_per_code_path()]
LAYOUT_IDS = [f"{n}-{np.dtype(d).name}" for n, d in LAYOUT_CASES]


def params_for(name):
    return sample_params(ACTIVATIONS[name])


def weighted(name):
    """Whether the activation has a weight parameter (no inplace=; _grad returns a pair)."""
    return ACTIVATIONS[name].has_weight


def expected(name, x, params=None, grad=False, g=None):
    """The reference result in x's dtype (float16 via float32 parameters, as fastact)."""
    params = params_for(name) if params is None else params
    spec = ACTIVATIONS[name]
    choice = spec.choice
    value = params.get(choice.name, choice.default) if choice else None
    variant = name if value is None or value == choice.default else f"{name}_{value}"
    full = {p.name: p.default for p in spec.params if p.default is not REQUIRED}
    full.update(params)
    ct = np.dtype(np.float32) if x.dtype == np.float16 else x.dtype
    rp = {k: float(ct.type(v)) if np.dtype(ct).kind == "f" else v
          for k, v in ref_params(full).items()}
    ref = REFS[variant]
    with np.errstate(all="ignore"):
        if grad:
            y = g.astype(np.float64) * ref.df(x.astype(np.float64), **rp)
        else:
            y = ref.f(x.astype(np.float64), **rp)
    return y.astype(x.dtype)


def assert_close(got, want):
    """Plumbing check (accuracy is test_accuracy's job): 4 ULP in float32, and in float64 the
    SciPy reference's own tail error (x * ndtr(x) loses ~x**2 ULP) allows 1e-13."""
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    rtol = 1e-13 if want.dtype == np.float64 else 4 * np.finfo(want.dtype).eps
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


def layouts(dtype):
    """(label, array) views: contiguous, strided, negative step, 2-D transposed, 0-d, empty."""
    rng = np.random.default_rng(7)
    base = (rng.standard_normal(4 * 6 * 5) * 4).astype(dtype)
    yield "contiguous", base[:60].copy()
    yield "strided", base[::2]
    yield "negative-step", base[::-3]
    yield "transposed", base[:60].reshape(6, 10).T
    yield "3d-sliced", base.reshape(4, 6, 5)[:, ::2, 1:]
    yield "0d", np.array(dtype(-1.25))
    yield "empty", np.empty((0, 3), dtype)


@pytest.mark.parametrize(("name", "dtype"), LAYOUT_CASES, ids=LAYOUT_IDS)
def test_layouts_and_call_styles(name, dtype):
    f, p = getattr(fastact, name), params_for(name)
    for label, x in layouts(dtype):
        x0 = x.copy()
        want = expected(name, x)
        got = f(x, **p)  # allocating
        np.testing.assert_array_equal(x, x0, err_msg=label)
        if x.ndim == 0:
            assert np.isscalar(got) or got.ndim == 0, label
        assert_close(np.asarray(got), want)
        out = np.empty_like(x)
        assert f(x, **p, out=out) is out, label
        assert_close(out, want)
        if not weighted(name):
            xi = x.copy() if label in ("0d", "empty") else x  # views write through to the base
            r = f(xi, **p, inplace=True)
            assert r is xi, label
            assert_close(xi, want)


@pytest.mark.parametrize(("name", "dtype"), LAYOUT_CASES, ids=LAYOUT_IDS)
def test_grad_layouts_and_broadcasting(name, dtype):
    fg, p = getattr(fastact, f"{name}_grad"), params_for(name)
    rng = np.random.default_rng(3)
    for label, x in layouts(dtype):
        g = rng.standard_normal(x.shape).astype(dtype)
        want = expected(name, x, grad=True, g=g)
        got = fg(g, x, **p)
        got = got[0] if weighted(name) else got
        assert_close(np.asarray(got), want)
        out = np.empty_like(want)
        r = fg(g, x, **p, out=out)
        assert (r[0] if weighted(name) else r) is out, label
        assert_close(out, want)
    # grad_output broadcasts against x
    x = rng.standard_normal((3, 4)).astype(dtype)
    g = dtype(2.0)
    got = fg(g, x, **p)
    got = got[0] if weighted(name) else got
    assert_close(got, expected(name, x, grad=True, g=np.full(x.shape, g)))


def test_grad_is_g_times_derivative():
    x = np.linspace(-4, 4, 101)
    g = np.random.default_rng(0).standard_normal(101)
    for name in NAMES:
        p = params_for(name)
        d = fastact.derivative(name, x, **p)
        gi = getattr(fastact, f"{name}_grad")(g, x, **p)
        gi = gi[0] if weighted(name) else gi
        np.testing.assert_allclose(gi, g * d, rtol=1e-15, atol=0, err_msg=name)


def test_out_aliasing_and_partial_overlap():
    x = np.linspace(-3, 3, 101)
    want = fastact.gelu(x)
    y = x.copy()
    assert fastact.gelu(y, out=y) is y  # out aliasing x is in-place
    np.testing.assert_array_equal(y, want)
    # partial overlap: shifted views of one buffer are computed as if from a copy
    buf = np.concatenate([x, [0.0]])
    fastact.gelu(buf[:-1], out=buf[1:])
    np.testing.assert_array_equal(buf[1:], want)
    buf = np.concatenate([[0.0], x])
    fastact.relu_grad(buf[1:], buf[1:], out=buf[:-1])
    np.testing.assert_array_equal(buf[:-1], np.where(x <= 0, 0.0, x))


@pytest.mark.parametrize("name", NAMES)
def test_scalars_lists_and_integers(name):
    f, p = getattr(fastact, name), params_for(name)
    r = f(-1.5, **p)
    assert isinstance(r, np.float64), type(r)
    assert_close(np.asarray(r), expected(name, np.array(-1.5)))
    r = f([-1.0, 2.0], **p)
    assert isinstance(r, np.ndarray) and r.dtype == np.float64
    ints = np.array([-2, 0, 3], dtype=np.int32)
    r = f(ints, **p)
    if ACTIVATIONS[name].keeps_integers:
        assert r.dtype == np.int32
        np.testing.assert_array_equal(r, [0, 0, 3])
        assert isinstance(f(-4), np.int64) and f(-4) == 0
        np.testing.assert_array_equal(f(np.array([True, False])), [True, False])
        np.testing.assert_array_equal(f(np.array([0, 7], np.uint8)), np.array([0, 7], np.uint8))
    else:  # integers and bools promote to float64, as np.exp does
        assert r.dtype == np.float64
        assert_close(r, expected(name, ints.astype(np.float64)))
        assert f(np.array([True]), **p).dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
def test_float16(name):
    f, p = getattr(fastact, name), params_for(name)
    x = np.linspace(-5, 5, 41).astype(np.float16)
    r = f(x, **p)
    assert r.dtype == np.float16
    np.testing.assert_allclose(r, expected(name, x).astype(np.float32), rtol=1e-3, atol=1e-4)
    if not weighted(name):
        y = x.copy()
        assert f(y, **p, inplace=True) is y
        np.testing.assert_array_equal(y, r)
    r0 = f(np.float16(-1.0), **p)
    assert r0.dtype == np.float16 and np.ndim(r0) == 0
    gi = getattr(fastact, f"{name}_grad")(np.ones_like(x), x, **p)
    gi = gi[0] if weighted(name) else gi
    assert gi.dtype == np.float16


# -- bad input: a clear error, and nothing written ---------------------------------------------

BAD_DTYPES = [np.complex64, np.complex128, object, "U3", "S3", "datetime64[s]", "timedelta64[s]"]


@pytest.mark.parametrize("bad", BAD_DTYPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_bad_dtypes(name, bad):
    f, p = getattr(fastact, name), params_for(name)
    x = np.zeros(3, dtype=bad)
    with pytest.raises(TypeError, match=name) as e:
        f(x, **p)
    assert str(np.dtype(bad)) in str(e.value)
    with pytest.raises(TypeError, match=f"{name}_grad"):
        getattr(fastact, f"{name}_grad")(np.ones(3), x, **p)


def refused_calls(name):
    """(description, callable, arrays that must stay unchanged) for calls that must fail."""
    f, fg, p = getattr(fastact, name), getattr(fastact, f"{name}_grad"), params_for(name)
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    calls = []
    out = np.full((3, 4), 7.0)
    calls.append(("out wrong shape", ValueError, lambda o=np.full(12, 7.0): f(x, **p, out=o), x))
    calls.append(("out wrong dtype", ValueError,
                  lambda o=np.full((3, 4), 7.0, np.float32): f(x, **p, out=o), x))
    ro = np.full((3, 4), 7.0)
    ro.flags.writeable = False
    calls.append(("out read-only", ValueError, lambda: f(x, **p, out=ro), x))
    calls.append(("unknown backend", ValueError, lambda: f(x, **p, out=out, backend="gpu9"), x))
    calls.append(("out is a list", TypeError, lambda: f(x, **p, out=[0.0] * 12), x))
    calls.append(("grad out wrong shape", ValueError,
                  lambda o=np.full((4, 3), 7.0): fg(x, x, **p, out=o), x))
    calls.append(("grad shapes do not broadcast", ValueError,
                  lambda: fg(np.ones(5), x, **p, out=out), x))
    if not weighted(name):
        xr = x.copy()
        xr.flags.writeable = False
        calls.append(("inplace read-only", ValueError, lambda: f(xr, **p, inplace=True), xr))
        calls.append(("inplace and out", ValueError, lambda: f(x, **p, out=out, inplace=True), x))
        calls.append(("inplace on a list", TypeError, lambda: f([1.0, -1.0], inplace=True), x))
        if not ACTIVATIONS[name].keeps_integers:
            xi = np.arange(-3, 3)
            calls.append(("inplace on integers", TypeError, lambda: f(xi, **p, inplace=True), xi))
    else:
        calls.append(("weight wrong length", ValueError, lambda: f(x, [0.1, 0.2], out=out), x))
        calls.append(("weight 2-D", ValueError, lambda: f(x, np.ones((4, 1)), out=out), x))
        calls.append(("1-D x with channel weights", ValueError,
                      lambda: f(x[0], [0.1, 0.2, 0.3, 0.4]), x))
        calls.append(("weight complex", TypeError, lambda: f(x, 1j, out=out), x))
        calls.append(("grad weight wrong length", ValueError,
                      lambda: fg(x, x, [0.1, 0.2], out=out), x))
    for p_ in ACTIVATIONS[name].params:
        if p_.kind == "real":
            calls.append((f"{p_.name} is a string", TypeError,
                          lambda n=p_.name: f(x, **{n: "0.5"}, out=out), x))
        if p_.kind == "choice":
            calls.append((f"{p_.name} unknown", ValueError,
                          lambda n=p_.name: f(x, **{n: "erf"}, out=out), x))
    calls.append(("unexpected keyword", TypeError, lambda: f(x, **p, bogus=1, out=out), x))
    calls.append(("too many positionals", TypeError,
                  lambda: f(x, *([0.5] * (len(ACTIVATIONS[name].params) + 1)), out=out), x))
    return calls, out, ro


@pytest.mark.parametrize("name", NAMES)
def test_refused_calls_change_nothing(name):
    calls, out, ro = refused_calls(name)
    snapshot_out, snapshot_ro = out.copy(), ro.copy()
    for desc, exc, call, arr in calls:
        before = arr.copy()
        with pytest.raises(exc):
            call()
        np.testing.assert_array_equal(arr, before, err_msg=desc)
        np.testing.assert_array_equal(out, snapshot_out, err_msg=desc)
        np.testing.assert_array_equal(ro, snapshot_ro, err_msg=desc)


def test_parameter_checks():
    x = np.ones(3)
    with pytest.raises(ValueError, match="alpha cannot be 0"):
        fastact.celu(x, 0.0)
    with pytest.raises(ValueError, match="min_val"):
        fastact.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="beta cannot be 0"):
        fastact.softplus(x, beta=0)
    with pytest.raises(TypeError, match="multiple values"):
        fastact.leaky_relu(x, 0.1, negative_slope=0.2)
    with pytest.raises(TypeError, match="missing required argument"):
        fastact.prelu(x)
    with pytest.raises(TypeError, match="real number"):
        fastact.elu(x, True)
    with pytest.raises(TypeError):
        fastact.relu(x, 0.5)  # relu has no parameters
    assert fastact.leaky_relu(-1.0, np.float32(0.5)) == -0.5
    assert fastact.elu(-1.0, np.array(2.0)) == fastact.elu(-1.0, 2.0)


def test_signatures_follow_design():
    sig = inspect.signature(fastact.softplus)
    assert list(sig.parameters) == ["x", "beta", "threshold", "out", "inplace", "backend",
                                    "bias", "stream"]
    assert sig.parameters["beta"].default == 1.0 and sig.parameters["threshold"].default == 20.0
    assert sig.parameters["out"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "inplace" not in inspect.signature(fastact.prelu).parameters
    gsig = inspect.signature(fastact.gelu_grad)
    assert list(gsig.parameters) == ["grad_output", "x", "approximate", "result", "out",
                                     "inplace", "backend", "bias", "stream"]
    assert gsig.parameters["x"].default is None  # x or result= (tests/test_result_grad.py)
    assert inspect.signature(fastact.hardtanh).parameters["min_val"].default == -1.0
    with pytest.raises(TypeError):
        fastact.softplus(np.ones(2), 1.0, 20.0, None)  # out is keyword-only


def test_swish_beta_one_is_silu():
    x = np.random.default_rng(1).standard_normal(10_000).astype(np.float32) * 50
    np.testing.assert_array_equal(fastact.swish(x, 1.0), fastact.silu(x))
    np.testing.assert_array_equal(fastact.swish_grad(x, x, 1.0), fastact.silu_grad(x, x))


def test_prelu_channels_and_weight_grad():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 5))
    w = np.array([0.1, -0.2, 0.3])
    want = np.where(x > 0, x, x * w[None, :, None])
    np.testing.assert_array_equal(fastact.prelu(x, w), want)
    g = rng.standard_normal(x.shape)
    gi, gw = fastact.prelu_grad(g, x, w)
    np.testing.assert_allclose(gi, np.where(x > 0, g, g * w[None, :, None]), rtol=1e-15)
    assert gw.shape == (3,)
    np.testing.assert_allclose(gw, np.where(x > 0, 0.0, g * x).sum(axis=(0, 2)), rtol=1e-12)
    gi, gw = fastact.prelu_grad(g, x, 0.25)  # scalar weight -> scalar grad_weight
    assert np.ndim(gw) == 0
    np.testing.assert_allclose(gw, np.where(x > 0, 0.0, g * x).sum(), rtol=1e-12)
    gi, gw = fastact.prelu_grad(g, x, [0.25])  # length-1 weight -> shape (1,)
    assert gw.shape == (1,)
    assert fastact.prelu(np.array([-2.0, 2.0]), [0.5]).tolist() == [-1.0, 2.0]
    x32 = x.astype(np.float32)
    gi, gw = fastact.prelu_grad(g.astype(np.float32), x32, w)
    assert gi.dtype == gw.dtype == np.float32
    # contributions of -inf and inf (and sums past float32's range): NaN and inf, as torch's, and
    # no warning
    x = np.array([-np.inf, -np.inf, -3e38, -3e38], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for weight in (0.25, np.float32([0.25])):
            assert np.isnan(fastact.prelu_grad(np.float32([1, -1, 1, 1]), x, weight)[1]).all()
            big = np.full(4, -3e38, np.float32)  # finite contributions whose sum overflows
            assert np.isinf(fastact.prelu_grad(np.ones(4, np.float32), big, weight)[1]).all()


def test_gelu_approximate():
    x = np.linspace(-3, 3, 7)
    want = expected("gelu", x, {"approximate": "tanh"})
    np.testing.assert_allclose(fastact.gelu(x, "tanh"), want, rtol=1e-15)
    assert not np.array_equal(fastact.gelu(x, approximate="tanh"), fastact.gelu(x))
    with pytest.raises(ValueError, match="'none', 'tanh'"):
        fastact.gelu(x, approximate="sigmoid")


# -- backends, overrides, introspection --------------------------------------------------------


def test_backend_selection_and_overrides(monkeypatch):
    x = np.array([-1.0, 1.0])
    assert fastact.BACKENDS == ("auto", "cpu", "parallel", "cuda")
    for b in ("auto", "cpu", "parallel"):  # cuda: tests/test_cuda_absent.py, tests/cuda/
        np.testing.assert_array_equal(fastact.relu(x, backend=b), [0.0, 1.0])
    with pytest.raises(ValueError, match="valid backends: auto, cpu, parallel, cuda"):
        fastact.relu(x, backend="parallel9")
    with fastact.use_backend("cpu"):
        assert "requested by use_backend()" in fastact.explain(x, "relu")
        assert "requested by backend=" in fastact.explain(x, "relu", backend="cpu")
        assert "2 elements < piecewise-linear" in fastact.explain(x, "relu", backend="auto")
    with pytest.raises(ValueError):
        with fastact.use_backend("nope"):
            pass
    monkeypatch.setenv("FASTACT_BACKEND", "cpu")
    assert "FASTACT_BACKEND" in fastact.explain(x, "gelu")
    monkeypatch.setenv("FASTACT_BACKEND", "bogus")
    with pytest.raises(ValueError, match="FASTACT_BACKEND"):
        fastact.relu(x)
    with fastact.use_backend("auto"):  # an explicit override wins over the environment
        np.testing.assert_array_equal(fastact.relu(x), [0.0, 1.0])


def test_explain_info_warmup():
    line = fastact.explain(np.zeros((10, 10), np.float32), "sigmoid")
    assert line.startswith("sigmoid on float32[10,10]") and "backend cpu" in line
    with pytest.raises(ValueError, match="unknown activation"):
        fastact.explain(np.zeros(3), "relu7")
    info = fastact.info()
    for key in ("numba", "numpy", "logical_cores", "affinity", "memory_total", "caches",
                "threading_layer", "backends", "cuda", "thresholds", "parallel_threads"):
        assert key in info
    assert info["activations"] == list(fastact.ACTIVATIONS)
    seen = []
    assert fastact.warmup(progress=lambda i, n, name: seen.append(name)) == len(seen)
    assert {"relu", "relu_grad", "gelu_tanh_grad", "prelu_weight_grad"} <= set(seen)


def test_registry_is_read_only_and_complete():
    with pytest.raises(TypeError):
        fastact.ACTIVATIONS["relu"] = None
    for name in NAMES:
        assert callable(getattr(fastact, name)) and callable(getattr(fastact, f"{name}_grad"))


def test_ufuncs_module():
    assert isinstance(ufuncs.relu, np.ufunc)
    assert ufuncs.relu.types[:2] == ["ff", "dd"] or {"f->f", "d->d"} <= set(ufuncs.relu.types)
    x = np.array([[-1.0], [2.0]])
    np.testing.assert_array_equal(ufuncs.leaky_relu(x, np.array([0.5, 0.25])),
                                  [[-0.5, -0.25], [2.0, 2.0]])
    o = np.empty(2, np.float32)
    assert ufuncs.gelu_tanh(np.float32([0, 1]), out=o) is o
    assert "gelu_tanh_grad" in dir(ufuncs)
    with pytest.raises(AttributeError):
        ufuncs.nope  # noqa: B018


def test_threads_share_the_kernels():
    x = np.random.default_rng(2).standard_normal(50_000).astype(np.float32)
    want = {n: getattr(fastact, n)(x, **params_for(n)) for n in ("relu", "gelu", "mish", "prelu")}
    errors = []

    def work(i):
        try:
            for n, w in want.items():
                for _ in range(5):
                    np.testing.assert_array_equal(getattr(fastact, n)(x, **params_for(n)), w)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_memory_guard(monkeypatch):
    from fastact import hardware

    class VM:
        available = 1 << 20

    monkeypatch.setattr(hardware.psutil, "virtual_memory", lambda: VM)
    x = np.broadcast_to(np.float64(1.0), (1 << 24,))  # 128 MiB result, no memory of its own
    with pytest.raises(MemoryError, match="inplace=True or out="):
        fastact.gelu(x)
    out = np.empty(x.shape)
    assert fastact.relu(x, out=out) is out  # out= needs no new memory


def test_cli_help_and_info():
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "fastact.cli", "--help"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and "info" in r.stdout
    r = subprocess.run([sys.executable, "-m", "fastact.cli", "info"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "numba" in r.stdout and "affinity" in r.stdout
    r = subprocess.run([sys.executable, "-m", "fastact.cli", "info", "--json"],
                       capture_output=True, text=True, env=env)
    import json

    assert json.loads(r.stdout)["backends"] == ["auto", "cpu", "parallel", "cuda"]
    r = subprocess.run([sys.executable, "-m", "fastact.cli", "frobnicate"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_non_native_byte_order_is_computed_in_native_order():
    """As NumPy's ufuncs: a big-endian input gives a native result of the same kind."""
    x = np.linspace(-3, 3, 50).astype(">f4")
    y = fastact.gelu(x)
    assert y.dtype == np.dtype(np.float32) and y.dtype.isnative
    np.testing.assert_array_equal(y, fastact.gelu(x.astype(np.float32)))
    np.testing.assert_array_equal(fastact.relu_grad(x, x), fastact.relu_grad(*[x.astype("f4")] * 2))
    assert fastact.relu(np.arange(-2, 2, dtype=">i8")).dtype == np.dtype(np.int64)
    with pytest.raises(TypeError, match="in place"):
        fastact.relu(x, inplace=True)  # the native result cannot go into a big-endian array


@pytest.mark.parametrize("name", NAMES)
def test_out_with_negative_strides_writes_only_its_elements(name):
    """out= and inplace=True through reversed views (Numba's ufunc loops mis-write through an
    output with a negative stride; fastact reverses those axes first)."""
    f, fg, p = getattr(fastact, name), getattr(fastact, f"{name}_grad"), params_for(name)
    x = np.linspace(-4, 4, 8 * 6).reshape(8, 6)
    for sl in (np.s_[::-1], np.s_[::-2, ::-1], np.s_[::2, ::-2], np.s_[::-1, ::-1]):
        buf = np.full((8, 6), 9.0)
        want = buf.copy()
        want[sl] = f(x[sl].copy(), **p)
        assert f(x[sl], **p, out=buf[sl]) is not None
        np.testing.assert_array_equal(buf, want, err_msg=str(sl))
        gbuf = np.full((8, 6), 9.0)
        gwant = gbuf.copy()
        gwant[sl] = grad_input(ACTIVATIONS[name], fg(np.ones((8, 6))[sl].copy(), x[sl].copy(), **p))
        fg(np.ones((8, 6))[sl], x[sl], **p, out=gbuf[sl])
        np.testing.assert_array_equal(gbuf, gwant, err_msg=str(sl))
        if not weighted(name):
            y = x.copy()
            want_y = x.copy()
            want_y[sl] = f(x[sl].copy(), **p)
            assert f(y[sl], **p, inplace=True).base is not None
            np.testing.assert_array_equal(y, want_y, err_msg=str(sl))
