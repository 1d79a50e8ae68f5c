"""The arrays of a call: NumPy's dtype policy, coercion and broadcasting of the inputs,
the checks of ``out=``, and results written through a temporary where a kernel cannot
write into ``out`` itself (strided, float16 through float32, another byte order).

Dtype policy (NumPy's, as for ``np.exp``): float32 and float64 compute in their own
precision; float16 computes in float32 and returns float16; bool and integers become
the smallest float that holds all their values (bool, int8 and uint8: float16; int16
and uint16: float32; wider: float64); anything else (complex, object, strings,
datetimes) is a TypeError. Errors are
raised before anything is written.
"""

import numpy as np

from . import _duck

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
# the dtype each array dtype computes in: float16 in float32 (``fastgrad._run.run_half``)
COMPUTE_DTYPE = {F16: F32, F32: F32, F64: F64}
_NATIVE_FLOATS = {2: F16, 4: F32, 8: F64}


def _result_dtype(dtype, fn, what):
    if dtype.kind == "f" and dtype.itemsize in (2, 4, 8):
        # the canonical native dtype object (``dtype.name`` is slow: avoid it when native)
        return _NATIVE_FLOATS[dtype.itemsize] if dtype.isnative else np.dtype(dtype.name)
    if dtype.kind in "biu":  # the smallest float holding every value, as np.exp's loops
        return np.promote_types(dtype, F16)
    raise TypeError(
        f"{fn}: {what} has dtype {dtype}, which fastgrad does not support; "
        "use float16, float32 or float64 (bool and integers are converted to float, as "
        "np.exp converts them)"
    )


def _coerce(x, fn, what):
    """(C-contiguous array in the result dtype, result dtype) for any input."""
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError, RuntimeError) as exc:  # RuntimeError: a torch
            # tensor that requires grad refuses conversion
            raise TypeError(f"{fn}: {what} is not an array of numbers ({exc})") from None
    result = _result_dtype(x.dtype, fn, what)
    return np.asarray(x, dtype=result, order="C"), result


def _grad_out_array(grad_out, result, fn):
    """(grad_out as a C-contiguous array, its result dtype): NumPy's rule, a Python number
    takes ``result`` (x's dtype), quietly inf where too large for it."""
    if type(grad_out) not in _duck.PYTHON_NUMBERS:
        return _coerce(grad_out, fn, "grad_out")
    try:
        with np.errstate(over="ignore"):  # 1e300 in float32: inf, quietly
            return np.asarray(grad_out, dtype=result), result
    except OverflowError:
        raise ValueError(f"{fn}: grad_out {grad_out!r:.40} is too large for a float") from None


def coerce_pair(grad_out, x, fn, what="x"):
    """Both inputs as C-contiguous arrays of one shape (NumPy's broadcasting: a smaller
    grad_out, or x, is repeated) and the result dtype; except where x has the broadcast
    shape and grad_out is one element, or one period of x's trailing axes (a row of a
    matrix x): it stays as it is (flat), and ``_run``'s ``run_repeated_grad_out``
    repeats it a block at a time: no array of x's size."""
    x, x_result = _coerce(x, fn, what)
    g, g_result = _grad_out_array(grad_out, x_result, fn)
    if g.shape != x.shape:
        try:
            shape = np.broadcast_shapes(g.shape, x.shape)
        except ValueError:
            raise ValueError(
                f"{fn}: grad_out and {what} must have broadcastable shapes, got {g.shape} "
                f"and {x.shape}"
            ) from None
        if g.size == 1 and shape == x.shape:
            g = g.reshape(1)
        elif shape == x.shape and _tiles(g.shape, shape):
            g = np.ascontiguousarray(g).reshape(-1)  # one period (``_run``)
        else:
            g = np.ascontiguousarray(np.broadcast_to(g, shape))
            x = np.ascontiguousarray(np.broadcast_to(x, shape))
    if g_result is x_result:
        return g, x, x_result
    result = np.promote_types(g_result, x_result)
    return g.astype(result, copy=False), x.astype(result, copy=False), result


def direct_out(out, like):
    """Can the kernel write straight into ``out``? (ndarray, like's dtype and shape,
    C-contiguous, writeable). Anything else goes through ``check_out``."""
    if type(out) is not np.ndarray or out.dtype is not like.dtype or out.shape != like.shape:
        return False
    flags = out.flags
    return flags.c_contiguous and flags.writeable


