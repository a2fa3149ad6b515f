"""The axis-wise kind: softmax, log_softmax, softmin, logsumexp, sparsemax and their gradients.

Values against the registry's row references (float64 for float32 results, mpmath for float64),
adversarial rows (one huge element, many equal ones, subnormal probabilities, a row of 1e6),
torch's and JAX's semantics at special values and for ``where=``, scipy's cases, every axis and
layout, out=/inplace=, refused calls that change nothing, and the backends against each other.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import fastact

from .reference import AXISWISE as SPECS
from .reference import adversarial_rows

NAMES = list(SPECS)
#: the activations whose gradient runs from the output alone
FROM_RESULT = [n for n, s in SPECS.items() if not s.reduces]


def _ulp_error(got, ref, dtype):
    """Max error in ULP of ``dtype`` where the reference is a normal number of it."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    normal = np.abs(ref) >= np.finfo(dtype).tiny
    if not normal.any():
        return 0.0
    ulp = np.spacing(np.abs(ref[normal]).astype(dtype)).astype(np.float64)
    return float(np.max(np.abs(got[normal] - ref[normal]) / ulp))


def _forward(name, x, **kw):
    return getattr(fastact, name)(x, **kw)


def _grad_ref(spec, x, g):
    return spec.reference.df(x, g[0] if spec.reduces else g)


def _result_ref(spec, g, y, x):
    """The gradient from a given output y (exact in its dtype), in long double: what ``result=``
    computes (the output's own rounding is the caller's)."""
    g, y = np.asarray(g, np.longdouble), np.asarray(y, np.longdouble)
    if spec.reduces:
        return g * np.exp(np.asarray(x, np.longdouble) - y)
    if spec.log:
        return g - np.exp(y) * g.sum()
    if spec.reduction == "sparsemax":
        support = y > 0
        return np.where(support, g - g[support].sum() / support.sum(), 0)
    return spec.sign * y * (g - (g * y).sum())


@pytest.mark.parametrize("name", NAMES)
def test_float32_within_4_ulp_of_the_exact_value(name):
    spec = SPECS[name]
    for row in adversarial_rows(np.float32):
        y = _forward(name, row.astype(np.float32))
        ref = spec.reference.f(row)
        if spec.reduction == "sparsemax":  # a difference: exact to the row's scale
            scale = np.spacing(np.float32(np.max(np.abs(row))))
            assert np.max(np.abs(y - ref)) <= 4 * scale, row[:4]
        else:
            assert _ulp_error(y, ref, np.float32) <= 4.0, (name, row[:4])


@pytest.mark.parametrize("name", NAMES)
def test_float64_within_16_ulp_of_mpmath(name):
    from fastact._reference import mp

    spec = SPECS[name]
    for row in adversarial_rows(np.float64)[:6]:
        y = np.atleast_1d(_forward(name, row))
        ref = spec.reference.mf([mp.mpf(v) for v in row])
        ref = np.array([float(v) for v in (ref if isinstance(ref, list) else [ref])])
        if spec.reduction == "sparsemax":
            assert np.max(np.abs(y - ref)) <= 16 * np.spacing(np.max(np.abs(row)))
        else:
            assert _ulp_error(y, ref, np.float64) <= 16.0, (name, row[:4])


def test_a_row_of_a_million_float64_elements_keeps_its_digits():
    x = np.random.default_rng(3).standard_normal(10 ** 6) * 10
    xl = x.astype(np.longdouble)
    e = np.exp(xl - xl.max())
    s = e.sum()
    assert _ulp_error(fastact.softmax(x), e / s, np.float64) <= 16
    assert _ulp_error(fastact.log_softmax(x), (xl - xl.max()) - np.log(s), np.float64) <= 16
    assert _ulp_error(fastact.logsumexp(x), xl.max() + np.log(s), np.float64) <= 16


