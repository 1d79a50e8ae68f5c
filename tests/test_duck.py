"""Dask arrays stay lazy and xarray objects keep their labels; every result bit for bit
that of one NumPy call (also computed by worker processes of a dask.distributed cluster)."""

import numpy as np
import pytest

import fastgrad as fg

da = pytest.importorskip("dask.array")
xr = pytest.importorskip("xarray")


def _x(dtype=np.float64):
    return np.linspace(-6, 6, 1000).astype(dtype).reshape(40, 25)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dask_in_lazy_dask_out(dtype):
    x = _x(dtype)
    g = np.cos(x)
    dx, dg = da.from_array(x, chunks=(7, 10)), da.from_array(g, chunks=(13, 25))
    y = fg.gelu(dx, approximate="tanh")
    assert isinstance(y, da.Array) and y.dtype == dtype
    np.testing.assert_array_equal(y.compute(), fg.gelu(x, approximate="tanh"))
    back = fg.elu_backward(dg, dx, alpha=0.5)  # chunks differ: dask aligns them
    assert isinstance(back, da.Array)
    np.testing.assert_array_equal(back.compute(), fg.elu_backward(g, x, alpha=0.5))
    scalar = fg.sigmoid_backward(2.0, dx)  # a Python number beside a Dask array
    assert scalar.dtype == dtype
    np.testing.assert_array_equal(scalar.compute(), fg.sigmoid_backward(np.full_like(x, 2.0), x))
    pair = fg.silu_fwd_grad(dx)
    assert isinstance(pair, tuple) and all(isinstance(p, da.Array) for p in pair)
    for got, want in zip(da.compute(*pair), fg.silu_fwd_grad(x), strict=True):
        np.testing.assert_array_equal(got, want)


def test_dask_out_is_refused():
    dx = da.from_array(_x(), chunks=10)
    with pytest.raises(TypeError, match="out= is not supported"):
        fg.relu(dx, out=np.empty((40, 25)))


def test_xarray_keeps_dims_coords_and_attrs():
    x = _x()
    coords = {"row": np.arange(40), "col": np.arange(25) * 0.5}
    dx = xr.DataArray(x, dims=("row", "col"), coords=coords, attrs={"units": "V"})
    y = fg.tanh(dx)
    assert isinstance(y, xr.DataArray) and y.dims == ("row", "col")
    assert y.coords.equals(dx.coords) and y.attrs == {"units": "V"}
    np.testing.assert_array_equal(y.values, fg.tanh(x))
    back = fg.tanh_backward(xr.ones_like(dx), dx)
    np.testing.assert_array_equal(back.values, fg.tanh_backward(np.ones_like(x), x))
    y2, d2 = fg.mish_fwd_grad(dx)
    assert y2.dims == d2.dims == ("row", "col")
    np.testing.assert_array_equal(d2.values, fg.mish_fwd_grad(x)[1])
    lazy = fg.softplus(dx.chunk({"row": 10}), beta=2.0)  # Dask-backed: stays lazy
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_array_equal(lazy.values, fg.softplus(x, beta=2.0))


def test_on_a_local_cluster_of_worker_processes():
    """The functions pickle (by name) and run in worker processes: same bits. The README's
    recipe: each worker runs one fastgrad thread (Dask sets OMP_NUM_THREADS=1 there), and
    ``client.run(fastgrad.compile.main, [...])`` warms the workers (a daemonic process,
    which may not start the compile's worker processes, compiles in itself)."""
    import fastgrad.compile

    distributed = pytest.importorskip("distributed")
    x = np.random.default_rng(0).standard_normal((200, 50)).astype(np.float32)
    dx = da.from_array(x, chunks=(50, 50))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        y, (f, d) = client.compute([fg.gelu(dx), fg.gelu_fwd_grad(dx)], sync=True)
        pids = client.run(lambda: __import__("os").getpid())
        threads = client.run(fg.get_num_threads)
        warmed = client.run(fastgrad.compile.main, ["gelu", "--dtypes", "float32"])
    assert len(set(pids.values())) == 2
    assert list(threads.values()) == [1, 1]
    assert list(warmed.values()) == [None, None]
    np.testing.assert_array_equal(y, fg.gelu(x))
    np.testing.assert_array_equal(f, fg.gelu(x))
    np.testing.assert_array_equal(d, fg.gelu_grad(x))


def test_an_xarray_dataset_keeps_each_variables_dtype_and_the_attributes():
    """A Dataset goes variable by variable (it has no single dtype: AttributeError
    before), eager or Dask-backed, for one output and for a pair."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip("dask.array")
    a, b = np.linspace(-3, 3, 7), np.linspace(-2, 2, 7).astype(np.float32)
    ds = xr.Dataset({"a": ("x", a), "b": ("x", b)}, attrs={"units": "V"})
    got = fg.gelu(ds)
    assert got.attrs == {"units": "V"} and got.b.dtype == np.float32
    np.testing.assert_array_equal(got.a.values, fg.gelu(a))
    np.testing.assert_array_equal(got.b.values, fg.gelu(b))
    y, d = fg.gelu_fwd_grad(ds.chunk({"x": 3}))
    assert y.b.chunks is not None  # still lazy
    np.testing.assert_array_equal(d.b.values, fg.gelu_grad(b))
    np.testing.assert_array_equal(fg.gelu_backward(ds, ds).a.values, fg.gelu_backward(a, a))
