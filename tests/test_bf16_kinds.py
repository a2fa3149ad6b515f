"""bfloat16 (ml_dtypes) for the gated and axis-wise kinds: every input, bit for bit.

The contract and the helpers are tests/test_bf16.py's: a bfloat16 result is fastact's float32
result on the widened inputs rounded once. Every gated kernel (the gate takes every one of the
65536 values) and every axis-wise activation (rows of all the finite values, along either axis
and all of them), forward and gradients, on the serial backend and (for one gated kernel and
every axis-wise one) the parallel backend.
"""

import numpy as np
import pytest

import fastact

from .reference import AXISWISE, GATED

pytest.importorskip("ml_dtypes")

from .test_bf16 import BF16, EVERY, RNG, G, assert_bits, f32, rounded

GATED_CASES = [(n, ({} if k == n else {s.choice.name: k[len(n) + 1:]}))
               for n, s in GATED.items() for k in s.references()]


#: the gated variants each backend runs (the parallel loops are the serial ones in blocks)
GATED_RUNS = [(n, p, "cpu") for n, p in GATED_CASES] + [("swiglu", {}, "parallel")]


@pytest.mark.parametrize("name,params,backend", GATED_RUNS,
                         ids=[f"{b}-{n}-{p.get('approximate', 'default')}"
                              for n, p, b in GATED_RUNS])
def test_every_input_gated(name, params, backend):
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    gate, up = EVERY, EVERY[RNG.permutation(EVERY.size)]
    assert_bits(f(gate, up, backend=backend, **params), rounded(f(f32(gate), f32(up), **params)))
    da, db = fg(G, gate, up, backend=backend, **params)
    ra, rb = fg(f32(G), f32(gate), f32(up), **params)
    assert_bits(da, rounded(ra))
    assert_bits(db, rounded(rb))
    # the split form along either axis, its gradient and in place
    x = np.concatenate([gate.reshape(256, 256), up.reshape(256, 256)], axis=1)
    for axis in (0, 1):
        xf = f32(x)
        assert_bits(f(x, axis=axis, backend=backend, **params),
                    rounded(f(xf, axis=axis, **params)))
        g = f(x, axis=axis, **params)[::-1]
        assert_bits(fg(g, x, axis=axis, backend=backend, **params),
                    rounded(fg(f32(g), xf, axis=axis, **params)))
    y = x.copy()
    f(y, inplace=True, backend=backend, **params)
    assert_bits(y[:, :256], rounded(f(f32(x), **params)))
    # a broadcast up: its gradient is summed in float32, then rounded once
    da, db = fg(G.reshape(256, 256), gate.reshape(256, 256), up[:256], backend=backend, **params)
    ra, rb = fg(f32(G.reshape(256, 256)), f32(gate.reshape(256, 256)), f32(up[:256]), **params)
    assert_bits(da, rounded(ra))
    assert_bits(db, rounded(rb))


@pytest.mark.parametrize("name", list(AXISWISE))
@pytest.mark.parametrize("backend", ["cpu", "parallel"])
def test_every_input_axiswise(name, backend):
    spec = AXISWISE[name]
    f, fg = getattr(fastact, name), getattr(fastact, f"{name}_grad")
    x = EVERY[RNG.permutation(EVERY.size)].reshape(256, 256)
    # the finite values: a row holding NaN or inf is NaN (tests/test_axiswise.py), whatever the
    # dtype; scaled into softmax's range
    finite = np.isfinite(f32(x))
    x = np.where(finite, x, np.zeros((), BF16))
    x = rounded(np.clip(f32(x), -80, 80))
    for axis in (0, 1, None):
        xf = f32(x)
        y = f(x, axis=axis, backend=backend)
        assert_bits(y, rounded(f(xf, axis=axis)))
        g = rounded(RNG.standard_normal(np.shape(y)))
        if spec.reduces:
            assert_bits(fg(g, x, axis=axis, backend=backend), rounded(fg(f32(g), xf, axis=axis)))
            assert_bits(fg(g, x, axis=axis, result=y, backend=backend),
                        rounded(fg(f32(g), xf, axis=axis, result=f32(y))))
        else:
            assert_bits(fg(g, x, axis=axis, backend=backend), rounded(fg(f32(g), xf, axis=axis)))
            assert_bits(fg(g, axis=axis, result=y, backend=backend),
                        rounded(fg(f32(g), axis=axis, result=f32(y))))
    if spec.masks:
        where = RNG.random(x.shape) < 0.7
        assert_bits(f(x, where=where, backend=backend), rounded(f(f32(x), where=where)))
    # rows holding NaN, +-inf or only -inf: NaN, +-inf or -inf as in float32
    special = rounded(np.array([[0.0, 1.0, np.nan, 2.0], [np.inf, 0.0, 1.0, -1.0],
                                [-np.inf, -np.inf, -np.inf, -np.inf], [-np.inf, 3.0, 0.0, 1.0]]))
    for axis in (0, 1):
        assert_bits(f(special, axis=axis, backend=backend),
                    rounded(f(f32(special), axis=axis)))
    # long rows (several of the loops' bfloat16 chunks) and a non-contiguous input
    long = rounded(RNG.standard_normal((3, 100_003)) * 4)
    assert_bits(f(long, backend=backend), rounded(f(f32(long))))
    assert_bits(f(x.T[::2], backend=backend), rounded(f(f32(x.T[::2]))))
    if not spec.reduces:
        out = np.empty_like(x)
        assert f(x, out=out, backend=backend) is out
        assert_bits(out, rounded(f(f32(x))))