def test_log_softmax_keeps_the_digits_scipy_loses():
    # scipy issue #19521: the maximum's log-probability is -sum(exp(rest)) when that is tiny
    x = np.array([0.0, -50.0, -60.0], np.float32)
    ref = -(np.exp(-50.0) + np.exp(-60.0))
    assert _ulp_error(fastact.log_softmax(x)[0], ref, np.float32) <= 1.0
    assert _ulp_error(fastact.logsumexp(x), -ref, np.float32) <= 1.0
    x64 = np.array([0.0, -200.0])
    assert _ulp_error(fastact.log_softmax(x64)[0], -np.exp(-200.0), np.float64) <= 2.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_gradients_from_x_and_from_the_output(name, dtype):
    spec = SPECS[name]
    rng = np.random.default_rng(5)
    eps = np.finfo(dtype).eps
    for row in adversarial_rows(dtype)[:4] + adversarial_rows(dtype)[6:7]:
        x = row.astype(dtype)
        g = rng.standard_normal(1 if spec.reduces else row.size).astype(dtype)
        ref = _grad_ref(spec, row, g.astype(np.float64))
        gg = g.reshape(()) if spec.reduces else g
        tol = 8 * eps * max(1.0, float(np.max(np.abs(g)))) + 4 * np.spacing(np.abs(ref))
        got = getattr(fastact, f"{name}_grad")(gg, x)
        assert np.all(np.abs(got - ref) <= tol), name
        y = _forward(name, x)
        if spec.reduces:
            got = fastact.logsumexp_grad(gg, x, result=y)
        else:
            got = getattr(fastact, f"{name}_grad")(gg, result=y)
        ref = _result_ref(spec, g, y, x).astype(np.float64)
        tol = 8 * eps * max(1.0, float(np.max(np.abs(g)))) + 4 * np.spacing(np.abs(ref))
        assert np.all(np.abs(got - ref) <= tol), name


