"""Dask arrays and xarray objects in, the same kind out (lazy, labelled).

NumPy's ``np.exp(dask_array)`` stays lazy and ``np.exp(data_array)`` keeps its dims and
coords; fastgrad's functions are not ufuncs, so they do the same here: a Dask array gives
a Dask array computed block by block (``map_blocks``: each block is one ordinary
fastgrad call, so the results are bit for bit those of one call on the whole array), an
xarray ``DataArray`` or ``Dataset`` goes through ``xarray.apply_ufunc`` (dims, coords and
attributes kept; a Dask-backed one stays lazy). Neither library is imported unless such
an object is passed: ``is_duck`` looks at the type's module name only.
"""

import numpy as np

_PREFIXES = ("dask.", "xarray.")
# Python's numbers: beside an array they take its dtype (NumPy's rule), here and in _api
PYTHON_NUMBERS = (bool, int, float)


def is_duck(value):
    """Is ``value`` a Dask array or an xarray object (by its type's module)? (An ndarray,
    the common case on the wrappers' general path, is answered first.)"""
    kind = type(value)
    return kind is not np.ndarray and kind.__module__.startswith(_PREFIXES)


def _is_xarray(value):
    return type(value).__module__.startswith("xarray.")


def call(fn, inputs, out, params, n_out, result_dtype):
    """``fn(*inputs, **params)`` for inputs of which one at least ``is_duck``;
    ``result_dtype()`` gives the dtype of a Dask result."""
    name = fn.__name__
    if out is not None:
        raise TypeError(
            f"{name}: out= is not supported for Dask arrays or xarray objects (they are "
            "immutable or lazy): use the returned array"
        )
    if any(_is_xarray(v) for v in inputs):
        import xarray

        # fn itself takes the Dask arrays of Dask-backed objects (below), and a Dataset's
        # variables one at a time, each with its own dtype
        return xarray.apply_ufunc(
            fn,
            *inputs,
            kwargs=params,
            dask="allowed",
            output_core_dims=[[]] * n_out,
            keep_attrs=True,
        )
    import dask.array as da

    # Python numbers go to every block as they are (they take the array's dtype there)
    numbers = [type(v) in PYTHON_NUMBERS for v in inputs]
    dask_arrays = [da.asarray(v) for v, n in zip(inputs, numbers, strict=True) if not n]
    broadcast = iter(da.broadcast_arrays(*dask_arrays))
    arrays = [v if n else next(broadcast) for v, n in zip(inputs, numbers, strict=True)]
    if n_out == 1:
        return da.map_blocks(fn, *arrays, dtype=result_dtype(), **params)
    # a pair: both outputs of a block from one call, stacked on a new leading axis
    chunks = ((n_out,), *arrays[0].chunks)
    stacked = da.map_blocks(
        _stacked, *arrays, fn=fn, params=params, dtype=result_dtype(), new_axis=0, chunks=chunks
    )
    return stacked[0], stacked[1]


def _stacked(*blocks, fn, params):
    return np.stack(fn(*blocks, **params))
