"""The streaming ceiling: a plain copy of the same bytes an element-wise activation moves.

An out-of-place activation on N elements reads N and writes N elements, exactly like a copy; its
GB/s divided by the best copy's GB/s at the same N is "% of ceiling" in the report.
"""

import numpy as np
import pytest

from . import peers
from .conftest import DATA, measure, skip_if_no_memory
from .test_activations import SIZES

IMPLS = ["numpy"] + (["torch"] if peers.installed("torch") else [])
CASES = [(n, dt, impl) for n in SIZES for dt in (["float32", "float64"] if n == 10**6 else
                                                  ["float32"]) for impl in IMPLS]


@pytest.mark.parametrize(("n", "dtype", "impl"), CASES,
                         ids=[f"N1e{len(str(n)) - 1}-{dt}-{i}" for n, dt, i in CASES])
def test_copy(benchmark, n, dtype, impl):
    skip_if_no_memory(n, np.dtype(dtype).itemsize, 4)
    d = DATA.get(n, dtype)
    src, dst = d["x"], d["out"]
    if impl == "numpy":
        def call():
            np.copyto(dst, src)
    else:
        import torch

        ts, td = torch.from_numpy(src), torch.from_numpy(dst)

        def call():
            td.copy_(ts)
    call()
    np.testing.assert_array_equal(dst[:1000], src[:1000])
    benchmark.group = f"copy N=1e{len(str(n)) - 1} {dtype}"
    benchmark.name = f"copy:{impl}"
    benchmark.extra_info.update({"variant": "copy", "direction": "copy", "n": n, "dtype": dtype,
                                 "style": "out", "impl": f"copy:{impl}",
                                 "bytes": 2 * n * np.dtype(dtype).itemsize})
    measure(benchmark, call)
