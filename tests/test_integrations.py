"""fastact inside PyTorch (autograd functions, modules) and scikit-learn (patched MLP)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastact
from fastact.registry import ACTIVATIONS

from .reference import cases

#: per kernel, its last (least default) parameter set: gradcheck runs once per kernel
GRADCHECK = list({kernel: (name, kernel, p) for name, kernel, p in cases()}.values())


def _away_from_kinks(name, params, n=40, seed=0):
    """Points where gradcheck's central differences do not straddle a kink."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-7, 7, n)
    for k in ACTIVATIONS[name].kinks_at(params):
        close = np.abs(x - k) < 1e-2
        x[close] += 0.05
    return x


# -- PyTorch -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kernel", "params"), GRADCHECK, ids=[k for _, k, _ in GRADCHECK])
def test_torch_gradcheck_float64(name, kernel, params):
    torch = pytest.importorskip("torch")
    import fastact.torch as ft

    spec = ACTIVATIONS[name]
    x = torch.tensor(_away_from_kinks(name, params), dtype=torch.float64, requires_grad=True)
    if spec.has_weight:
        weights = [q.name for q in spec.params if q.kind == "weight"]
        w = torch.tensor([float(params[weights[0]])], dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda a, b: ft.functions[name].apply(a, b), (x, w))
        return
    fn = getattr(ft, name)
    assert torch.autograd.gradcheck(lambda a: fn(a, **params), (x,), eps=1e-6, atol=1e-6)
    # the same values as fastact's NumPy functions
    y = fn(x, **params)
    np.testing.assert_array_equal(y.detach().numpy(),
                                  getattr(fastact, name)(x.detach().numpy(), **params))


def test_torch_modules_and_prelu_weight_learns():
    torch = pytest.importorskip("torch")
    import fastact.torch as ft

    x = torch.randn(64, 8, dtype=torch.float32, requires_grad=True)
    ours, theirs = ft.Activation("gelu", approximate="tanh"), torch.nn.GELU(approximate="tanh")
    g = torch.randn(64, 8)
    ours(x).backward(g)
    gx = x.grad.clone()
    x.grad = None
    theirs(x).backward(g)
    torch.testing.assert_close(gx, x.grad, rtol=1e-5, atol=1e-6)
    assert "gelu" in repr(ours) and "tanh" in repr(ours)
    p = ft.Activation("prelu", num_parameters=8)
    tp = torch.nn.PReLU(8)
    xs = torch.randn(64, 8)
    p(xs).sum().backward()
    tp(xs).sum().backward()
    torch.testing.assert_close(p.weight.grad, tp.weight.grad, rtol=1e-5, atol=1e-5)
    # a non-contiguous input and an expanded (stride-0) grad_output: no copies needed
    xt = torch.randn(8, 64, dtype=torch.float64, requires_grad=True)
    ft.tanh(xt.t()).sum().backward()
    torch.testing.assert_close(xt.grad, 1 - torch.tanh(xt.detach()) ** 2)
    with pytest.raises(TypeError, match="complex64"):
        ft.relu(torch.ones(3, dtype=torch.complex64))
    with pytest.raises(ValueError, match="unknown activation"):
        ft.Activation("relu7")


# -- scikit-learn ------------------------------------------------------------------------------


