"""fastact inside other libraries, each against the same work without fastact, in one run:

- dask: ``fastact.gelu`` on a dask array (threaded scheduler) against the direct call (overhead);
- scikit-learn: ``MLPClassifier.fit`` with fastact patched in against scikit-learn's own
  functions (same data, same seed: the same loss curve is checked before timing);
- PyTorch: ``fastact.torch.Activation`` forward + backward against torch's own module.

Each row's extra_info has variant "integration"; the report puts them in one table.
"""

import numpy as np
import pytest

import fastact

from . import peers
from .conftest import MODE, measure


def _record(benchmark, label, impl, n):
    benchmark.group = f"integration {label}"
    benchmark.name = impl
    benchmark.extra_info.update({"variant": "integration", "label": label, "impl": impl,
                                 "n": n})


@pytest.mark.parametrize("impl", ["direct call", "dask array"])
def test_dask_overhead(benchmark, impl):
    da = pytest.importorskip("dask.array")
    import dask

    n = 10**7
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    if impl == "direct call":
        def call():
            return fastact.gelu(x)
    else:
        dx = da.from_array(x, chunks=10**6)

        def call():
            with dask.config.set(scheduler="threads"):
                return fastact.gelu(dx).compute()
    np.testing.assert_array_equal(call(), fastact.gelu(x))
    _record(benchmark, "gelu, 1e7 float32: dask (threads, 1e6 chunks) vs direct", impl, n)
    measure(benchmark, call)


@pytest.mark.parametrize("impl", ["scikit-learn", "fastact patched"])
def test_sklearn_mlp_fit(benchmark, impl):
    pytest.importorskip("sklearn")
    import warnings

    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from fastact.integrations import sklearn as fsk

    n = 4000 if MODE == "quick" else 20000
    X, y = make_classification(n_samples=n, n_features=64, n_informative=32, random_state=0)
    X = X.astype(np.float32)

    def fit():
        model = MLPClassifier(hidden_layer_sizes=(512, 512), activation="relu", max_iter=3,
                              batch_size=1000, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if impl == "fastact patched":
                with fsk.patched():
                    return model.fit(X, y)
            return model.fit(X, y)

    ours = fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = MLPClassifier(hidden_layer_sizes=(512, 512), activation="relu", max_iter=3,
                               batch_size=1000, random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    _record(benchmark, f"MLPClassifier.fit, {n}x64 float32, (512, 512) relu, 3 epochs", impl, n)
    benchmark.extra_info["score"] = float(ours.score(X, y))
    measure(benchmark, fit)


@pytest.mark.parametrize("impl", ["torch.nn.GELU", "fastact.torch"])
def test_torch_module_forward_backward(benchmark, impl):
    if not peers.installed("torch"):
        pytest.skip("torch not installed")
    import torch

    import fastact.torch as ft

    n = 10**6
    x = torch.randn(n, dtype=torch.float32, requires_grad=True)
    g = torch.randn(n, dtype=torch.float32)
    module = ft.Activation("gelu") if impl == "fastact.torch" else torch.nn.GELU()

    def call():
        x.grad = None
        module(x).backward(g)
        return x.grad

    want = x.detach().numpy()
    np.testing.assert_allclose(call().numpy(), fastact.gelu_grad(g.numpy(), want), rtol=1e-5,
                               atol=1e-6)
    _record(benchmark, "GELU module forward + backward, 1e6 float32", impl, n)
    measure(benchmark, call)
