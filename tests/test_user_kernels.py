"""fastact.kernels as a public Numba API: a user's own ``@njit`` and ``@vectorize`` functions call
the scalar kernels, get fastact's results bit for bit (compiled with ``fastmath=K.FASTMATH`` and
``error_model="numpy"``, as fastact's loops are) and, in a loop, SIMD code; the README's example
runs as written; the dtype-split kernels (``kernel.by_dtype``) keep Numba's on-disk cache working
in a new process. The ``@cuda.jit`` side is tests/cuda/test_user_kernels_cuda.py."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from numba import njit, vectorize
from numba.core.errors import TypingError

import fastact
from fastact import kernels as K

from .test_simd import HOST_AVX2, LIBM, _vector_bytes

ROOT = Path(__file__).resolve().parents[1]
DTYPES = [np.float32, np.float64]


def values(dtype, n=20_000):
    """Specials (+-0, +-inf, NaN, subnormals, the largest finite), then a spread over the binades
    where the activations bend and a few beyond."""
    fi = np.finfo(dtype)
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, fi.max, -fi.max, fi.tiny, -fi.tiny,
                fi.smallest_subnormal, -fi.smallest_subnormal, 1.0, -1.0, 10.0, -10.0, 40.0]
    rng = np.random.default_rng(3)
    body = rng.standard_normal(n) * np.exp2(rng.integers(-20, 8, n))
    return np.concatenate([np.array(specials, dtype), body.astype(dtype)])


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@njit(fastmath=K.FASTMATH, error_model="numpy")
def bias_gelu_1d(x, b, out):
    for i in range(x.size):
        out[i] = K.gelu(x[i] + b[i])


@njit(fastmath=K.FASTMATH, error_model="numpy")
def bias_gelu_grad_1d(g, x, b, out):
    for i in range(x.size):
        out[i] = K.gelu_grad(g[i], x[i] + b[i])


@njit(fastmath=K.FASTMATH, error_model="numpy")
def softplus_1d(x, beta, threshold, out):
    for i in range(x.size):
        out[i] = K.softplus(x[i], beta, threshold)


@pytest.mark.parametrize("dtype", DTYPES)
def test_user_njit_bias_gelu_is_fastacts_gelu(dtype):
    x = values(dtype)
    b = np.roll(values(dtype), 7)
    out = np.empty_like(x)
    bias_gelu_1d(x, b, out)
    with np.errstate(all="ignore"):
        s = x + b
    assert same_bits(out, fastact.gelu(s, backend="cpu"))
    g = np.roll(x, 3)
    bias_gelu_grad_1d(g, x, b, out)
    assert same_bits(out, fastact.gelu_grad(g, s, backend="cpu"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_user_njit_kernel_with_parameters(dtype):
    x = values(dtype)
    out = np.empty_like(x)
    softplus_1d(x, dtype(0.7), dtype(15.0), out)
    assert same_bits(out, fastact.softplus(x, 0.7, 15.0, backend="cpu"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_user_njit_loop_is_simd(dtype):
    """The user's loop inlines the kernel and is vectorized at full width, with no libm call
    (the checks of tests/test_simd.py, on a fresh compile of the user's function)."""
    loop = njit(fastmath=K.FASTMATH, error_model="numpy")(bias_gelu_1d.py_func)
    a = np.ones(64, dtype)
    loop(a, a, np.empty_like(a))
    ir = next(iter(loop.inspect_llvm().values()))
    assert not LIBM.findall(ir)
    # a call into a kernel would name it by its mangled module path (_ZN7fastact7kernels5gated...)
    assert not re.search(r"call [^\n]*@_ZN[^\n(]*[a-z]7kernels\d", ir), "the kernel is not inlined"
    need = 32 if HOST_AVX2 else 16
    assert _vector_bytes(ir) >= need


@vectorize(["float32(float32)", "float64(float64)"], fastmath=K.FASTMATH)
def user_gelu(x):
    return K.gelu(x)


@vectorize(["float32(float32, float32)", "float64(float64, float64)"], fastmath=K.FASTMATH)
def user_swish_grad(g, x):
    return K.swish_grad(g, x, type(x)(1.5))


@pytest.mark.parametrize("dtype", DTYPES)
def test_user_vectorize(dtype):
    x = values(dtype)
    y = user_gelu(x)
    assert y.dtype == dtype and same_bits(y, fastact.gelu(x, backend="cpu"))
    g = np.roll(x, 5)
    assert same_bits(user_swish_grad(g, x), fastact.swish_grad(g, x, 1.5, backend="cpu"))


def test_split_kernels_refuse_other_types():
    """A kernel with a float32 form of its own types only for float32 and float64."""
    @njit
    def call(v):
        return K.gelu(v)

    with pytest.raises(TypingError):
        call(3)
    assert call(np.float32(1.0)) == fastact.gelu(np.float32(1.0))


def test_split_kernel_is_a_kernel():
    """``kernel.by_dtype``'s result: named and documented as the decorated float64 form, with the
    loops' ``K.<name>`` reference valid (tools/gen_loops.py names ``py_func.__name__``)."""
    for name in ("gelu", "gelu_grad", "softplus", "swish_grad", "logsigmoid", "tanh_grad"):
        kern = getattr(K, name)
        assert kern.py_func.__name__ == name and getattr(K, kern.py_func.__name__) is kern
        assert kern.py_func.__code__.co_filename == kern.float64.__code__.co_filename
        assert kern.__doc__ == kern.float64.__doc__
    assert set(K.KERNELS) <= set(K.__all__)


def readme_example():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Your own kernels: `fastact.kernels`", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs_and_matches():
    env = {"__name__": "readme_example"}
    exec(compile(readme_example(), "README.md", "exec"), env)  # noqa: S102 - our own README
    x, b, out = env["x"], env["b"], env["out"]
    assert same_bits(out, fastact.gelu(x + b, backend="cpu"))


CACHE_CHILD = textwrap.dedent("""
    import numpy as np
    import fastact
    from fastact.backends import _cpu_loops as L, cpu
    x = np.linspace(-5, 5, 1000, dtype=np.float32)
    fastact.gelu(x, out=np.empty_like(x), backend="cpu")  # the generated loop
    cache = cpu._dufunc("softplus")._dispatcher.cache  # the ufunc's (it keeps no stats)
    loaded, load = [], cache.load_overload
    cache.load_overload = lambda *a, **k: loaded.append(load(*a, **k)) or loaded[-1]
    cpu._ensure("softplus", np.dtype(np.float32))(x[::2], np.float32(1), np.float32(20))
    print(sum(L.gelu.stats.cache_hits.values()), sum(r is not None for r in loaded))
""")


def test_split_kernels_keep_the_disk_cache(tmp_path):
    """A second process loads the generated loop and the ufunc of split kernels (gelu,
    softplus) from Numba's cache instead of compiling them again."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    env.pop("NUMBA_DISABLE_CACHING", None)
    runs = [subprocess.run([sys.executable, "-c", CACHE_CHILD], env=env, capture_output=True,
                           text=True, cwd=ROOT, check=True).stdout.split() for _ in range(2)]
    assert runs[0] == ["0", "0"], runs
    assert int(runs[1][0]) >= 1 and int(runs[1][1]) >= 1, runs
