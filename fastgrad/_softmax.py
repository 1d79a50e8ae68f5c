"""Softmax, log-softmax, softmin and logsumexp along one axis, and their backward from
the output (PyTorch's names, semantics and backward contract).

    softmax(x)_i     = exp(x_i - m) / s,      s = sum_j exp(x_j - m), m = max_j x_j
    log_softmax(x)_i = (x_i - m) - log(s)
    softmin(x)       = softmax(-x)
    logsumexp(x)     = m + log(s)

    softmax_backward(g, y)     = y * (g - sum(g * y))        (y = softmax(x))
    softmin_backward(g, y)     = -y * (g - sum(g * y))       (y = softmin(x))
    log_softmax_backward(g, y) = g - exp(y) * sum(g)          (y = log_softmax(x))
    logsumexp_backward(g, x, r) = g * exp(x - r)              (r = logsumexp(x))

The max shift means no finite input overflows. Limits (where PyTorch differs, said):

- NaN anywhere in a row: the row's results are NaN (logsumexp NaN).
- One +inf in a row (no NaN): softmax is 1 there and 0 elsewhere, log_softmax 0 and
  -inf, logsumexp +inf, and logsumexp's gradient grad_out at the +inf and 0 elsewhere:
  the limits as that element grows. (PyTorch returns NaN for the whole row: inf - inf.)
  Two or more +inf: NaN (the limit depends on how they grow), logsumexp +inf.
- Only -inf in a row: softmax and log_softmax NaN (0/0; PyTorch's), logsumexp -inf.
- An empty axis: empty results; logsumexp -inf (the empty sum is 0).

Accuracy (checked against mpmath on rows of 1 to 1e5 elements, ``tests/test_softmax.py``):
x - m is carried as an exact pair into exp, the sums are float64 (compensated where
float64 or a logarithm needs it), so the error does not grow with the row's length:

- softmax, softmin: within ``SOFTMAX_ULPS`` ulps (float32 and float64).
- log_softmax: within ``LOG_SOFTMAX_ULPS`` ulps.
- logsumexp: within ``LOGSUMEXP_ULPS`` ulps of max(|result|, |m|): the result may cancel
  (m < 0 < log s), and then no method without extra-precise inputs does better: x's own
  rounding moves the result by as much (the condition number of the problem).
- The backward: within ``BACKWARD_ULPS`` ulps of the result, plus, where g - sum
  cancels, ``BACKWARD_ULPS`` ulps of y * sum|g * y| (softmax), of exp(y) * sum|g|
  (log_softmax).
"""

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from . import _threads
from ._arrays import COMPUTE_DTYPE, Output, _coerce, _overlap
from ._softmax_kernels import (
    LANES,
    LOG_SOFTMAX,
    LOG_SOFTMAX_BACKWARD,
    LOGSUMEXP,
    LOGSUMEXP_BACKWARD,
    SOFTMAX,
    SOFTMAX_BACKWARD,
    softmax_kernel,
)

# The bounds tests hold the kernels to (measured worst cases, README: well under them).
SOFTMAX_ULPS = 3
LOG_SOFTMAX_ULPS = 2
LOGSUMEXP_ULPS = 2
BACKWARD_ULPS = 4

# Columns per tile where the reduced axis is not the last: each step of a tile reads
# ``width`` contiguous elements, so wide tiles keep the loops long (a step's loop costs
# the same setup whatever its length). Each column is reduced the same way whatever the
# width: the width may follow the thread count without changing a bit.
TILE_MIN, TILE_MAX = 64, 1024
# Rows per unit of work for the threads: about this many elements.
CHUNK_ELEMENTS = 1 << 15
# A softmax is exp-bound, like the transcendental activations: threads from the same size.
_THREADS_FROM = _threads.parallel_min_size(False)


