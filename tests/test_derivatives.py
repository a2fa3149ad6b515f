"""Each gradient kernel is the derivative of its forward kernel: central differences in float64."""

import numpy as np
import pytest

import fastact

from .reference import cases, smooth

CASES = cases()


@pytest.mark.parametrize(("name", "variant", "params"), CASES,
                         ids=[f"{v}-{p}" for _, v, p in CASES])
def test_grad_matches_central_difference(name, variant, params):
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.uniform(lo, hi, 400) for lo, hi in smooth(name, params)])
    f = getattr(fastact, name)
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    numeric = (f(x + h, **params) - f(x - h, **params)) / (2 * h)
    d = fastact.derivative(name, x, **params)
    np.testing.assert_allclose(d, numeric, rtol=1e-7, atol=1e-8)


def test_derivative_of_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'relu7'"):
        fastact.derivative("relu7", [1.0])
