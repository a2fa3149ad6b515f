"""The cuda backend where no GPU is usable (CI, most laptops): clear errors, never a failing auto.

The backend itself is tested in tests/cuda/ (on Numba's CUDA simulator, or a real GPU).
"""

import json
import subprocess
import sys

import numpy as np
import pytest

import fastact
from fastact import dispatch
from fastact.backends import cuda

pytestmark = pytest.mark.skipif(cuda.usable()[0], reason="a GPU (or the simulator) is usable here")


class DeviceDouble:
    """Looks like a CUDA device array (the interface's attribute) without any GPU behind it."""

    def __init__(self, arr):
        self.arr = arr
        self.__cuda_array_interface__ = {"shape": arr.shape, "typestr": arr.dtype.str,
                                         "data": (arr.ctypes.data, False), "version": 3}


def test_backend_cuda_names_what_is_missing(monkeypatch):
    x = np.linspace(-2, 2, 9, dtype=np.float32)
    x0 = x.copy()
    why = cuda.usable()[1]
    assert why and ("driver" in why or "numba" in why or "device" in why)
    for call in (lambda: fastact.relu(x, backend="cuda"),
                 lambda: fastact.gelu_grad(x, x, backend="cuda"),
                 lambda: fastact.relu(x, inplace=True, backend="cuda"),
                 lambda: fastact.relu(DeviceDouble(x), inplace=True)):
        with pytest.raises(cuda.CudaUnavailable, match="cuda backend is not usable") as e:
            call()
        assert why in str(e.value)
        np.testing.assert_array_equal(x, x0)  # refused before any write
    assert isinstance(cuda.CudaUnavailable("x"), RuntimeError)
    monkeypatch.setenv("FASTACT_BACKEND", "cuda")
    with pytest.raises(cuda.CudaUnavailable):
        fastact.sigmoid(x)
    assert "refused" in fastact.explain(x, "sigmoid")
    assert "refused" in fastact.explain(DeviceDouble(x), "sigmoid")


def test_auto_never_needs_a_gpu(monkeypatch):
    """A profile with host-streaming thresholds (tuned on a GPU machine) still runs on the CPU
    here: "auto" takes cuda only where it is usable."""
    table = {k: dict(v) for k, v in dispatch.DEFAULT_THRESHOLDS.items()}
    table["cuda"] = {fam: {"float32": 1, "float64": 1} for fam in dispatch.DEFAULT_THRESHOLDS}
    x = np.linspace(-3, 3, 1000, dtype=np.float32)
    with dispatch.use_thresholds(table, "a GPU machine's profile"):
        np.testing.assert_array_equal(fastact.gelu(x, backend="auto"),
                                      fastact.gelu(x, backend="cpu"))
        assert "backend cpu" in fastact.explain(x, "gelu")
        assert fastact.info()["cuda"].startswith("not usable")


def test_import_does_not_load_numba_cuda():
    code = ("import sys, numpy as np, fastact; fastact.relu(np.ones(3)); "
            "fastact.explain(np.ones(3))"
            "; print(__import__('json').dumps([m for m in sys.modules if m.startswith("
            "('numba.cuda', 'numba_cuda.numba.cuda'))]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