def layout(shape, axis, threads):
    """(outer, length, inner, tile, tasks): the shape about the reduced axis, the columns
    per tile and the tasks. A tile has up to TILE_MAX columns, halved (down to TILE_MIN)
    until every thread has one. Measured on an AMD EPYC (Zen 5), 2 threads, softmax
    along dim 0 of (4096, 1024) float32: 16 columns 7.1 ms, 64 5.0, 128 4.0, 256 3.4,
    512 2.8 (before the float32 tiles' exponentials and sums went to separate loops).
    Plain integer code: the @njit overloads compile the same function (``_softmax_numba``)."""
    outer = length = inner = 1
    for i in range(len(shape)):
        if i < axis:
            outer *= shape[i]
        elif i == axis:
            length = shape[i]
        else:
            inner *= shape[i]
    if inner == 1:  # rows: a task each
        return outer, length, inner, LANES, outer
    tile = min(inner, TILE_MAX)
    while tile > TILE_MIN and outer * ((inner + tile - 1) // tile) < threads:
        tile //= 2
    return outer, length, inner, tile, outer * ((inner + tile - 1) // tile)


class _Geometry:
    """x's shape as (outer, length, inner) about the reduced axis, and its tasks."""

    def __init__(self, shape, axis):
        self.outer, self.length, self.inner, self.tile, self.tasks = layout(
            shape, axis, _threads.current
        )
        # rows: about CHUNK_ELEMENTS a unit of work; tiles: one each
        self.per_chunk = max(1, CHUNK_ELEMENTS // max(1, self.length)) if self.inner == 1 else 1
        self.size = self.outer * self.length * self.inner

    def run(self, kind, compute, arrays, sign):
        """Run ``kind``'s kernel in ``compute`` over the tasks, on threads if large."""
        if self.tasks == 0:
            return
        kernel = softmax_kernel(compute, kind, self.inner == 1)
        args = (*arrays, compute.type(sign), self.length, self.inner, self.tile, self.tasks)
        if self.size >= _THREADS_FROM and self.tasks > 1 and _threads.current > 1:
            _threads.run_parallel(kernel, args, self.tasks, _threads.current, self.per_chunk)
        else:
            kernel(*args, np.zeros(2, np.int64), self.per_chunk)


def _axis(dim, axis, ndim, fn):
    """The reduced axis, from PyTorch's ``dim`` or NumPy's ``axis`` (one of them)."""
    if dim is not None and axis is not None:
        raise TypeError(f"{fn}: give dim or axis, not both")
    chosen = dim if dim is not None else axis
    if chosen is None:
        raise TypeError(f"{fn}: dim is required (the axis to reduce along)")
    if isinstance(chosen, bool) or not isinstance(chosen, (int, np.integer)):
        raise TypeError(f"{fn}: dim must be an int, got {type(chosen).__name__}")
    return normalize_axis_index(int(chosen), max(ndim, 1))


def _apart(v, *outs):
    """v, or a copy where it shares memory with an output without being it element for
    element (in place, an element is read before it is written; a shifted overlap would
    read what another element's pass wrote)."""
    for out in outs:
        if v is out or not _overlap(v, out):
            continue
        same = v.shape == out.shape and v.ctypes.data == out.ctypes.data
        if not same or v.strides != out.strides:
            return v.copy()
    return v


def _finish(y, out):
    res = y.finish()
    return res[()] if res.ndim == 0 and out is None else res


def _forward(kind, x, dim, axis, out, sign, fn):
    x, result = _coerce(x, fn, "x")
    ax = _axis(dim, axis, x.ndim, fn)
    compute = COMPUTE_DTYPE[result]
    x = x.astype(compute, copy=False)
    y = Output(out, x.shape, result, compute, fn, "out")
    x = _apart(x, y.array)
    geometry = _Geometry(x.shape or (1,), ax)
    dummy = np.empty(0, compute)
    flat = (x.reshape(-1), y.array.reshape(-1), dummy)
    geometry.run(kind, compute, flat, sign)
    return _finish(y, out)


def softmax(x, dim=None, *, axis=None, out=None):
    """Softmax along ``dim``: y = exp(x - max) / sum(exp(x - max)).

    PyTorch's ``torch.nn.functional.softmax(x, dim)``; ``axis=`` is accepted for
    ``dim`` (SciPy's name). Computed as exp(d + d_lo) * 2^L / s * 2^-L with
    d + d_lo = x - max exactly and s summed in float64: no overflow for any finite x,
    within ``SOFTMAX_ULPS`` ulps. A row with one +inf is one-hot there (PyTorch: NaN),
    NaN makes its row NaN, a row of -inf is NaN (``fastgrad._softmax``).
    Arrays: float32, float64 (float16 computed in float32), any shape and strides;
    ``out=`` an array of x's shape, which may be x itself.
    Derivative: ``softmax_backward(grad_out, y, dim)``.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> fg.softmax(np.array([[0.0, np.log(3.0)], [1000.0, 1000.0]]), dim=-1)
        array([[0.25, 0.75],
               [0.5 , 0.5 ]])
    """
    return _forward(SOFTMAX, x, dim, axis, out, 1, "softmax")


def softmin(x, dim=None, *, axis=None, out=None):
    """Softmin along ``dim``: softmax(-x) (PyTorch's ``F.softmin``), within
    ``SOFTMAX_ULPS`` ulps; -inf plays the role softmax's +inf does.
    Derivative: ``softmin_backward(grad_out, y, dim)``.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> fg.softmin(np.array([0.0, np.log(3.0)]), dim=0)
        array([0.75, 0.25])
    """
    return _forward(SOFTMAX, x, dim, axis, out, -1, "softmin")


def log_softmax(x, dim=None, *, axis=None, out=None):
    """Log-softmax along ``dim``: y = (x - max) - log(sum(exp(x - max))).

    PyTorch's ``F.log_softmax``. log(s) is log1p(s - 1), with s - 1 from compensated
    sums (full precision where s is near 1: one dominant element); y within
    ``LOG_SOFTMAX_ULPS`` ulps. One +inf: 0 there, -inf elsewhere (PyTorch: NaN).
    Derivative: ``log_softmax_backward(grad_out, y, dim)``.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> fg.log_softmax(np.array([0.0, 0.0, 0.0, 0.0]), dim=0)
        array([-1.38629436, -1.38629436, -1.38629436, -1.38629436])
    """
    return _forward(LOG_SOFTMAX, x, dim, axis, out, 1, "log_softmax")


def _reduced_layout(x, dim, axis, fn):
    """(x with the reduced axes as one axis, that axis, the result's shape with and
    without keepdim). Several axes are moved last and copied as one."""
    chosen = dim if dim is not None else axis
    if dim is not None and axis is not None:
        raise TypeError(f"{fn}: give dim or axis, not both")
    if chosen is None:
        raise TypeError(f"{fn}: dim is required (an axis or a tuple of axes)")
    if isinstance(chosen, (tuple, list)):
        for a in chosen:
            if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
                raise TypeError(f"{fn}: dim must hold ints, got {type(a).__name__}")
        axes = normalize_axis_tuple(tuple(int(a) for a in chosen), max(x.ndim, 1))
    else:
        axes = (_axis(chosen, None, x.ndim, fn),)
    shape = x.shape or (1,)
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    dropped = tuple(n for i, n in enumerate(shape) if i not in axes)
    if len(axes) == 1:
        return x.reshape(shape), axes[0], kept, dropped, axes
    rest = [i for i in range(len(shape)) if i not in axes]
    moved = np.ascontiguousarray(x.reshape(shape).transpose(*rest, *axes))
    joined = moved.reshape(*dropped, -1)
    return joined, len(dropped), kept, dropped, axes


def logsumexp(x, dim=None, keepdim=False, *, axis=None, out=None):
    """log(sum(exp(x))) along ``dim`` (an int or a tuple of ints): m + log(s).

    PyTorch's ``torch.logsumexp(x, dim, keepdim)`` (``axis=`` for SciPy's
    ``scipy.special.logsumexp(x, axis)``). Within ``LOGSUMEXP_ULPS`` ulps of
    max(|result|, |max(x)|). +inf in a row gives +inf, a row of -inf (or an empty one)
    -inf, NaN NaN. ``out=``: an array of the result's shape.
    Derivative: ``logsumexp_backward(grad_out, x, result, dim, keepdim)``.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> fg.logsumexp(np.array([[1000.0, 1000.0], [0.0, -np.inf]]), dim=1)
        array([1000.69314718,    0.        ])
    """
    fn = "logsumexp"
    x, result = _coerce(x, fn, "x")
    compute = COMPUTE_DTYPE[result]
    x = x.astype(compute, copy=False)
    joined, ax, kept, dropped, _ = _reduced_layout(x, dim, axis, fn)
    shape = kept if keepdim else dropped
    if x.ndim == 0:
        shape = ()
    res = Output(out, shape, result, compute, fn, "out")
    geometry = _Geometry(joined.shape, ax)
    flat = (joined.reshape(-1), joined.reshape(-1), res.array.reshape(-1))
    if geometry.tasks:
        geometry.run(LOGSUMEXP, compute, flat, 1)
    return _finish(res, out)


def _pair(grad_out, y, fn, what):
    """grad_out and y as C-contiguous arrays of y's shape in their common dtype."""
    y, y_result = _coerce(y, fn, what)
    if type(grad_out) in (int, float):  # NumPy's rule: a Python number takes y's dtype
        g, g_result = np.asarray(grad_out, y_result), y_result
    else:
        g, g_result = _coerce(grad_out, fn, "grad_out")
    if g.shape != y.shape:
        try:
            g = np.broadcast_to(g, y.shape)
        except ValueError:
            raise ValueError(
                f"{fn}: grad_out has shape {g.shape}, {what} has shape {y.shape}"
            ) from None
    result = np.promote_types(y_result, g_result)
    compute = COMPUTE_DTYPE[result]
    g, y = (np.asarray(v, dtype=compute, order="C") for v in (g, y))
    return g, y, result, compute


def _backward(kind, grad_out, y, dim, axis, out, sign, fn):
    g, y, result, compute = _pair(grad_out, y, fn, "y")
    ax = _axis(dim, axis, y.ndim, fn)
    res = Output(out, y.shape, result, compute, fn, "out")
    g, y = _apart(g, res.array), _apart(y, res.array)
    geometry = _Geometry(y.shape or (1,), ax)
    none = np.empty(0, np.float64)
    flat = (g.reshape(-1), y.reshape(-1), res.array.reshape(-1), none, none)
    geometry.run(kind, compute, flat, sign)
    return _finish(res, out)


def softmax_backward(grad_out, y, dim=None, *, axis=None, out=None):
    """Softmax's backward from its output (PyTorch's ``_softmax_backward_data``):
    grad_x = y * (grad_out - sum(grad_out * y)) along ``dim``, y = softmax(x, dim).

    The row's sum in float64 (compensated for float64, its products exact), so the
    error does not grow with the row; within ``BACKWARD_ULPS`` ulps (``_softmax``).
    ``out=`` may be grad_out or y itself.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> y = fg.softmax(np.array([0.0, np.log(3.0)]), dim=0)
        >>> fg.softmax_backward(np.array([1.0, 0.0]), y, dim=0)
        array([ 0.1875, -0.1875])
    """
    return _backward(SOFTMAX_BACKWARD, grad_out, y, dim, axis, out, 1, "softmax_backward")


def softmin_backward(grad_out, y, dim=None, *, axis=None, out=None):
    """Softmin's backward from its output: -y * (grad_out - sum(grad_out * y)),
    y = softmin(x, dim).

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> y = fg.softmin(np.array([0.0, np.log(3.0)]), dim=0)
        >>> fg.softmin_backward(np.array([1.0, 0.0]), y, dim=0)
        array([-0.1875,  0.1875])
    """
    return _backward(SOFTMAX_BACKWARD, grad_out, y, dim, axis, out, -1, "softmin_backward")


def log_softmax_backward(grad_out, y, dim=None, *, axis=None, out=None):
    """Log-softmax's backward from its output (PyTorch's
    ``_log_softmax_backward_data``): grad_x = grad_out - exp(y) * sum(grad_out) along
    ``dim``, y = log_softmax(x, dim). ``out=`` may be grad_out or y itself.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> y = fg.log_softmax(np.array([0.0, np.log(3.0)]), dim=0)
        >>> fg.log_softmax_backward(np.array([1.0, 0.0]), y, dim=0)
        array([ 0.75, -0.75])
    """
    return _backward(LOG_SOFTMAX_BACKWARD, grad_out, y, dim, axis, out, 1, "log_softmax_backward")


def logsumexp_backward(grad_out, x, result, dim=None, keepdim=False, *, axis=None, out=None):
    """logsumexp's backward (PyTorch's ``logsumexp_backward``): grad_x = grad_out *
    exp(x - result), grad_out and result of logsumexp's result shape (``keepdim`` as
    in the forward), broadcast along the reduced axes. At a row's lone +inf the
    gradient is grad_out (softmax's limit), NaN where several +inf make it undefined.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> x = np.array([0.0, np.log(3.0)])
        >>> fg.logsumexp_backward(1.0, x, fg.logsumexp(x, 0), 0)
        array([0.25, 0.75])
    """
    fn = "logsumexp_backward"
    x, x_result = _coerce(x, fn, "x")
    joined, ax, kept, dropped, axes = _reduced_layout(x, dim, axis, fn)
    reduced = kept if keepdim else dropped
    if x.ndim == 0:
        reduced = ()
    parts = []
    for value, what in ((grad_out, "grad_out"), (result, "result")):
        if type(value) in (int, float):
            v, v_result = np.asarray(value, x_result), x_result
        else:
            v, v_result = _coerce(value, fn, what)
        try:
            v = np.broadcast_to(v, reduced)
        except ValueError:
            raise ValueError(
                f"{fn}: {what} has shape {v.shape}, logsumexp's result has shape {reduced}"
            ) from None
        parts.append((v, v_result))
    result_dtype = np.result_type(x_result, *(r for _, r in parts))
    compute = COMPUTE_DTYPE[result_dtype]
    rg, rr = (np.ascontiguousarray(v, dtype=np.float64).reshape(-1) for v, _ in parts)
    joined = np.asarray(joined, dtype=compute, order="C")
    res = Output(out, x.shape, result_dtype, compute, fn, "out")
    several = len(axes) > 1
    target = np.empty(joined.shape, compute) if several else res.array.reshape(joined.shape)
    joined = _apart(joined, target)
    geometry = _Geometry(joined.shape, ax)
    flat = (joined.reshape(-1), joined.reshape(-1), target.reshape(-1), rg, rr)
    geometry.run(LOGSUMEXP_BACKWARD, compute, flat, 1)
    if several:  # back from (kept axes..., reduced axes joined) to x's layout
        shape = x.shape or (1,)
        rest = [i for i in range(len(shape)) if i not in axes]
        moved = target.reshape(*(shape[i] for i in rest), *(shape[i] for i in axes))
        res.array[...] = np.moveaxis(moved, range(len(rest), len(shape)), axes).reshape(
            res.array.shape
        )
    return _finish(res, out)


# fastgrad's public functions of this module (``fastgrad.__init__``, the @njit overloads)
PUBLIC = (
    softmax,
    softmin,
    log_softmax,
    logsumexp,
    softmax_backward,
    softmin_backward,
    log_softmax_backward,
    logsumexp_backward,
)
