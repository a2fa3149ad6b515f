"""JAX parity: forward and backward match jax.nn's functions (jit, CPU), float32 and float64.

fastact follows torch's conventions at kinks (JAX's own for the activations only JAX has), so
for an activation with a torch counterpart the gradients are compared away from the entry's kink
points; JAX-only activations are compared at their kinks too. At +-inf JAX's formulas often give
NaN where fastact gives the limit (``x * sigmoid(x)`` at -inf): there only JAX's non-NaN values are
compared. Skipped where JAX is not installed.
"""

import numpy as np
import pytest

import fastact
from fastact.registry import ACTIVATIONS, REQUIRED

from .reference import ELEMENTWISE, grad_input

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

CASES = [
    (name, {**p, **({} if kernel == name else {spec.choice.name: kernel[len(name) + 1:]})})
    for name, spec in ELEMENTWISE.items() if spec.jax is not None
    for kernel, ref in spec.references().items() for p in ref.params
]
CASES = [(n, p) for n, p in CASES if ACTIVATIONS[n].jax.computes(p)]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'default'}" for n, p in CASES]

SPECIAL = [0.0, -0.0, 1e-45, -1e-45, 1e-40, 1.0, -1.0, 3.0, -3.0, 6.0, 0.5, -2.0, 10.0, 20.0,
           20.5, -20.0, 30.0, 88.0, -88.0, 1e30, -1e30, np.inf, -np.inf, np.nan]


def jax_fn(name, p):
    spec = ACTIVATIONS[name]
    full = {q.name: q.default for q in spec.params if q.default is not REQUIRED}
    full.update(p)
    return spec.jax.function(jax, full)


def run_jax(name, p, x, g):
    fn = jax_fn(name, p)
    y, vjp = jax.vjp(jax.jit(fn), jnp.asarray(x))
    return np.asarray(y), np.asarray(vjp(jnp.asarray(g))[0])


def run_fastact(name, p, x, g):
    y = getattr(fastact, name)(x, **p)
    return y, grad_input(ACTIVATIONS[name], getattr(fastact, f"{name}_grad")(g, x, **p))


def compared(name, p, x, part):
    """The inputs where JAX's value is compared: the entry's deviations and, for an activation
    whose conventions are torch's, the gradient away from its kinks."""
    spec = ACTIVATIONS[name]
    keep = np.ones(x.shape, bool)
    for d in spec.jax.deviations:
        if d.part in (part, "both") and d.at is not None:
            keep &= ~d.at(x)
    if part == "backward" and spec.torch is not None:
        for k in spec.kinks_at(p):
            keep &= np.abs(x - k) > 1e-6 * max(1.0, abs(k))
    return keep


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "p"), CASES, ids=IDS)
def test_special_values(name, p, dtype):
    kinks = list(ACTIVATIONS[name].kinks_at(p))
    x = np.array(SPECIAL + kinks, dtype=dtype)
    g = np.ones_like(x)
    jy, jg = run_jax(name, p, x, g)
    fy, fg = run_fastact(name, p, x, g)
    rtol = ACTIVATIONS[name].jax.tolerance * np.finfo(dtype).eps
    for part, f, j in (("forward", fy, jy), ("backward", fg, jg)):
        keep = compared(name, p, x, part) & ~(np.isinf(x) & np.isnan(j))
        np.testing.assert_array_equal(np.isnan(f[keep]), np.isnan(j[keep]), err_msg=part)
        np.testing.assert_allclose(f[keep], j[keep], rtol=rtol, atol=4 * rtol, err_msg=part)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "p"), CASES, ids=IDS)
def test_random_inputs(name, p, dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(4000) * 4).astype(dtype)
    g = rng.standard_normal(4000).astype(dtype)
    jy, jg = run_jax(name, p, x, g)
    fy, fg = run_fastact(name, p, x, g)
    rtol = ACTIVATIONS[name].jax.tolerance * np.finfo(dtype).eps
    kf, kb = compared(name, p, x, "forward"), compared(name, p, x, "backward")
    np.testing.assert_allclose(fy[kf], jy[kf], rtol=rtol, atol=4 * rtol)
    np.testing.assert_allclose(fg[kb], jg[kb], rtol=rtol, atol=4 * rtol * np.abs(g).max())
