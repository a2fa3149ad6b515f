"""``fastact.chunked`` against the same NumPy formula on the whole array.

The formula is the tanh form of GELU written as NumPy ufuncs (seven passes over memory with
full-size temporaries when applied to the whole array); ``chunked`` applies it to L2-sized blocks
on every core. Both results are checked to be identical before timing.
"""

import numpy as np
import pytest

import fastact

from .conftest import DATA, MODE, measure, skip_if_no_memory

SIZES = [10**6, 10**7] if MODE == "quick" else [10**5, 10**6, 10**7, 10**8]


def formula(v):
    """GELU, tanh form, as a user would write it in NumPy."""
    return 0.5 * v * (1.0 + np.tanh(0.7978845608 * (v + 0.044715 * v * v * v)))


@pytest.mark.parametrize("impl", ["numpy-whole-array", "fastact.chunked"])
@pytest.mark.parametrize("n", SIZES, ids=[f"N1e{len(str(n)) - 1}" for n in SIZES])
def test_chunked_formula(benchmark, n, impl):
    skip_if_no_memory(n, 4, 8)
    d = DATA.get(n, "float32")
    x, out = d["x"], d["out"]
    if impl == "fastact.chunked":
        def call():
            fastact.chunked(formula, x, out=out)
    else:
        def call():
            out[...] = formula(x)
    call()
    if n <= 10**7:
        np.testing.assert_array_equal(out, formula(x))
    benchmark.group = f"chunked formula N=1e{len(str(n)) - 1} float32"
    benchmark.name = impl
    benchmark.extra_info.update({"variant": "chunked", "direction": "formula", "n": n,
                                 "dtype": "float32", "style": "out", "impl": impl,
                                 "bytes": 2 * 4 * n})
    measure(benchmark, call)