def writable_1d(out, dtype, size):
    """``direct_out`` for a 1-D result, testing ints instead of shape tuples (fast paths)."""
    if type(out) is not np.ndarray or out.dtype is not dtype or out.ndim != 1 or out.size != size:
        return False
    flags = out.flags
    return flags.c_contiguous and flags.writeable


def _tiles(small, shape):
    """Is an array of shape ``small``, broadcast to ``shape``, its C-order elements
    repeated whole (``small`` is ``shape``'s trailing axes, after leading 1s)?"""
    padded = (1,) * (len(shape) - len(small)) + tuple(small)
    first = next((i for i, n in enumerate(padded) if n != 1), len(padded))
    return padded[first:] == tuple(shape[first:])


def duck_dtype(inputs, fn):
    """The result dtype for Dask/xarray inputs, by the dtype policy (a Python number
    beside them takes the array's dtype, as in NumPy)."""
    arrays = [v for v in inputs if type(v) not in _duck.PYTHON_NUMBERS]
    return np.result_type(*(_result_dtype(np.dtype(v.dtype), fn, "input") for v in arrays))


def check_out(out, shape, dtype, fn, what="out"):
    """Raise for an unusable ``out``; a usable one is written through a temporary."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: {what} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype and out.dtype.newbyteorder("=") != dtype:  # any byte order
        raise TypeError(f"{fn}: {what} has dtype {out.dtype}, the result's dtype is {dtype}")
    if out.shape != shape:
        raise ValueError(f"{fn}: {what} has shape {out.shape}, the result's shape is {shape}")
    if not out.flags.writeable:
        raise ValueError(f"{fn}: {what} is read-only")


def flattened(a):
    return a if a.ndim == 1 else a.reshape(-1)


def finish(res, result):
    """Cast a computed array to the result dtype; 0-d gives a NumPy scalar, as ufuncs do."""
    if res.dtype is not result:
        with np.errstate(over="ignore", under="ignore"):  # float32 -> float16: quietly
            res = res.astype(result)
    return res if res.ndim else res[()]


def store(out, res):
    """Copy a temporary result into a strided or float16 ``out``."""
    with np.errstate(over="ignore", under="ignore"):
        out[...] = res


def as_array(x, fn):
    """(C-contiguous float32/float64 array, result dtype): ``x`` itself when it is one."""
    if type(x) is np.ndarray and (x.dtype is F32 or x.dtype is F64) and x.flags.c_contiguous:
        return x, x.dtype
    return _coerce(x, fn, "x")


# An ``out`` the kernel cannot write itself (strided, float16 through float32, another
# byte order) is filled a block of rows at a time through buffers of at most this many
# elements (4 MiB of float32), not through a temporary of the whole result. Large enough
# that a block is one parallel call worth its threads' start (~40 us): 2^20 elements of
# the cheapest kernel take ~100 us on two threads.
OUT_BLOCK = 1 << 20


def _in_row_blocks(kernel, inputs, outs, like, a, b):
    """``kernel(*inputs, *buffers, a, b)`` block by block of like's leading axis, each
    block's results stored into the outs' rows (which do not overlap each other: the
    callers check)."""
    shape = like.shape
    row = like.size // shape[0] if shape[0] else 0
    per = max(1, OUT_BLOCK // max(row, 1))
    buffers = [np.empty(min(shape[0], per) * row, like.dtype) for _ in outs]
    for first in range(0, shape[0], per):
        last = min(shape[0], first + per)
        lo, hi = first * row, last * row
        parts = [buffer[: hi - lo] for buffer in buffers]
        # a grad_out of one element or one period of a row (repeated by its kernel)
        # goes whole to every block: each block starts on a row
        pieces = [v if v.size != like.size else v[lo:hi] for v in inputs]
        kernel(*pieces, *parts, a, b)
        for o, part in zip(outs, parts, strict=True):
            store(o[first:last], part.reshape((last - first, *shape[1:])))


def _overlap(a, b):
    """Do two arrays share memory? Exactly for the usual strided views (interleaved
    columns, the two halves of a packed array do not), assumed so where the answer takes
    too long to find. (The bounds first: a quarter of a microsecond when they part.)"""
    if not np.may_share_memory(a, b):
        return False
    try:
        return np.shares_memory(a, b, max_work=_OVERLAP_WORK)
    except np.exceptions.TooHardError:
        return True


# The most work ``np.shares_memory`` may do before ``_overlap`` assumes an overlap.
_OVERLAP_WORK = 1 << 12


def _blockwise(out_arrays, inputs, like):
    """Can results go to the outs block by block? Not for 0-d results, nor where an
    out may share memory with an input (a later block would read what an earlier one
    wrote: those go through a whole temporary, NumPy's rule)."""
    return like.ndim > 0 and not any(_overlap(o, v) for o in out_arrays for v in inputs)


def into_out(kernel, inputs, like, result, out, a, b, fn_name):
    """Run a one-output kernel on flat ``inputs`` into ``out``."""
    if direct_out(out, like):
        kernel(*inputs, flattened(out), a, b)
        return out
    check_out(out, like.shape, result, fn_name)
    if _blockwise((out,), inputs, like):
        _in_row_blocks(kernel, inputs, (out,), like, a, b)
        return out
    res = np.empty_like(like)
    kernel(*inputs, flattened(res), a, b)
    store(out, res)
    return out


def into_pair(kernel, x_flat, like, result, out, a, b, fn_name, overlap):
    """Run a pair kernel (one input, (y, dy/dx) out) on ``x_flat``, into new arrays or the
    pair ``out``. The kernel itself refuses overlapping outputs (it returns False before
    writing); ``overlap`` is the error's message."""
    if out is None:
        y, d = np.empty_like(like), np.empty_like(like)
        kernel(x_flat, flattened(y), flattened(d), a, b)
        return finish(y, result), finish(d, result)
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"{fn_name}: out must be a pair of arrays (y_out, grad_out)")
    y_out, d_out = out
    if direct_out(y_out, like) and direct_out(d_out, like):
        if not kernel(x_flat, flattened(y_out), flattened(d_out), a, b):
            raise ValueError(overlap)
        return out
    check_out(y_out, like.shape, result, fn_name, "out[0]")
    check_out(d_out, like.shape, result, fn_name, "out[1]")
    if _overlap(y_out, d_out):
        raise ValueError(overlap)
    if _blockwise(out, (x_flat,), like):
        _in_row_blocks(kernel, (x_flat,), out, like, a, b)
        return out
    y, d = np.empty_like(like), np.empty_like(like)
    kernel(x_flat, flattened(y), flattened(d), a, b)
    store(y_out, y)
    store(d_out, d)
    return out


