"""The bit-level intrinsics of ``kernels._bits`` against NumPy: ``scale_pow2`` and
``scale_pow2_neg`` are ``ldexp`` correctly rounded, into the subnormals too, on both of
``scale_pow2_neg``'s code paths (AVX-512's ``vscalef`` through ``llvm.ldexp``, and the shifts
and multiplications used elsewhere)."""

import llvmlite.binding as llvm
import numpy as np
import pytest
from numba import njit

import kernels._bits as bits

AVX512 = bool(llvm.get_host_cpu_features().get("avx512f", False))
SHIFTER = {np.float32: bits.SHIFTER32, np.float64: bits.SHIFTER64}
#: k ranges of the two functions (scale_pow2_neg: for p in [0.5, 2))
K_RANGE = {("scale_pow2", np.float32): (-252, 253), ("scale_pow2", np.float64): (-2044, 2045),
           ("scale_pow2_neg", np.float32): (-247, 6), ("scale_pow2_neg", np.float64): (-2039, 6)}


def _loop(name):
    fn = getattr(bits, name)

    @njit(error_model="numpy")  # not cached: compiled under the test's choice of code path
    def loop(p, kf, out):
        for i in range(p.size):
            out[i] = fn(p[i], kf[i])

    return loop


def _inputs(dtype, lo, hi, n=200_000):
    rng = np.random.default_rng(7)
    p = rng.uniform(0.5, 2.0, n).astype(dtype)
    p[:4] = [0.5, 1.0, np.nextafter(dtype(2), dtype(0)), np.nextafter(dtype(0.5), dtype(1))]
    k = rng.integers(lo, hi, n)
    k[4:8] = [lo, hi - 1, 0, -1]
    return p, k


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,scalef", [("scale_pow2", False), ("scale_pow2_neg", False),
                                         ("scale_pow2_neg", True)])
def test_scale_pow2_is_ldexp(name, scalef, dtype, monkeypatch):
    if scalef and not AVX512:
        pytest.skip("llvm.ldexp is a libm call without AVX-512; the kernels never use it there")
    monkeypatch.setattr(bits, "_has_scalef", lambda context: scalef)
    lo, hi = K_RANGE[name, dtype]
    p, k = _inputs(dtype, lo, hi)
    kf = k.astype(dtype) + dtype(SHIFTER[dtype])
    out = np.empty_like(p)
    _loop(name)(p, kf, out)
    with np.errstate(over="ignore"):  # scale_pow2 at k up to 252: inf, as ldexp
        expected = np.ldexp(p, k.astype(np.int32))
    bad = out.view(np.uint8).reshape(p.size, -1) != expected.view(np.uint8).reshape(p.size, -1)
    rows = np.flatnonzero(bad.any(axis=1))
    assert rows.size == 0, f"{name}: p={p[rows[:3]]}, k={k[rows[:3]]}: {out[rows[:3]]} != " \
                           f"{expected[rows[:3]]}"
    assert np.count_nonzero(expected == 0) and np.count_nonzero(
        (expected != 0) & (np.abs(expected) < np.finfo(dtype).tiny)), "no subnormal results tested"


def test_scalef_path_is_used_on_avx512():
    """On an AVX-512 host the kernels' scale_pow2_neg is one vscalef."""
    if not AVX512:
        pytest.skip("no AVX-512 here")
    loop = _loop("scale_pow2_neg")
    p = np.ones(64, np.float32)
    loop(p, p + np.float32(bits.SHIFTER32), np.empty_like(p))
    asm = loop.inspect_asm(loop.signatures[0])
    assert "vscalefps" in asm