def _specialadversarial_rows():
    inf, nan = np.inf, np.nan
    return np.array([[1.0, nan, 2.0, 0.0], [1.0, inf, 2.0, 0.0], [-inf, -inf, -inf, -inf],
                     [-inf, 1.0, 2.0, -inf], [inf, inf, 0.0, 0.0], [-0.0, 0.0, -0.0, 0.0],
                     [3e38, -3e38, 0.0, 1e-45]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values_match_torch(dtype):
    torch = pytest.importorskip("torch")
    x = _specialadversarial_rows().astype(dtype)
    t = torch.from_numpy(x)
    pairs = {"softmax": torch.softmax(t, 1), "log_softmax": torch.log_softmax(t, 1),
             "softmin": torch.nn.functional.softmin(t, 1), "logsumexp": torch.logsumexp(t, 1)}
    for name, want in pairs.items():
        got = _forward(name, x, axis=1)
        np.testing.assert_allclose(got, want.numpy(), rtol=4 * np.finfo(dtype).eps, atol=0,
                                   err_msg=name)
    y = torch.softmax(t, 1)
    g = torch.ones_like(t)
    np.testing.assert_allclose(
        fastact.softmax_grad(g.numpy(), result=y.numpy(), axis=1),
        torch._softmax_backward_data(g, y, 1, t.dtype).numpy(), rtol=1e-6,
        atol=4 * np.finfo(dtype).eps)  # torch's sum of g y in the data's dtype: 0 at 1 - 1


def test_sparsemax_specialadversarial_rows():
    y = fastact.sparsemax(_specialadversarial_rows(), axis=1)
    assert np.isnan(y[:3]).all() and np.isnan(y[4]).all()  # NaN, +inf, only -inf
    np.testing.assert_array_equal(y[3], [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(y[5], [0.25] * 4)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_where_matches_jax(name):
    jax = _jax()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 9))
    w = rng.random((5, 9)) > 0.4
    w[2] = False  # a row with nothing left
    want = np.asarray(getattr(jax.nn, name)(x, axis=1, where=w))
    got = _forward(name, x, axis=1, where=w)
    if name != "logsumexp":
        keep = w | (name == "log_softmax")  # JAX: 0 / -inf where masked out
        np.testing.assert_array_equal(got[~keep], want[~keep])
        np.testing.assert_allclose(got[w], want[w], rtol=1e-14)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-14)
        assert got[2] == -np.inf
    g = rng.standard_normal(got.shape)
    vjp = jax.vjp(lambda t: getattr(jax.nn, name)(t, axis=1, where=w), x)[1](g)[0]
    mine = getattr(fastact, f"{name}_grad")(g, x, 1, where=w)
    np.testing.assert_allclose(np.where(w, mine, 0), np.where(w, np.asarray(vjp), 0), rtol=1e-12,
                               atol=1e-15)
    assert np.all(mine[~w] == 0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_where_gradient_from_the_output(name):
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((4, 7)), rng.standard_normal((4, 7))
    w = rng.random((4, 7)) > 0.3
    y = _forward(name, x, axis=1, where=w)
    grad = getattr(fastact, f"{name}_grad")
    np.testing.assert_allclose(grad(g, result=y, axis=1, where=w), grad(g, x, 1, where=w),
                               rtol=1e-12, atol=1e-15)


def _reference_along(spec, x, axes):
    """The row reference applied with the reduced axes moved last and flattened."""
    x = np.asarray(x, np.float64)
    keep = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, keep + list(axes))
    rows = moved.reshape(-1, int(np.prod([x.shape[a] for a in axes])))
    out = np.array([spec.reference.f(r) for r in rows])
    if spec.reduces:
        return out.reshape([x.shape[i] for i in keep])
    return np.transpose(out.reshape(moved.shape), np.argsort(keep + list(axes)))


LAYOUTS = {
    "C": lambda a: a,
    "F": np.asfortranarray,
    "strided": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
    "reversed": lambda a: a[::-1, :, ::-1].copy()[::-1, :, ::-1],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("axis", [-1, 0, 1, (1, 2), (0, 2), None])
def test_every_axis_and_layout(axis, layout):
    x = LAYOUTS[layout](np.random.default_rng(4).standard_normal((3, 4, 5)).astype(np.float32))
    axes = tuple(range(3)) if axis is None else tuple(
        a % 3 for a in (axis if isinstance(axis, tuple) else (axis,)))
    for name in NAMES:
        spec = SPECS[name]
        want = _reference_along(spec, x, axes)
        for backend in ("cpu", "parallel"):
            got = _forward(name, x, axis=axis, backend=backend)
            assert np.shape(got) == want.shape
            np.testing.assert_allclose(got, want, rtol=4e-7, atol=1e-7, err_msg=name)
            if backend == "cpu":
                serial = got
            else:
                np.testing.assert_array_equal(got, serial)


def test_large_rows_and_columns_agree_across_backends():
    rng = np.random.default_rng(6)
    for shape, axis in (((64, 3000), -1), ((3000, 70), 0), ((6, 50, 700), 1)):
        x = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        for name in ("softmax", "log_softmax", "logsumexp"):
            a = _forward(name, x, axis=axis, backend="cpu")
            np.testing.assert_array_equal(a, _forward(name, x, axis=axis, backend="parallel"))
        y = fastact.softmax(x, axis)
        a = fastact.softmax_grad(g, result=y, axis=axis, backend="cpu")
        np.testing.assert_array_equal(
            a, fastact.softmax_grad(g, result=y, axis=axis, backend="parallel"))
        want = _reference_along(SPECS["softmax"], x, (axis % x.ndim,))
        np.testing.assert_allclose(y, want, rtol=4e-7, atol=1e-30)


def test_keepdims_empty_and_0d():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    assert fastact.logsumexp(x, (0, 2), keepdims=True).shape == (1, 3, 1)
    assert fastact.logsumexp(x, None).shape == ()
    np.testing.assert_allclose(fastact.logsumexp(x, (0, 2), True)[0, :, 0],
                               fastact.logsumexp(x, (0, 2)))
    assert fastact.softmax(np.empty((0, 3)), 1).shape == (0, 3)
    np.testing.assert_array_equal(fastact.logsumexp(np.empty((2, 0)), 1), [-np.inf, -np.inf])
    assert fastact.softmax(3.0) == 1.0 and fastact.log_softmax(3.0) == 0.0
    assert fastact.logsumexp(3.0) == 3.0 and fastact.sparsemax(-2.0) == 1.0
    assert fastact.softmax_grad(2.0, result=1.0) == 0.0


def test_out_and_inplace():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 5))
    want = fastact.softmax(x, 0)
    out = np.empty_like(x)
    assert fastact.softmax(x, 0, out=out) is out
    np.testing.assert_array_equal(out, want)
    xc = x.copy()
    assert fastact.softmax(xc, 0, out=xc) is xc  # out may be x itself
    np.testing.assert_array_equal(xc, want)
    g = rng.standard_normal((6, 5))
    want_g = fastact.log_softmax_grad(g, x, 0)
    gc = g.copy()
    assert fastact.log_softmax_grad(gc, x, 0, inplace=True) is gc
    np.testing.assert_array_equal(gc, want_g)
    gc = g.copy()
    fastact.sparsemax_grad(gc, x, 0, inplace=True)
    np.testing.assert_array_equal(gc, fastact.sparsemax_grad(g, x, 0))
    red = np.empty(5)
    assert fastact.logsumexp(x, 0, out=red) is red


