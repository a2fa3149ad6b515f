"""A pytest plugin that runs a test session with scikit-learn patched by fastact.

    python -m pytest -p fastact.integrations._sklearn_pytest --pyargs \
        sklearn.neural_network.tests.test_mlp

It patches before collection, counts the calls that reach fastact's functions, and fails the
session if the patch was undone during it or fastact was never called (either would mean the
session silently tested scikit-learn's own functions).
"""

from collections import Counter

import fastact
from fastact.integrations import sklearn as _fsk

_WRAPPED = ("relu", "tanh", "sigmoid", "relu_grad", "tanh_grad", "sigmoid_grad")
calls: Counter = Counter()


def _counting(name, fn):
    def wrapper(*args, **kwargs):
        calls[name] += 1
        return fn(*args, **kwargs)

    return wrapper


def pytest_configure(config):
    for name in _WRAPPED:  # the integration looks these up on the fastact module at each call
        setattr(fastact, name, _counting(name, getattr(fastact, name)))
    _fsk.patch()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(
        f"fastact patch active: {_fsk.is_patched()}; calls into fastact: "
        + ", ".join(f"{k}={calls[k]}" for k in _WRAPPED))


def pytest_sessionfinish(session, exitstatus):
    if not _fsk.is_patched() or not all(calls[k] for k in _WRAPPED):
        session.exitstatus = 3
