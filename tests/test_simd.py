"""Evidence of SIMD: every generated loop is vectorized, calls no libm, and stores unmasked.

A libm call (exp, tanh, erf, ...) inside the loop stops LLVM's vectorizer (llvmlite has no SVML),
and so does a bare float64 literal in float32 math (it halves the width). For each loop of
fastact/backends/_cpu_loops.py (out-of-place and in place) and each dtype, this reads the
optimized LLVM IR of the loop as this process compiled it (or, where its machine code came from
Numba's disk cache, which keeps no IR, of a fresh compile of its source with the same options):
it must contain vector operations of the full width (``<8 x float>`` or
``<4 x double>`` with AVX2; wider with AVX-512) and no call to a math library function. On x86 the
machine code must also have no masked store: LLVM's x86 back end turns
``store(select(c, v, load p), p)`` into ``vmaskmovps`` (microcoded on AMD, 2-5x slower), which is
what an in-place relu became before ``kernels._bits.freeze``.
"""

import re

import numpy as np
import pytest
from llvmlite import binding as llvm
from numba import njit

from fastact.backends._width import wide_kernels
from fastact.backends.cpu import FASTMATH, KERNELS, n_arrays

LIBM = re.compile(
    r"call [^\n]*@(?:llvm\.)?(exp|expf|exp2|expm1|expm1f|log|logf|log1p|log1pf|tanh|tanhf|erf|"
    r"erff|erfc|erfcf|pow|powf|numba_\w*(?:exp|log|erf|tanh)\w*)(?:\.f32|\.f64)?\("
)
#: a masked store: AVX's vmaskmov, or an AVX-512 vmov into memory under a mask register (a masked
#: vmov between registers is a blend, which AVX-512 code uses for every select)
MASKED_STORE = re.compile(r"\bv(?:p?maskmov\w+)|\bvmov\w+\s+%[xyz]mm\d+, [^\n]*\)\s*\{%k[1-7]\}")
_HOST_FEATURES = llvm.get_host_cpu_features()
HOST_AVX2 = bool(_HOST_FEATURES.get("avx2", False))
HOST_AVX512 = bool(_HOST_FEATURES.get("avx512f", False))
#: (loop, dtype): every loop in float32 and float64; the in-place forms (the same generated body
#: writing its first input) in float32, the width where LLVM emitted masked stores before
#: ``freeze``
CASES = sorted([(k, d) for k in KERNELS for d in ("float32", "float64")]
               + [(f"{k}_inplace", "float32") for k in KERNELS])


def _compiled(name, *args):
    """(the generated loop ``name`` compiled for ``args``, its signature), run once on them: the
    loop itself where this process compiled it, else (the machine code came from Numba's disk
    cache, which keeps no IR to inspect) a fresh compile of the same source with the same
    options. A loop another test file has not compiled yet is compiled once, here, and cached
    for the rest of the suite."""
    from numba import typeof

    from fastact.backends import _cpu_loops

    loop = getattr(_cpu_loops, name)
    loop(*args)
    sig = tuple(typeof(a) for a in args)
    if loop.stats.cache_hits[sig]:
        loop = njit(fastmath=FASTMATH, error_model="numpy")(loop.py_func)
        loop(*args)
    return loop, sig


def _need(kernel):
    """The widest vector, in bytes, kernel ``kernel``'s loops must have on this host."""
    if HOST_AVX512 and kernel in wide_kernels():
        return 64
    return 32 if HOST_AVX2 else 16


def _vector_bytes(ir):
    """The widest vector of floating-point values in the IR, in bytes."""
    widths = [int(n) * (4 if ty == "float" else 8)
              for n, ty in re.findall(r"<(\d+) x (float|double)>", ir)]
    return max(widths, default=0)