class Output:
    """An output of a call whose kernel writes whole arrays (the gated activations,
    PReLU): ``array``, ``out`` itself where the kernel can write it (C-contiguous, native,
    the computing dtype), else a new array, stored into ``out`` (checked first) by
    ``finish``, which returns the result (a new one in the result dtype)."""

    def __init__(self, out, shape, result, compute, fn, what):
        self.out = out
        if out is not None:
            check_out(out, shape, result, fn, what)
        direct = (
            out is not None
            and out.dtype == compute
            and out.dtype.isnative
            and out.flags.c_contiguous
        )
        self.array = out if direct else np.empty(shape, compute)
        self.result = result

    def finish(self):
        if self.out is not None:
            if self.array is not self.out:
                store(self.out, self.array)
            return self.out
        if self.array.dtype != self.result:
            with np.errstate(over="ignore", under="ignore"):
                return self.array.astype(self.result)
        return self.array


def grad_out_like(grad_out, x, result, fn, what="x"):
    """(grad_out as a C-contiguous array of x's shape, the result dtype promoted with
    grad_out's): a smaller grad_out is broadcast (NumPy's rule), a Python number takes
    ``result``, x's dtype. For the calls whose kernels take whole arrays (PReLU, the bias
    epilogue); the element-wise ones repeat a period instead (``coerce_pair``)."""
    g, g_result = _grad_out_array(grad_out, result, fn)
    if g.shape != x.shape:
        try:
            g = np.ascontiguousarray(np.broadcast_to(g, x.shape))
        except ValueError:
            raise ValueError(
                f"{fn}: grad_out has shape {g.shape}, {what} has shape {x.shape}"
            ) from None
    return g, np.promote_types(result, g_result)


def separate_from(x, *outs, same_ok=True):
    """x, or a copy of it where it shares memory with one of ``outs`` (a kernel writing
    that out would change what it reads later); with ``same_ok`` an out that *is* x
    (the same start and size: the kernels' in-place loops read it) keeps x."""
    for out in outs:
        if not np.may_share_memory(x, out):
            continue
        same = (
            x.__array_interface__["data"][0] == out.__array_interface__["data"][0]
            and x.size == out.size
        )
        if not (same_ok and same):
            return x.copy()
    return x
