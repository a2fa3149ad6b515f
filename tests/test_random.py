"""Activations with a "random" parameter (rrelu's ``training``): with it set, each element's
multiplier is drawn from the given generator by the entry's noise kernel, ``f(x) = x * m`` and the
gradient is ``grad_output * m`` from the ``noise=`` array the forward filled (torch's
rrelu_with_noise). Driven by the registry: every such entry is tested here."""

import numpy as np
import pytest

import fastact
from fastact.registry import ACTIVATIONS

NAMES = [n for n, s in ACTIVATIONS.items() if s.random_param is not None]


def _call(name):
    spec = ACTIVATIONS[name]
    p = {**spec.reference.params[0], spec.random_param.name: True}
    return spec, p, getattr(fastact, name), getattr(fastact, f"{name}_grad")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_sampled_forward_and_gradient(name, dtype):
    spec, p, f, fg = _call(name)
    x = np.random.default_rng(0).standard_normal((64, 33)).astype(dtype)
    x[0, :4] = [0.0, -0.0, np.inf, -np.inf]
    x[1, 0] = np.nan
    compute = np.float32 if dtype == np.float16 else dtype
    noise = np.empty(x.shape, compute)
    y = f(x, **p, generator=np.random.default_rng(5), noise=noise)
    assert y.dtype == dtype and y.shape == x.shape
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(y, (x.astype(compute) * noise).astype(dtype))
    # the same generator state draws the same multipliers; another one other multipliers
    again = f(x, **p, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(again, y)
    assert not np.array_equal(f(x, **p, generator=np.random.default_rng(6)), y, equal_nan=True)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    gi = fg(g, x, **p, noise=noise)
    assert gi.dtype == dtype
    np.testing.assert_array_equal(gi, (g.astype(compute) * noise).astype(dtype))
    out = np.empty_like(g)
    assert fg(g, x, **p, noise=noise, out=out) is out
    np.testing.assert_array_equal(out, gi)


def test_rrelu_slopes_are_torch_s():
    """rrelu's multipliers: 1 where x > 0 (NaN included, as torch's ``input <= 0`` test), else
    uniform on [lower, upper)."""
    if "rrelu" not in ACTIVATIONS:
        pytest.skip("no rrelu in this registry")
    x = np.concatenate([-np.abs(np.random.default_rng(3).standard_normal(200_000)),
                        [1.0, np.nan, 0.0, -0.0]])
    noise = np.empty_like(x)
    fastact.rrelu(x, 0.1, 0.3, True, noise=noise, generator=7)
    r = noise[:-4]
    assert r.min() >= 0.1 and r.max() <= 0.3
    assert abs(r.mean() - 0.2) < 1e-3 and abs(r.std() - 0.2 / np.sqrt(12)) < 1e-3
    np.testing.assert_array_equal(noise[-4:-2], [1.0, 1.0])
    assert (noise[-2:] >= 0.1).all() and (noise[-2:] <= 0.3).all()


@pytest.mark.parametrize("name", NAMES)
def test_in_place_and_out(name):
    spec, p, f, _ = _call(name)
    x = np.random.default_rng(0).standard_normal(1000)
    want = f(x, **p, generator=1)
    out = np.empty_like(x)
    assert f(x, **p, generator=1, out=out) is out
    np.testing.assert_array_equal(out, want)
    work = x.copy()
    assert f(work, **p, generator=1, inplace=True) is work
    np.testing.assert_array_equal(work, want)


@pytest.mark.parametrize("name", NAMES)
def test_refused_calls_change_nothing(name):
    spec, p, f, fg = _call(name)
    flag = spec.random_param.name
    x = np.random.default_rng(0).standard_normal(100)
    x0 = x.copy()
    noise = np.full(100, 7.0)
    with pytest.raises(ValueError, match="noise has shape"):
        f(x, **p, noise=np.empty(99))
    with pytest.raises(ValueError, match="noise has dtype"):
        f(x, **p, noise=np.empty(100, np.float32))
    with pytest.raises(ValueError, match="noise shares memory with x"):
        f(x, **p, noise=x)
    with pytest.raises(ValueError, match="out has shape"):
        f(x, **p, noise=noise, out=np.empty(3))
    with pytest.raises(ValueError, match=f"only with {flag}=True"):
        f(x, **{**p, flag: False}, noise=noise)
    with pytest.raises(TypeError, match="needs noise="):
        fg(np.ones(100), x, **p)
    with pytest.raises(TypeError, match="unexpected keyword argument 'generator'"):
        fg(np.ones(100), x, **p, noise=noise, generator=1)
    with pytest.raises(TypeError, match="True or False"):
        f(x, **{**p, flag: 1})
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(noise, 7.0)


@pytest.mark.parametrize("name", NAMES)
def test_not_sampled_is_deterministic(name):
    spec, p, f, _ = _call(name)
    x = np.random.default_rng(0).standard_normal(1000)
    off = {**p, spec.random_param.name: False}
    np.testing.assert_array_equal(f(x, **off), f(x, **off))


@pytest.mark.parametrize("name", NAMES)
def test_dask_refuses_sampling(name):
    da = pytest.importorskip("dask.array")
    spec, p, f, _ = _call(name)
    with pytest.raises(TypeError, match="not on dask arrays"):
        f(da.ones(10, chunks=5), **p)


@pytest.mark.parametrize("name", NAMES)
def test_torch_module_samples_in_training_mode(name):
    torch = pytest.importorskip("torch")
    import fastact.torch as ft

    spec = ACTIVATIONS[name]
    real = {k: v for k, v in spec.reference.params[0].items() if k != spec.random_param.name}
    m = ft.Activation(name, **real)
    x = torch.randn(4000, dtype=torch.float64, requires_grad=True)
    y = m(x)  # a new module is in training mode, as torch's
    y.backward(torch.ones_like(x))
    ratio = (y / x).detach()
    np.testing.assert_allclose(x.grad.numpy(), ratio.numpy(), rtol=1e-15)
    assert len(np.unique(ratio.numpy()[x.detach().numpy() < 0])) > 100
    m.eval()
    y1, y2 = m(x), m(x)
    np.testing.assert_array_equal(y1.detach().numpy(), y2.detach().numpy())
