"""scikit-learn's MLP with fastact's in-place activations and gradients from the output.

scikit-learn's ``MLPClassifier``/``MLPRegressor`` look their hidden activation and its
derivative up in ``sklearn.neural_network._base.ACTIVATIONS`` / ``DERIVATIVES``; the forward
functions work in place, the derivatives multiply ``delta`` in place by f' computed from the
layer's *output* ``Z`` (``delta[Z == 0] = 0``, ``delta *= 1 - Z**2``,
``delta *= Z; delta *= 1 - Z``).
:func:`patch` swaps the relu, tanh and logistic entries for fastact's ``inplace=True`` forward
functions and ``_grad(delta, result=Z, inplace=True)``: one fused pass each, on all cores for
large layers. The MLP's forward passes (``_forward_pass``, ``_forward_pass_fast``) add each hidden
layer's intercept and apply the activation in one pass, ``f(h, bias=intercept, inplace=True)``,
bit-identical to scikit-learn's ``h += intercept`` followed by the activation.
:func:`unpatch` restores scikit-learn's, :func:`patched` does both around a block.

>>> from fastact.integrations import sklearn as fsk        # doctest: +SKIP
>>> with fsk.patched():                                     # doctest: +SKIP
...     MLPClassifier(hidden_layer_sizes=(256, 256)).fit(X, y)
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

import fastact

NAMES = ("relu", "tanh", "logistic")
_lock = threading.Lock()
_saved: dict = {}  # (table name, activation) -> scikit-learn's function, while patched


def inplace_relu(X):
    """Apply relu to X in place (scikit-learn's ``inplace_relu``)."""
    fastact.relu(X, inplace=True)


def inplace_tanh(X):
    """Apply tanh to X in place."""
    fastact.tanh(X, inplace=True)


def inplace_logistic(X):
    """Apply the logistic sigmoid to X in place."""
    fastact.sigmoid(X, inplace=True)


def inplace_relu_derivative(Z, delta):
    """delta *= relu'(x), from the relu output Z: zero where Z <= 0 (scikit-learn: Z == 0)."""
    fastact.relu_grad(delta, result=Z, inplace=True)


def inplace_tanh_derivative(Z, delta):
    """delta *= 1 - Z**2, from the tanh output Z."""
    fastact.tanh_grad(delta, result=Z, inplace=True)


def inplace_logistic_derivative(Z, delta):
    """delta *= Z * (1 - Z), from the sigmoid output Z."""
    fastact.sigmoid_grad(delta, result=Z, inplace=True)


_FORWARD = {"relu": inplace_relu, "tanh": inplace_tanh, "logistic": inplace_logistic}
_DERIVATIVE = {"relu": inplace_relu_derivative, "tanh": inplace_tanh_derivative,
               "logistic": inplace_logistic_derivative}


#: scikit-learn activation name -> fastact function, for the fused intercept + activation
_FUSED = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid"}


def _layer(model, h, i, last):
    """Layer ``i``'s output from ``h = activation @ coefs_[i]``: the intercept added and, for
    a hidden layer (not ``last``), the activation applied, in place; one fused pass where
    fastact has the activation and h is a dense array of the intercept's dtype."""
    b = model.intercepts_[i]
    name = _FUSED.get(model.activation)
    if (not last and name is not None and type(h) is np.ndarray and h.dtype == b.dtype
            and h.dtype.kind == "f"):
        getattr(fastact, name)(h, bias=b, inplace=True)
        return h
    h += b
    if not last:
        _base().ACTIVATIONS[model.activation](h)
    return h


def _forward_pass(self, activations):
    """scikit-learn's ``BaseMultilayerPerceptron._forward_pass`` with each hidden layer's
    intercept and activation fused (:func:`_layer`)."""
    from sklearn.utils.extmath import safe_sparse_dot

    last = self.n_layers_ - 2
    for i in range(self.n_layers_ - 1):
        activations[i + 1] = _layer(self, safe_sparse_dot(activations[i], self.coefs_[i]), i,
                                    i == last)
    _base().ACTIVATIONS[self.out_activation_](activations[i + 1])
    return activations


def _forward_pass_fast(self, X, check_input=True):
    """scikit-learn's ``_forward_pass_fast`` (prediction) with the fused hidden layers."""
    from sklearn.utils.extmath import safe_sparse_dot
    from sklearn.utils.validation import validate_data

    if check_input:
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
    activation = X
    last = self.n_layers_ - 2
    for i in range(self.n_layers_ - 1):
        activation = _layer(self, safe_sparse_dot(activation, self.coefs_[i]), i, i == last)
    _base().ACTIVATIONS[self.out_activation_](activation)
    return activation


_METHODS = {"_forward_pass": _forward_pass, "_forward_pass_fast": _forward_pass_fast}


def _mlp():
    from sklearn.neural_network._multilayer_perceptron import BaseMultilayerPerceptron

    return BaseMultilayerPerceptron


def _base():
    try:
        from sklearn.neural_network import _base
    except ImportError:
        raise ImportError("fastact.integrations.sklearn needs scikit-learn: "
                          "pip install scikit-learn") from None
    return _base


def patch() -> None:
    """Use fastact for scikit-learn's relu, tanh and logistic MLP activations (idempotent)."""
    base = _base()
    with _lock:
        for table, ours in (("ACTIVATIONS", _FORWARD), ("DERIVATIVES", _DERIVATIVE)):
            entries = getattr(base, table)
            for name in NAMES:
                if (table, name) not in _saved:
                    _saved[(table, name)] = entries[name]
                entries[name] = ours[name]
        mlp = _mlp()
        for name, ours in _METHODS.items():
            if ("method", name) not in _saved:
                _saved[("method", name)] = mlp.__dict__[name]
            setattr(mlp, name, ours)


def unpatch() -> None:
    """Restore scikit-learn's own functions (a no-op when not patched)."""
    base = _base()
    with _lock:
        for (table, name), original in list(_saved.items()):
            if table == "method":
                setattr(_mlp(), name, original)
            else:
                getattr(base, table)[name] = original
        _saved.clear()


def is_patched() -> bool:
    """Whether scikit-learn's tables currently hold fastact's functions."""
    base = _base()
    return all(base.ACTIVATIONS[n] is _FORWARD[n] and base.DERIVATIVES[n] is _DERIVATIVE[n]
               for n in NAMES) and all(_mlp().__dict__[k] is v for k, v in _METHODS.items())


@contextlib.contextmanager
def patched():
    """Patch for the duration of a ``with`` block, restoring the previous state after it."""
    was = is_patched()
    patch()
    try:
        yield
    finally:
        if not was:
            unpatch()
