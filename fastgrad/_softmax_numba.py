"""``fastgrad.softmax`` and its relatives inside the user's ``@njit`` code.

On float32 or float64 arrays (copied to C order where they are not), ``dim`` an int,
``out=`` an optional C-contiguous array of the result's dtype and shape. The same loops
as the Python-level calls (their compiled kernels, ``_softmax_kernels.compiled_loop``:
nothing to compile again inside the user's function), run on the calling thread:
the results are the Python calls' bit for bit (whose bits do not depend on the thread
count). logsumexp takes one dim here (a tuple of dims: the Python call) and returns its
results as a 1-D array, the kept axes in C order (a compiled function's result has a
fixed number of dimensions); logsumexp_backward takes grad_out and result of any shape
with that many elements.
"""

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload

from . import _jit
from ._softmax import layout
from ._softmax_kernels import (
    LOG_SOFTMAX,
    LOG_SOFTMAX_BACKWARD,
    LOGSUMEXP,
    LOGSUMEXP_BACKWARD,
    SOFTMAX,
    SOFTMAX_BACKWARD,
    compiled_loop,
)


def _dtype(ty, name):
    if not isinstance(ty, types.Array) or not isinstance(ty.dtype, types.Float):
        raise errors.TypingError(f"fastgrad.{name}: float32 or float64 arrays in @njit")
    return np.float64 if ty.dtype == types.float64 else np.float32


def _given(out):
    return not (out is None or isinstance(out, (types.NoneType, types.Omitted)))


_layout = _jit.scalar(layout)


@_jit.scalar
def _geometry(shape, dim):
    """``_softmax.layout`` about axis ``dim`` (negative from the end), on one thread."""
    ndim = max(len(shape), 1)
    axis = dim + ndim if dim < 0 else dim
    if axis < 0 or axis >= ndim:
        raise ValueError("fastgrad: dim is out of range for the array")
    return _layout(shape, axis, 1)


def _forward_typer(kind, sign, name):
    def typer(x, dim, out=None):
        F = _dtype(x, name)
        with_out = _given(out)
        rows_loop = compiled_loop(F, kind, True)
        tiles_loop = compiled_loop(F, kind, False)
        s = F(sign)

        def forward(x, dim, out=None):
            xs = np.ascontiguousarray(x).reshape(-1)
            y = out if with_out else np.empty(x.shape, F)
            if y.shape != x.shape:
                raise ValueError("fastgrad: out must have x's shape")
            outer, length, inner, tile, tasks = _geometry(x.shape, dim)
            counters = np.zeros(2, np.int64)
            none = np.empty(0, F)
            args = (xs, y.reshape(-1), none, s, length, inner, tile, tasks, counters, tasks)
            if tasks and inner == 1:
                rows_loop(*args)
            elif tasks:
                tiles_loop(*args)
            return y

        return forward

    return typer


def _logsumexp_typer(x, dim, keepdim=False, out=None):
    F = _dtype(x, "logsumexp")
    with_out = _given(out)
    rows_loop = compiled_loop(F, LOGSUMEXP, True)
    tiles_loop = compiled_loop(F, LOGSUMEXP, False)

    def logsumexp(x, dim, keepdim=False, out=None):
        xs = np.ascontiguousarray(x).reshape(-1)
        outer, length, inner, tile, tasks = _geometry(x.shape, dim)
        res = out.reshape(-1) if with_out else np.empty(outer * inner, F)
        if res.size != outer * inner:
            raise ValueError("fastgrad.logsumexp: out has the wrong number of elements")
        counters = np.zeros(2, np.int64)
        args = (xs, xs, res, F(1), length, inner, tile, tasks, counters, tasks)
        if tasks and inner == 1:
            rows_loop(*args)
        elif tasks:
            tiles_loop(*args)
        return res

    return logsumexp


def _backward_typer(kind, sign, name):
    def typer(grad_out, y, dim, out=None):
        F = _dtype(y, name)
        with_out = _given(out)
        rows_loop = compiled_loop(F, kind, True)
        tiles_loop = compiled_loop(F, kind, False)
        s = F(sign)

        def backward(grad_out, y, dim, out=None):
            if grad_out.shape != y.shape:
                raise ValueError("fastgrad: grad_out must have y's shape")
            gs = np.ascontiguousarray(grad_out).astype(F).reshape(-1)
            ys = np.ascontiguousarray(y).reshape(-1)
            res = out if with_out else np.empty(y.shape, F)
            if res.shape != y.shape:
                raise ValueError("fastgrad: out must have y's shape")
            outer, length, inner, tile, tasks = _geometry(y.shape, dim)
            counters = np.zeros(2, np.int64)
            none = np.empty(0, np.float64)
            args = (gs, ys, res.reshape(-1), none, none, s, length, inner, tile, tasks)
            if tasks and inner == 1:
                rows_loop(*args, counters, tasks)
            elif tasks:
                tiles_loop(*args, counters, tasks)
            return res

        return backward

    return typer


def _logsumexp_backward_typer(grad_out, x, result, dim, out=None):
    F = _dtype(x, "logsumexp_backward")
    with_out = _given(out)
    rows_loop = compiled_loop(F, LOGSUMEXP_BACKWARD, True)
    tiles_loop = compiled_loop(F, LOGSUMEXP_BACKWARD, False)

    def logsumexp_backward(grad_out, x, result, dim, out=None):
        xs = np.ascontiguousarray(x).reshape(-1)
        outer, length, inner, tile, tasks = _geometry(x.shape, dim)
        rg = np.ascontiguousarray(grad_out).astype(np.float64).reshape(-1)
        rr = np.ascontiguousarray(result).astype(np.float64).reshape(-1)
        if rg.size != outer * inner or rr.size != outer * inner:
            raise ValueError(
                "fastgrad.logsumexp_backward: grad_out and result must have "
                "logsumexp's result shape"
            )
        res = out if with_out else np.empty(x.shape, F)
        counters = np.zeros(2, np.int64)
        args = (xs, xs, res.reshape(-1), rg, rr, F(1), length, inner, tile, tasks)
        if tasks and inner == 1:
            rows_loop(*args, counters, tasks)
        elif tasks:
            tiles_loop(*args, counters, tasks)
        return res

    return logsumexp_backward


def register_softmax(functions):
    """Make the softmax family (``{name: function}``) callable from @njit code."""
    typers = {
        "softmax": _forward_typer(SOFTMAX, 1, "softmax"),
        "softmin": _forward_typer(SOFTMAX, -1, "softmin"),
        "log_softmax": _forward_typer(LOG_SOFTMAX, 1, "log_softmax"),
        "logsumexp": _logsumexp_typer,
        "softmax_backward": _backward_typer(SOFTMAX_BACKWARD, 1, "softmax_backward"),
        "softmin_backward": _backward_typer(SOFTMAX_BACKWARD, -1, "softmin_backward"),
        "log_softmax_backward": _backward_typer(LOG_SOFTMAX_BACKWARD, 1, "log_softmax_backward"),
        "logsumexp_backward": _logsumexp_backward_typer,
    }
    for name, typer in typers.items():
        overload(functions[name], jit_options=_jit.INLINE_OPTIONS)(typer)
