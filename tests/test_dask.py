"""Dask arrays: lazy results with the same chunks, computed block by block by fastact's dispatcher,
on dask's threaded scheduler and on a real distributed.LocalCluster (two worker processes).
"""

import subprocess
import sys

import numpy as np
import pytest

import fastact

from .reference import ELEMENTWISE, REFS

da = pytest.importorskip("dask.array")

#: >= 1e8 elements, generated on the workers (no 400 MB shipped from the client)
N = 100_000_000
CHUNK = 10_000_000


def test_importing_fastact_does_not_import_dask():
    code = ("import sys, fastact, numpy as np; fastact.relu(np.ones(3)); "
            "print('dask' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def _small():
    rng = da.random.default_rng(1)
    return (rng.standard_normal((600, 48), chunks=(150, 16)) * 4).astype(np.float32)


def test_every_function_on_dask_arrays_is_lazy_with_the_same_chunks():
    x = _small()
    xn = x.compute()
    g = np.random.default_rng(2).standard_normal(xn.shape).astype(np.float32)  # NumPy + dask
    for name, spec in ELEMENTWISE.items():
        # the first parameter set the reference tests (values for the required parameters),
        # and a weight per channel (axis 1) where the activation takes one
        p = dict(spec.reference.params[0])
        p.update({q.name: np.linspace(0.1, 0.5, 48, dtype=np.float32)
                  for q in spec.params if q.kind == "weight"})
        y = getattr(fastact, name)(x, **p)
        assert isinstance(y, da.Array) and y.chunks == x.chunks and y.dtype == np.float32, name
        np.testing.assert_array_equal(y.compute(), getattr(fastact, name)(xn, **p))
        gi = getattr(fastact, f"{name}_grad")(g, x, **p)
        want = getattr(fastact, f"{name}_grad")(g, xn, **p)
        if spec.has_weight:
            assert isinstance(gi[1], da.Array) and gi[1].shape == (48,)
            np.testing.assert_array_equal(gi[0].compute(), want[0])
            np.testing.assert_allclose(gi[1].compute(), want[1], rtol=1e-5)
        else:
            assert isinstance(gi, da.Array) and gi.chunks == x.chunks
            np.testing.assert_array_equal(gi.compute(), want)
        if spec.result_grad is not None:
            yn = getattr(fastact, name)(xn)
            got = getattr(fastact, f"{name}_grad")(da.from_array(g, chunks=(150, 16)),
                                                   result=da.from_array(yn, chunks=(150, 16)))
            np.testing.assert_array_equal(got.compute(),
                                          getattr(fastact, f"{name}_grad")(g, result=yn))


def test_dask_dtypes_params_and_errors():
    i = da.arange(-5, 5, chunks=3)
    assert fastact.relu(i).dtype == i.dtype  # relu keeps integers
    assert fastact.elu(i, 0.5).dtype == np.float64
    np.testing.assert_array_equal(fastact.elu(i, 0.5).compute(), fastact.elu(i.compute(), 0.5))
    x = _small()
    with pytest.raises(TypeError, match="dask arrays"):
        fastact.relu(x, inplace=True)
    with pytest.raises(TypeError, match="dask arrays"):
        fastact.gelu(x, out=np.empty(x.shape, np.float32))
    with pytest.raises(TypeError, match="dask arrays"):
        fastact.relu_grad(x, x, inplace=True)
    with pytest.raises(TypeError, match="complex"):
        fastact.gelu(x.astype(np.complex64))
    with pytest.raises(ValueError, match="channels"):
        fastact.prelu(x, np.ones(5))  # checked when called, not when computed
    with pytest.raises(ValueError, match="unknown backend"):
        fastact.gelu(x, backend="gpu9")


def _big():
    # float32 normal values scaled into both tails; built block by block where it runs
    return (da.random.default_rng(7).standard_normal(N, chunks=CHUNK, dtype=np.float32) * 3)


def _check_big(x):
    """gelu, gelu_grad and relu on >= 1e8 elements: a block against the reference, and
    aggregates against NumPy on the gathered input."""
    y, gy, r = fastact.gelu(x), fastact.gelu_grad(da.ones_like(x), x), fastact.relu(x)
    assert y.chunks == x.chunks and y.dtype == np.float32
    # one block, against the float64 reference
    k = 3
    xb = x.blocks[k].compute()
    yb, gb = y.blocks[k].compute(), gy.blocks[k].compute()
    ref = REFS["gelu"]
    np.testing.assert_allclose(yb, ref.f(xb.astype(np.float64)), rtol=4e-7, atol=1e-30)
    np.testing.assert_allclose(gb, ref.df(xb.astype(np.float64)), rtol=4e-7, atol=1e-7)
    # aggregates computed where the data is, against NumPy on the whole gathered input
    sums = da.compute(y.sum(dtype=np.float64), gy.sum(dtype=np.float64), r.sum(dtype=np.float64),
                      (r > 0).sum())
    xn = x.compute()
    assert xn.size >= 1e8
    assert sums[2] == pytest.approx(np.maximum(xn, 0).sum(dtype=np.float64), rel=1e-12)
    assert sums[3] == np.count_nonzero(xn > 0)
    step = slice(None, None, 97)  # the float64 reference on a 1e6 sample of the same data
    yn, gn = fastact.gelu(xn), fastact.gelu_grad(np.ones_like(xn), xn)
    assert sums[0] == pytest.approx(yn.sum(dtype=np.float64), rel=1e-12)
    assert sums[1] == pytest.approx(gn.sum(dtype=np.float64), rel=1e-12)
    np.testing.assert_allclose(yn[step], ref.f(xn[step].astype(np.float64)), rtol=4e-7,
                               atol=1e-30)


def test_threaded_scheduler_big():
    """Dask's threads call fastact's dispatcher concurrently (parallel backend per block)."""
    import dask

    with dask.config.set(scheduler="threads", num_workers=2):
        _check_big(_big())


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       memory_limit="4GiB")
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_local_cluster_big(cluster_client):
    assert len(cluster_client.scheduler_info()["workers"]) == 2
    x = _big().persist()  # generated on the workers
    _check_big(x)
    # the blocks really ran in the worker processes, through fastact's dispatcher there
    where = cluster_client.run(lambda: __import__("fastact").explain(
        np.zeros(CHUNK, np.float32), "gelu"))
    assert len(where) == 2
    assert all("gelu on float32[10000000]" in line for line in where.values())