@pytest.mark.parametrize("name,dtype", CASES, ids=[f"{n}-{d}" for n, d in CASES])
def test_loop_is_simd_without_libm(name, dtype):
    dtype = np.dtype(dtype).type
    kernel = name.removesuffix("_inplace")
    nin = KERNELS[kernel][1]
    arrays = n_arrays(kernel) + (name == kernel)  # inputs, then out (none in place)
    params = [dtype(0.5)] * (nin - n_arrays(kernel))
    loop, sig = _compiled(name, *[np.ones(64, dtype) for _ in range(arrays)], *params)
    ir = loop.inspect_llvm(sig)
    calls = LIBM.findall(ir)
    assert not calls, f"{name}[{np.dtype(dtype)}] calls libm: {sorted(set(calls))}"
    asm = loop.inspect_asm(sig)
    masked = MASKED_STORE.findall(asm)
    assert not masked, f"{name}[{np.dtype(dtype)}] has masked stores: {sorted(set(masked))}"
    # 256-bit vectors with AVX2 (or wider), 128-bit otherwise (SSE, NEON); a float32 kernel that
    # evaluates in float64 (kernels._jit.wide) shows full-width <4 x double> vectors; with
    # AVX-512, 512-bit ones for the loops that ask for them (fastact.backends._width)
    need = _need(kernel)
    width = _vector_bytes(ir)
    assert width >= need, f"{name}[{np.dtype(dtype)}] is not vectorized (widest: {width} bytes)"


@pytest.mark.parametrize("name,dtype", [("relu", "float32"), ("relu", "float64"),
                                        ("leaky_relu_grad", "float32"), ("threshold", "float32")])
def test_streaming_loops_store_whole_vectors(name, dtype):
    """The streaming-store loops (``<loop>_nt``, fastact.backends._stream) vectorize into
    non-temporal vector stores: a store LLVM could not widen would stay scalar, slower than
    the plain loop. (Not bfloat16 words: LLVM stores those with ordinary stores, and the
    parallel backend does not stream them.)"""
    from fastact.backends import parallel

    if not (parallel.STREAMING_STORES and HOST_AVX2):
        pytest.skip("x86-64 with AVX2 only")
    t = np.dtype(dtype).type
    kernel = KERNELS[name]
    arrays = n_arrays(name)
    compute = np.float32 if t is np.uint16 else t
    buf = np.ones(64 + 32, t)  # out: 64 elements from a 32-byte boundary, as _stream calls it
    start = (-buf.ctypes.data % 32) // buf.itemsize
    loop, sig = _compiled(f"{name}_nt", *[np.ones(64, t) for _ in range(arrays)],
                          buf[start:start + 64], *[compute(0.5)] * (kernel[1] - arrays))
    asm = loop.inspect_asm(sig)
    stores = re.findall(r"\bv?movnt(?:ps|pd|dq)\s+%([xyz])mm", asm)
    assert "y" in stores or "z" in stores, f"{name}_nt[{dtype}]: no vector streaming store"


def test_generated_loops_are_up_to_date():
    """fastact/backends/_cpu_loops.py matches the registry (tools/gen_loops.py --check)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import gen_loops

    assert gen_loops.main(["--check"]) == 0, "run: python tools/gen_loops.py"


def _gated_cases():
    """(chunk function, arguments) of the gated kind's float32 hot loops: each fast form's chunk
    function (``_<kernel>_f32_fast``, out of place) and the plain loop where there is none."""
    from fastact.registry import GATED, of_kind

    out = []
    for spec in of_kind(GATED).values():
        for name, k in spec.ufunc_kernels().items():
            arrays = 2 * k.arrays - 1  # inputs, then outputs (one or two)
            out.append((f"_{name}_f32_fast" if name in spec.fast_kernels else None, name, arrays))
    return out


@pytest.mark.parametrize("fast,name,arrays", _gated_cases(), ids=[c[1] for c in _gated_cases()])
def test_gated_float32_hot_loop_is_simd(fast, name, arrays):
    """The float32 loop a gated call spends its time in is vectorized and calls no libm."""
    x = [np.ones(64, np.float32) for _ in range(arrays)]
    loop, sig = _compiled(name, *x, 1, 64, *([64] * arrays)) if fast is None else _compiled(
        fast, *x)
    ir = loop.inspect_llvm(sig)
    assert not LIBM.findall(ir), f"{name} calls libm"
    width = _vector_bytes(ir)
    assert width >= _need(name), f"{name}'s float32 loop is not SIMD at full width ({width} B)"
