"""bfloat16 (ml_dtypes): every activation of every kind on bfloat16 arrays.

The contract: a bfloat16 result is fastact's float32 result on the widened inputs, rounded once
to nearest even (NaN stays NaN, overflow gives inf). Checked bit for bit over all 65536 bfloat16
inputs for every element-wise kernel (forward, gradient, gradient from the output), then out=,
inplace=, layouts and the parallel backend, NumPy's promotion with ml_dtypes, refused calls,
dask, fastact.torch and a process without ml_dtypes. The gated and axis-wise kinds are
tests/test_bf16_kinds.py's, the CUDA backend's host paths tests/cuda/test_bf16_cuda.py's.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import fastact

from .reference import cases, first_cases, grad_input

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)

#: every bfloat16 value, by its 16-bit word
EVERY = np.arange(1 << 16, dtype=np.uint16).view(BF16)
RNG = np.random.default_rng(0)
#: a grad_output for the gradients: random normal values and the special ones
G = RNG.standard_normal(EVERY.size).astype(BF16)
G[:6] = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0], np.float32).astype(BF16)

KERNELS = first_cases()


def rounded(a):
    """float32 ``a`` rounded once to bfloat16 (ml_dtypes' cast: to nearest even)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ml_dtypes' cast of NaN warns
        return np.asarray(a, np.float32).astype(BF16)


def f32(a):
    return np.asarray(a).astype(np.float32)


def assert_bits(got, want):
    """The same bfloat16 bits, any NaN for a NaN."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == BF16 and want.dtype == BF16 and got.shape == want.shape
    gw, ww = got.view(np.uint16), want.view(np.uint16)
    gn, wn = np.isnan(got.astype(np.float32)), np.isnan(want.astype(np.float32))
    np.testing.assert_array_equal(gn, wn)
    bad = np.flatnonzero((gw != ww) & ~wn)
    assert not bad.size, (f"{bad.size} elements differ, first at input word "
                          f"{bad[0]:#06x}: {got.reshape(-1)[bad[0]]} != {want.reshape(-1)[bad[0]]}")


def test_rounding_is_ml_dtypes_cast_on_every_float32_pattern_class():
    # relu on float32 values is the identity: the bfloat16 of relu(x) for x in bfloat16 is x;
    # the rounding itself is checked through an exact float32 result, f(x) = x for x >= 0
    bits = RNG.integers(0, 1 << 31, 200_000, dtype=np.uint32)
    x32 = np.concatenate([bits.view(np.float32), np.array(
        [0.0, np.inf, np.nan, 3.4028235e38, 1e-45, 1.1754942e-38, 1.0000001], np.float32)])
    x32 = np.where(np.isnan(x32), np.float32(np.nan), x32)
    # hardtanh(x, min, max) with a huge range is the identity on these values: its float32
    # result rounded to bfloat16 must be ml_dtypes' cast of x itself
    got = fastact.hardtanh(x32.astype(BF16), -np.inf, np.inf)
    assert_bits(got, rounded(x32).astype(np.float32).astype(BF16))
    assert_bits(fastact.leaky_relu(x32.astype(BF16), 1.0), x32.astype(BF16))


ELEMENTWISE_IDS = list(KERNELS)


@pytest.mark.parametrize("kernel", ELEMENTWISE_IDS)
def test_every_input_elementwise(kernel):
    """Every bfloat16 input, forward and gradients: the float32 result rounded once. On the
    serial loops (65536 inputs would take the parallel ones of the transcendental family, a
    second compile per loop: test_parallel checks them bit-equal to the serial ones, and
    test_backends_in_place_out_and_layouts runs bfloat16 on them)."""
    name, params = KERNELS[kernel]
    spec = fastact.ACTIVATIONS[name]
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    params = {**params, "backend": "cpu"}
    if spec.random_param is not None:
        params = {**params, spec.random_param.name: False}
    x, xf = EVERY, f32(EVERY)
    assert_bits(f(x, **params), rounded(f(xf, **params)))
    assert_bits(grad_input(spec, fg(G, x, **params)),
                rounded(grad_input(spec, fg(f32(G), xf, **params))))
    if spec.result_grad is not None and not spec.has_weight:
        y = f(x, **params)
        assert_bits(fg(G, result=y, **params), rounded(fg(f32(G), result=f32(y), **params)))


@pytest.mark.parametrize("kernel", ["relu", "gelu", "elu"])
@pytest.mark.parametrize("backend", ["cpu", "parallel"])
def test_backends_in_place_out_and_layouts(kernel, backend):
    name, params = KERNELS[kernel]
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = EVERY.reshape(256, 256)
    want = rounded(f(f32(x), **params))
    assert_bits(f(x, backend=backend, **params), want)
    out = np.empty_like(x)
    assert f(x, out=out, backend=backend, **params) is out
    assert_bits(out, want)
    y = x.copy()
    assert f(y, inplace=True, backend=backend, **params) is y
    assert_bits(y, want)
    assert_bits(f(np.asfortranarray(x), backend=backend, **params), want)
    assert_bits(f(x[::-2, 1::3], backend=backend, **params), want[::-2, 1::3])
    g = G.reshape(256, 256)
    wg = rounded(fg(f32(g), f32(x), **params))
    assert_bits(fg(g, x, backend=backend, **params), wg)
    h = g.copy()
    assert fg(h, x, inplace=True, backend=backend, **params) is h
    assert_bits(h, wg)
    assert_bits(fg(g[:1], x, backend=backend, **params),
                rounded(fg(f32(g[:1]), f32(x), **params)))


def test_promotion_follows_ml_dtypes():
    x = EVERY[:64].reshape(8, 8)
    assert fastact.gelu(x).dtype == BF16
    assert fastact.gelu_grad(x, x.astype(np.float32)).dtype == np.float32
    assert fastact.gelu_grad(x, x.astype(np.float16)).dtype == np.result_type(BF16, np.float16)
    assert fastact.gelu_grad(x, np.ones((8, 8), np.int32)).dtype == np.float64
    assert fastact.swiglu(x, x.astype(np.float32)).dtype == np.float32
    assert fastact.softmax_grad(x.astype(np.float32), result=x).dtype == np.float32
    assert fastact.relu(x[0, 0]).dtype == BF16  # a 0-d input gives a scalar
    assert fastact.derivative("gelu", x).dtype == BF16
    assert fastact.logsumexp(x).dtype == BF16
    # a bfloat16 scalar parameter is a real number like any other
    assert_bits(fastact.elu(x, BF16.type(0.5)), fastact.elu(x, 0.5))
    assert_bits(fastact.elu(x, np.array(0.5, BF16)), fastact.elu(x, 0.5))


@pytest.mark.parametrize("call", [
    lambda x: fastact.gelu(x, out=np.empty(x.shape, np.float32)),
    lambda x: fastact.gelu(x.astype(np.float32), out=np.empty_like(x)),
    lambda x: fastact.gelu(x.astype(np.float32).copy(), inplace=True, out=x),
    lambda x: fastact.swiglu(x, out=np.empty((4, 4), BF16)),
    lambda x: fastact.softmax(x, out=np.empty(x.shape, np.float32)),
    lambda x: fastact.gelu_grad(x, x.astype(np.float32), inplace=True),
])
def test_refused_calls_change_nothing(call):
    x = EVERY[1000:1064].reshape(8, 8).copy()
    before = x.copy()
    with pytest.raises((TypeError, ValueError)):
        call(x)
    np.testing.assert_array_equal(x.view(np.uint16), before.view(np.uint16))


def test_dask_blocks_keep_bfloat16():
    da = pytest.importorskip("dask.array")
    x = EVERY[RNG.permutation(EVERY.size)][:4096].reshape(64, 64)
    x = rounded(np.nan_to_num(f32(x), nan=0, posinf=1, neginf=-1).clip(-50, 50))
    d = da.from_array(x, chunks=(16, 32))
    for fn in (fastact.gelu, fastact.softmax, fastact.swiglu):
        lazy = fn(d)
        assert lazy.dtype == BF16
        assert_bits(lazy.compute(), fn(x))


def test_torch_bfloat16_tensors():
    torch = pytest.importorskip("torch")
    import fastact.torch as ft

    torch.manual_seed(0)
    x = torch.randn(16, 32, dtype=torch.bfloat16, requires_grad=True)
    for name in ("gelu", "swiglu", "softmax"):
        y = getattr(ft, name)(x)
        assert y.dtype == torch.bfloat16
        (y.float() * torch.linspace(-1, 1, y.shape[-1])).sum().backward()
        assert x.grad.dtype == torch.bfloat16
        xa = x.detach().view(torch.int16).numpy().view(BF16)
        assert_bits(y.detach().view(torch.int16).numpy().view(BF16), getattr(fastact, name)(xa))
        x.grad = None
    # prelu's learnable weight in bfloat16: its gradient comes back as a bfloat16 tensor
    layer = ft.Activation("prelu", num_parameters=32).to(torch.bfloat16)
    layer(x.detach().requires_grad_()).float().sum().backward()
    assert layer.weight.grad.dtype == torch.bfloat16
    # logsumexp's backward from a bfloat16 output would be coarse (exp(x - lse) with lse rounded
    # near 60): it is computed from x, so each row's gradient sums to 1
    t = (torch.randn(8, 64) + 60).to(torch.bfloat16).requires_grad_()
    ft.logsumexp(t, -1).float().sum().backward()
    np.testing.assert_allclose(t.grad.float().sum(-1).numpy(), 1, rtol=2 ** -6)
    # torch's own bfloat16 gelu rounds its float32 result once too: within one bfloat16 ULP
    want = torch.nn.functional.gelu(x.detach()).float().numpy()
    got = ft.gelu(x.detach()).float().numpy()
    np.testing.assert_allclose(got, want, rtol=2 ** -7, atol=1e-38)


def _python(code):
    """The standard output of ``code`` run by a new Python process (which must succeed)."""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_without_ml_dtypes_nothing_changes():
    assert _python("import sys; sys.modules['ml_dtypes'] = None  # import ml_dtypes fails\n"
                   "import numpy as np, fastact\n"
                   "x = np.linspace(-3, 3, 1000)\n"
                   "assert fastact.gelu(x.astype(np.float16)).dtype == np.float16\n"
                   "assert fastact.softmax(x.astype(np.float32)).dtype == np.float32\n"
                   "assert fastact.swiglu(x.reshape(10, 100)).dtype == np.float64\n"
                   "print('ok')\n") == "ok"


def test_fastact_never_imports_ml_dtypes_itself():
    assert _python("import sys, numpy as np, fastact\n"
                   "fastact.gelu(np.ones(3, np.float32)); fastact.softmax(np.ones((2, 3)))\n"
                   "print('ml_dtypes' in sys.modules)\n") == "False"


def test_every_kernel_is_covered():
    # every element-wise kernel is in KERNELS (tests/reference.py's first case of each)
    assert {k for _, k, _ in cases()} == set(KERNELS)