BAD_CALLS = [
    (lambda x, g: fastact.softmax(x.astype(complex)), TypeError),
    (lambda x, g: fastact.softmax(x, 2), np.exceptions.AxisError),
    (lambda x, g: fastact.softmax(x, (0, 0)), ValueError),
    (lambda x, g: fastact.softmax(x, 1.5), TypeError),
    (lambda x, g: fastact.softmax(x, where=x), TypeError),
    (lambda x, g: fastact.softmax(x, where=np.ones(3, bool)), ValueError),
    (lambda x, g: fastact.sparsemax(x, where=x > 0), TypeError),
    (lambda x, g: fastact.softmax(x, keepdims=True), TypeError),
    (lambda x, g: fastact.softmax(x, out=np.empty((4, 5), np.float32)), ValueError),
    (lambda x, g: fastact.softmax(x, out=np.empty((4, 4))), ValueError),
    (lambda x, g: fastact.softmax_grad(g, x, result=x), TypeError),
    (lambda x, g: fastact.softmax_grad(g), TypeError),
    (lambda x, g: fastact.softmax_grad(g[:, :2], x), ValueError),
    (lambda x, g: fastact.logsumexp_grad(g[:, 0], result=x[:, 0]), TypeError),
    (lambda x, g: fastact.logsumexp_grad(g[:, 0], x, 1, inplace=True), ValueError),
    (lambda x, g: fastact.softmax_grad(g, x, inplace=True, out=g), ValueError),
]


@pytest.mark.parametrize("call", range(len(BAD_CALLS)))
def test_refused_calls_change_nothing(call):
    rng = np.random.default_rng(9)
    x, g = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    x0, g0 = x.copy(), g.copy()
    fn, error = BAD_CALLS[call]
    with pytest.raises(error):
        fn(x, g)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, g0)


def test_dtypes():
    x = np.array([[1.0, 2.0, 3.0]])
    assert fastact.softmax(x.astype(np.float16)).dtype == np.float16
    np.testing.assert_allclose(fastact.softmax(x.astype(np.float16)), fastact.softmax(x),
                               rtol=1e-3)
    assert fastact.softmax(np.array([[1, 2, 3]])).dtype == np.float64
    assert fastact.logsumexp([True, False]).dtype == np.float64
    assert fastact.softmax_grad(x.astype(np.float32), result=x.astype(np.float32)).dtype == \
        np.float32