def test_sklearn_patch_unpatch_and_same_fit():
    pytest.importorskip("sklearn")
    from sklearn.datasets import make_classification
    from sklearn.neural_network import MLPClassifier, _base

    from fastact.integrations import sklearn as fsk

    original = dict(_base.ACTIVATIONS), dict(_base.DERIVATIVES)
    X, y = make_classification(n_samples=400, n_features=20, random_state=0)
    scores = {}
    for activation in ("relu", "tanh", "logistic"):
        kwargs = dict(hidden_layer_sizes=(32, 32), activation=activation, max_iter=30,
                      random_state=0)
        with pytest.warns(Warning):  # ConvergenceWarning: 30 iterations, on purpose
            plain = MLPClassifier(**kwargs).fit(X, y)
        with fsk.patched():
            assert fsk.is_patched()
            with pytest.warns(Warning):
                ours = MLPClassifier(**kwargs).fit(X, y)
        assert not fsk.is_patched()
        np.testing.assert_allclose(ours.loss_curve_, plain.loss_curve_, rtol=1e-9)
        np.testing.assert_allclose(ours.predict_proba(X), plain.predict_proba(X), rtol=1e-7,
                                   atol=1e-10)
        scores[activation] = ours.score(X, y)
    assert (dict(_base.ACTIVATIONS), dict(_base.DERIVATIVES)) == original
    fsk.patch()
    fsk.patch()  # idempotent: unpatch still restores scikit-learn's own
    fsk.unpatch()
    assert (dict(_base.ACTIVATIONS), dict(_base.DERIVATIVES)) == original
    assert min(scores.values()) > 0.7  # a sanity check: the equality above is the test


def test_sklearn_forward_pass_fuses_the_intercept(monkeypatch):
    """The patched forward passes call the activation with bias= on each hidden layer, and give
    the activations of scikit-learn's passes (with fastact's activations) bit for bit, in
    float64 and float32 fits."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import make_regression
    from sklearn.neural_network import MLPRegressor
    from sklearn.neural_network._multilayer_perceptron import BaseMultilayerPerceptron as Base

    from fastact.integrations import sklearn as fsk

    own = Base.__dict__["_forward_pass"], Base.__dict__["_forward_pass_fast"]
    X, y = make_regression(n_samples=300, n_features=12, random_state=1)
    fused = []
    for dtype in (np.float64, np.float32):
        for activation, fn in (("relu", "relu"), ("tanh", "tanh"), ("logistic", "sigmoid")):
            model = MLPRegressor(hidden_layer_sizes=(40, 24), activation=activation,
                                 max_iter=5, random_state=0)
            with pytest.warns(Warning):  # ConvergenceWarning
                model.fit(X.astype(dtype), y.astype(dtype))
            Xd = X.astype(dtype)
            layers = [Xd] + [None] * (model.n_layers_ - 1)
            with fsk.patched():  # scikit-learn's passes with fastact's activations: unfused
                plain = own[0](model, list(layers))
                plain_fast = own[1](model, Xd)
            original = getattr(fastact, fn)
            monkeypatch.setattr(fastact, fn, lambda h, *a, _f=original, **k: fused.append(
                "bias" in k) or _f(h, *a, **k))
            with fsk.patched():
                assert Base._forward_pass is not own[0]
                ours = model._forward_pass(list(layers))
                ours_fast = model._forward_pass_fast(Xd)
            monkeypatch.setattr(fastact, fn, original)
            for a, b in zip(ours[1:], plain[1:], strict=True):
                assert a.dtype == b.dtype == dtype
                np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(ours_fast, plain_fast)
    assert fused and all(fused)  # every call of the activation went through bias=
    assert (Base.__dict__["_forward_pass"], Base.__dict__["_forward_pass_fast"]) == own


def test_sklearn_own_mlp_tests_pass_with_the_patch():
    """scikit-learn's test module for its MLP, run with fastact patched in."""
    pytest.importorskip("sklearn")
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "fastact.integrations._sklearn_pytest",
         "-p", "no:cacheprovider", "--pyargs", "sklearn.neural_network.tests.test_mlp"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    tail = r.stdout[-3000:] + r.stderr[-2000:]
    assert r.returncode == 0, tail
    assert "fastact patch active: True" in r.stdout, tail
    counts = dict(kv.split("=") for kv in r.stdout.split("calls into fastact: ")[1].split()[0:6]
                  for kv in [kv.rstrip(",")])
    assert all(int(v) > 0 for v in counts.values()), counts
