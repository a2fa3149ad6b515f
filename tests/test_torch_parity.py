"""PyTorch parity: forward and backward match torch's CPU results, float32 and float64.

At special values (+-0, +-inf, NaN, subnormals, kinks, thresholds) the results must be *identical*
(sign of zero included for the piecewise-linear activations), except for the documented deviations
where torch returns NaN for a finite limit or where fastact is more accurate (README, "Deviations").
On random inputs the values agree within the accuracy bound. Skipped where torch is not installed.
"""

import numpy as np
import pytest

import fastact
from fastact.registry import ACTIVATIONS, REQUIRED

from .reference import ELEMENTWISE, grad_input

torch = pytest.importorskip("torch")
F = torch.nn.functional

#: (activation, params) for every entry with a torch counterpart and every parameter set of its
#: references that torch computes
CASES = [
    (name, {**ref_p})
    for name, spec in ELEMENTWISE.items() if spec.torch is not None
    for ref_p in [
        {**p, **({} if kernel == name else {spec.choice.name: kernel[len(name) + 1:]})}
        for kernel, ref in spec.references().items() for p in ref.params
    ]
    if spec.torch.computes(ref_p)
]


def torch_fn(name, p):
    spec = ACTIVATIONS[name]
    full = {q.name: q.default for q in spec.params if q.default is not REQUIRED}
    full.update(p)
    return spec.torch.function(torch, full)


SPECIAL = [0.0, -0.0, 1e-45, -1e-45, 1e-40, -1e-40, 1.0, -1.0, 3.0, -3.0, 6.0, 0.5, -2.0, 10.0,
           20.0, 20.5, -20.0, 30.0, 88.0, -88.0, -100.0, 1e30, -1e30, np.inf, -np.inf, np.nan,
           -np.nan]  # a NaN with its sign bit set takes other branches than +NaN


def special_values(name, p):
    """SPECIAL, with the entry's kink points and the floats on either side of them."""
    kinks = np.array(ACTIVATIONS[name].kinks_at(p), dtype=np.float64)
    near = np.concatenate([kinks, np.nextafter(kinks, -np.inf), np.nextafter(kinks, np.inf)])
    return SPECIAL + near.tolist()


def apply_deviations(name, part, x, g, value, keep, dtype):
    """The torch value as fastact's documented convention gives it (README, "Deviations"), and
    the mask of the inputs still compared."""
    for d in ACTIVATIONS[name].torch.deviations:
        if d.part not in (part, "both"):
            continue
        if d.at is not None:
            keep = keep & ~d.at(x)
        if d.expect is not None:
            value = d.expect(x, g, value, dtype)
    return value, keep


def run_torch(name, p, x, g):
    t = torch.tensor(x, requires_grad=True)
    y = torch_fn(name, p)(t)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def run_fastact(name, p, x, g):
    y = getattr(fastact, name)(x, **p)
    gi = getattr(fastact, f"{name}_grad")(g, x, **p)
    return y, grad_input(ACTIVATIONS[name], gi)


def test_every_torch_activation_is_covered():
    with_torch = {n for n, s in ELEMENTWISE.items() if s.torch is not None}
    assert {n for n, _ in CASES} == with_torch


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "p"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_special_values(name, p, dtype):
    x = np.array(special_values(name, p), dtype=dtype)
    g = np.ones_like(x)
    ty, tg = run_torch(name, p, x, g)
    fy, fg = run_fastact(name, p, x, g)
    spec = ACTIVATIONS[name]
    exact = spec.accuracy_ulp == 0
    every = np.ones(x.shape, bool)
    for what, f, t in (("forward", fy, ty), ("backward", fg, tg)):
        t, keep = apply_deviations(name, what, x, g, t, every, dtype)
        f, t = f[keep], t[keep]
        np.testing.assert_array_equal(np.isnan(f), np.isnan(t), err_msg=f"{what} NaN")
        if exact:
            np.testing.assert_array_equal(f, t, err_msg=what)
            np.testing.assert_array_equal(np.signbit(f), np.signbit(t), err_msg=f"{what} -0")
        else:
            # torch's own error: a few ULP, and a few eps absolute where it works from the
            # output (sigmoid/tanh backward: (1 - y) * y) or cancels (1 + erf); fastact's
            # accuracy is test_accuracy's job
            rtol = spec.torch.tolerance * np.finfo(dtype).eps
            np.testing.assert_allclose(f, t, rtol=rtol, atol=4 * rtol, err_msg=what)
            # where both underflow or vanish: the same signed zero, but where fastact gives the
            # true (negative) value's sign (the entry's zero_signs; README's deviations)
            zeros = (f == 0) & (t == 0) & spec.torch.zero_signs
            np.testing.assert_array_equal(np.signbit(f[zeros]), np.signbit(t[zeros]),
                                          err_msg=f"{what} -0 at x={x[keep][zeros]}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("name", "p"), CASES, ids=[f"{n}-{p}" for n, p in CASES])
def test_random_inputs(name, p, dtype):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(20_000) * 4).astype(dtype)
    g = rng.standard_normal(20_000).astype(dtype)
    ty, tg = run_torch(name, p, x, g)
    fy, fg = run_fastact(name, p, x, g)
    every = np.ones(x.shape, bool)
    ty, keep_f = apply_deviations(name, "forward", x, g, ty, every, dtype)
    tg, keep_b = apply_deviations(name, "backward", x, g, tg, every, dtype)
    fy, ty, fg, tg = fy[keep_f], ty[keep_f], fg[keep_b], tg[keep_b]
    rtol = ACTIVATIONS[name].torch.tolerance * np.finfo(dtype).eps
    # torch's formulas cancel in places (1 + erf(x) for gelu, x/3 + 1/2 for hardswish's
    # gradient, (1 - y) * y for sigmoid's): absolute error of a few eps on the terms' scale
    np.testing.assert_allclose(fy, ty, rtol=rtol, atol=4 * rtol)
    np.testing.assert_allclose(fg, tg, rtol=rtol, atol=4 * rtol * np.abs(g).max())


def test_prelu_weight_grad_matches_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 3, 7))
    g = rng.standard_normal(x.shape)
    w = np.array([0.1, -0.2, 0.3])
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    F.prelu(tx, tw).backward(torch.tensor(g))
    gi, gw = fastact.prelu_grad(g, x, w)
    np.testing.assert_allclose(gi, tx.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(fastact.prelu(x, w), F.prelu(tx, tw).detach().numpy())


#: the cases whose torch counterpart names its own backward op (the benchmarks time it)
BACKWARD_OPS = [(n, p) for n, p in CASES if ACTIVATIONS[n].torch.backward is not None]


@pytest.mark.parametrize(("name", "p"), BACKWARD_OPS, ids=[f"{n}-{p}" for n, p in BACKWARD_OPS])
def test_peer_backward_op_is_autograds(name, p):
    """An entry's torch backward op gives what autograd gives through its torch function."""
    x = np.array(special_values(name, p) + list(np.linspace(-8, 8, 101)), dtype=np.float32)
    g = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    _, want = run_torch(name, p, x, g)
    spec = ACTIVATIONS[name]
    got = spec.torch.backward(torch, torch.tensor(g), torch.tensor(x),
                              {**spec.defaults(), **p}).numpy()
    np.testing.assert_array_equal(got, want)