def test_scipy_cases():
    special = pytest.importorskip("scipy.special")
    inf, nan = np.inf, np.nan
    assert fastact.logsumexp([1000.0, 1000.0]) == pytest.approx(1000 + np.log(2), rel=1e-15)
    assert fastact.logsumexp([-inf, -inf]) == -inf
    assert fastact.logsumexp([inf, inf]) == inf and fastact.logsumexp([-inf, inf]) == inf
    assert np.isnan(fastact.logsumexp([nan, 1.0]))
    np.testing.assert_array_equal(fastact.softmax([1000.0, 0.0, -1000.0]), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(fastact.log_softmax([1000.0, 0.0]), [0.0, -1000.0])
    x = np.random.default_rng(10).standard_normal((4, 6)) * 5
    for name in ("softmax", "log_softmax", "logsumexp"):
        for axis in (0, 1, None):
            np.testing.assert_allclose(_forward(name, x, axis=axis),
                                       getattr(special, name)(x, axis=axis), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_parity_forward_and_autograd(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((3, 8, 5)) * 4).astype(dtype)
    g = rng.standard_normal((3, 8, 5)).astype(dtype)
    rtol = 16 * np.finfo(dtype).eps
    for name in ("softmax", "log_softmax", "softmin", "logsumexp"):
        fn = SPECS[name].torch.along(torch, 1)
        t = torch.from_numpy(x).requires_grad_()
        y = fn(t)
        gt = torch.from_numpy(g[:, 0] if SPECS[name].reduces else g)
        y.backward(gt)
        np.testing.assert_allclose(_forward(name, x, axis=1), y.detach().numpy(), rtol=rtol)
        got = getattr(fastact, f"{name}_grad")(gt.numpy(), x, 1)
        # the gradients cancel (g - sum(g y)): an error of the sum's size, not the result's
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=rtol,
                                   atol=rtol * float(np.max(np.abs(g))))


def test_fastact_torch_functions_and_modules():
    torch = pytest.importorskip("torch")
    import fastact.torch as ft

    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    for name in NAMES:
        fn = getattr(ft, name)
        assert torch.autograd.gradcheck(lambda t, fn=fn: fn(t, 0), (x,)), name
    m = ft.Activation("log_softmax", axis=1)
    assert "axis=1" in repr(m)
    torch.testing.assert_close(m(x), torch.log_softmax(x, 1))


def test_dask_keeps_rows_whole():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(12)
    x = rng.standard_normal((6, 10))
    d = da.from_array(x, chunks=(2, 3))
    w = x > -0.5
    np.testing.assert_array_equal(fastact.softmax(d, 1, where=w).compute(),
                                  fastact.softmax(x, 1, where=w))
    np.testing.assert_array_equal(fastact.logsumexp(d, 0).compute(), fastact.logsumexp(x, 0))
    assert fastact.logsumexp(d, 1, keepdims=True).compute().shape == (6, 1)
    g = rng.standard_normal((6, 10))
    np.testing.assert_array_equal(
        fastact.log_softmax_grad(da.from_array(g, chunks=(3, 5)), d, 1).compute(),
        fastact.log_softmax_grad(g, x, 1))
    gl = rng.standard_normal(6)
    np.testing.assert_allclose(fastact.logsumexp_grad(da.from_array(gl, chunks=2), d, 1)
                               .compute(), fastact.logsumexp_grad(gl, x, 1))


def test_threads_share_nothing():
    rng = np.random.default_rng(13)
    xs = [rng.standard_normal((200, 300)).astype(np.float32) for _ in range(6)]
    want = [fastact.softmax(x, 0, backend="cpu") for x in xs]
    got = [None] * len(xs)

    def work(i):
        got[i] = fastact.softmax(xs[i], 0, backend="parallel")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_explain_names_the_backend():
    x = np.zeros((1000, 1000), np.float32)
    assert "parallel" in fastact.explain(x, "softmax") or "cpu" in fastact.explain(x, "softmax")


def test_element_wise_tools_refuse_axis_wise_activations():
    with pytest.raises(ValueError, match="vector-Jacobian"):
        fastact.derivative("softmax", [1.0, 2.0])
    with pytest.raises(ValueError, match="no curve"):
        fastact.analyze("log_softmax")
