"""Every registry entry is complete: what the tests, docs and backends are generated from.

A new entry is picked up by every registry-driven test; this file fails when the entry lacks
something those tests need (its reference, its kink points, a reference per variant) or names a
kernel or peer function that does not exist.
"""

import inspect

import numpy as np
import pytest

import fastact
from fastact import kernels as K
from fastact.registry import ACTIVATIONS, KINDS, REQUIRED, Reference

from .reference import ELEMENTWISE, REFS, cases

NAMES = list(ACTIVATIONS)


@pytest.mark.parametrize("name", NAMES)
def test_entry_is_complete(name):
    spec = ACTIVATIONS[name]
    assert spec.kind in KINDS
    assert isinstance(spec.reference, Reference), f"{name}: no reference"
    assert spec.kink_points is not None, f"{name}: kink points not stated (() if smooth)"
    assert set(spec.variant_references) == set(spec.variants), f"{name}: a variant's reference"
    for ref in spec.references().values():
        assert ref.params, f"{name}: no parameter set to test"
        for p in ref.params:
            assert set(p) <= {q.name for q in spec.params}, p
            required = {q.name for q in spec.params if q.default is REQUIRED}
            assert required <= set(p), f"{name}: a test parameter set lacks {required - set(p)}"
            assert all(np.isfinite(k) for k in spec.kinks_at(p))
    assert spec.summary and spec.formula and spec.derivative and spec.example
    assert spec.result_grad is None or spec.result_derivative
    assert callable(getattr(fastact, name)) and callable(getattr(fastact, f"{name}_grad"))


@pytest.mark.parametrize("name", NAMES)
def test_kernels_are_public(name):
    """Every kernel an entry uses is exported by fastact.kernels under its own name."""
    for kernel, _, _ in ACTIVATIONS[name].ufunc_kernels().values():
        public = kernel.py_func.__name__
        assert getattr(K, public, None) is kernel and public in K.__all__, public


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_reference_agrees_with_mpmath(name):
    """The float64 and mpmath references are the same function (a typo in either shows)."""
    import mpmath as mp

    spec = ACTIVATIONS[name]
    for kernel, ref in spec.references().items():
        for p in ref.params:
            x = np.array([-7.5, -2.25, -0.6, 0.3, 1.75, 4.5])
            x = x[[all(abs(v - k) > 1e-3 for k in spec.kinks_at(p)) for v in x]]
            f = ref.f(x, **p)
            df = ref.df(x, **p)
            mf = [float(ref.mf(mp.mpf(float(v)), **p)) for v in x]
            mdf = [float(ref.mdf(mp.mpf(float(v)), **p)) for v in x]
            np.testing.assert_allclose(f, mf, rtol=1e-13, atol=1e-300, err_msg=kernel)
            np.testing.assert_allclose(df, mdf, rtol=1e-13, atol=1e-300, err_msg=kernel)


def test_cases_cover_every_kernel():
    assert {v for _, v, _ in cases()} == set(REFS)
    assert set(REFS) == {k for s in ELEMENTWISE.values() for k in s.references()}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_signature_follows_the_entry(name):
    spec = ACTIVATIONS[name]
    sig = inspect.signature(getattr(fastact, name))
    assert list(sig.parameters)[1:1 + len(spec.params)] == [p.name for p in spec.params]


@pytest.mark.parametrize("peer_name", ["torch", "jax"])
@pytest.mark.parametrize("name", NAMES)
def test_peer_functions_exist(name, peer_name):
    spec = ACTIVATIONS[name]
    peer = getattr(spec, peer_name)
    if peer is None:
        pytest.skip(f"{name} has no {peer_name} counterpart")
    module = pytest.importorskip(peer_name)
    for p in spec.reference.params:
        if peer.computes(p):
            assert callable(peer.function(module, {**_defaults(spec), **p}))


def _defaults(spec):
    return {p.name: p.default for p in spec.params if p.default is not REQUIRED}
