"""PReLU, PyTorch's learnable leaky ReLU: ``prelu(x, weight)`` and
``prelu_backward(grad_out, x, weight) -> (grad_x, grad_weight)``.

    y = x              where x > 0
    y = weight[c] * x  elsewhere (x <= 0, -0.0 and NaN included: PyTorch's kernel)
    grad_x = grad_out where x > 0, else weight[c] * grad_out
    grad_weight[c] = sum over channel c's elements with x <= 0 of x * grad_out

The channel ``c`` of an element is its index along dimension 1 (x of shape (N, C, ...));
an x of fewer than 2 dimensions has one channel. ``weight`` has one element (for every
channel) or C, PyTorch's convention, and is used in x's dtype (PyTorch requires them
equal). At x = 0 the slope is the weight's (x > 0 is false): y = weight * 0.0, whose
sign is the weight's, as PyTorch's.

The weight's gradient is reduced in the same pass over memory as grad_x
(``_prelu_kernels``), in float64, per block of ``BLOCK_ELEMENTS``, blocks combined in
order: the same bits whatever the thread count, and within

    |error| <= 0.5 ulp (float32 results: the one final rounding)
               + GRAD_WEIGHT_BOUND(n) * sum |x * grad_out|

of the exact sum, n the elements of the channel (``grad_weight_bound``): a float32
weight gradient is correctly rounded unless the sum cancels by a factor of ~2^27.
"""

import math

import numpy as np

from . import _threads
from ._arrays import COMPUTE_DTYPE, F16, Output, _coerce, grad_out_like, separate_from
from ._prelu_kernels import BACKWARD, FORWARD, PER_COLUMN, PER_ROW, prelu_kernel

# Elements per block of the weight gradient's partial sums: a unit of work for a thread
# (1 MiB of float32 x), few enough blocks that summing their partials (C float64 each)
# costs little next to the pass (39 blocks of 1024 partials at n = 1e7).
BLOCK_ELEMENTS = 1 << 18
# One weight for all: rows of this many elements, so that the work divides into blocks.
SCALAR_ROW = 1 << 12


def grad_weight_bound(n):
    """The relative part of the weight gradient's error bound, as a multiple of
    sum |x * grad_out| (float64 rounding unit 2^-53 per sequential addition: at most
    BLOCK_ELEMENTS / 8 in a lane, 8 lanes and a row's partials, the blocks in order, and
    the product itself for float64 x)."""
    return (BLOCK_ELEMENTS + math.ceil(n / BLOCK_ELEMENTS) + 16) * 2.0**-53


# A row costs ~50 ns to start (its slices, a channel's accumulators): channel runs
# shorter than SHORT_RUN elements (x of shape (N, C, 7), or (N, 2)) are computed as rows
# of whole channel patterns instead, the weight repeated along them, PATTERN_ROW
# elements or more a row.
SHORT_RUN = 64
PATTERN_ROW = 1024


class _Layout:
    """How x's n elements are cut into rows for the kernels (``_prelu_kernels``): the
    mode, the row length ``inner``, the rows, the weight as the kernel reads it
    (per row: one per channel; per column: one per element of a row) and ``fold``, which
    turns the kernel's partial sums (one per weight it read) into one per channel."""

    def __init__(self, shape, weight_size, fn):
        n = math.prod(shape)
        channels = shape[1] if len(shape) >= 2 else 1
        if weight_size not in (1, channels):
            raise ValueError(
                f"{fn}: weight has {weight_size} elements; it must have 1 or one per "
                f"channel (x's dimension 1: {channels})"
            )
        self.n = n
        self.repeat = self.inner_run = 1
        if weight_size == 1:  # one weight: rows of a fixed length, for the threads
            self.mode, self.inner, self.channels = PER_ROW, SCALAR_ROW, 1
        else:
            run = math.prod(shape[2:])  # a channel's contiguous elements
            if run >= SHORT_RUN:
                self.mode, self.inner, self.channels = PER_ROW, run, channels
            else:  # whole patterns of channels x run, repeated to a row of PATTERN_ROW
                period = channels * run
                self.repeat = -(-PATTERN_ROW // period)
                self.inner_run = run
                self.mode, self.inner = PER_COLUMN, period * self.repeat
                self.channels = self.inner
        self.rows = -(-n // self.inner) if n else 0

    def weight(self, w):
        """The weight as the kernel reads it."""
        if self.mode == PER_ROW:
            return w
        return np.tile(np.repeat(w, self.inner_run), self.repeat)

    def fold(self, sums, weight_size):
        """One sum per channel from the kernel's per-weight sums (in a fixed order)."""
        if self.mode == PER_ROW:
            return sums[:weight_size]
        return sums.reshape(self.repeat, weight_size, self.inner_run).sum(axis=(0, 2))


def _inputs(x, weight, fn):
    """x as a C-contiguous array (its result dtype), the weight as a C-contiguous 1-D
    array in the computing dtype, the result dtype."""
    x, result = _coerce(x, fn, "x")
    w, _ = _coerce(weight, fn, "weight")
    if w.ndim > 1:
        raise ValueError(f"{fn}: weight must be a scalar or 1-D, got {w.ndim} dimensions")
    compute = COMPUTE_DTYPE[result]
    with np.errstate(over="ignore"):
        w = np.ascontiguousarray(w.reshape(-1), dtype=compute)
    return x, w, result


def _run(kernel, arrays, layout):
    per_block = max(1, BLOCK_ELEMENTS // layout.inner)
    args = (*arrays, layout.inner, layout.channels, layout.mode, layout.n, layout.rows)
    if layout.n >= _THREADS_FROM and _threads.current > 1:
        _threads.run_parallel(kernel, args, layout.rows, _threads.current, per_block)
    else:
        kernel(*args, np.zeros(2, np.int64), per_block)


# PReLU is a select and a multiply per element: memory-bound, like leaky_relu
_THREADS_FROM = _threads.parallel_min_size(True)


def prelu(x, weight, *, out=None):
    """PReLU: x where x > 0, else weight[c] * x, c the channel (dimension 1) of x.

    y = x > 0 ? x : weight[c] * x, PyTorch's kernel: at x = 0 the slope is the
    weight's, so y = weight * 0.0 carries the weight's sign; NaN stays NaN.
    weight: one element (every channel) or one per channel, x.shape[1]; an x of fewer
    than 2 dimensions has one channel. It is used in x's dtype.
    Arrays: float32, float64 (float16 computed in float32; bool and integers as np.exp
    converts them), any shape; out: an array of x's shape (may be x itself).

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> fg.prelu(np.array([[-2.0, 3.0], [1.0, -4.0]]), np.array([0.25, 0.5]))
        array([[-0.5,  3. ],
               [ 1. , -2. ]])
    """
    fn = "prelu"
    x, w, result = _inputs(x, weight, fn)
    layout = _Layout(x.shape, w.size, fn)
    if result == F16:
        x = x.astype(np.float32)
    y = Output(out, x.shape, result, COMPUTE_DTYPE[result], fn, "out")
    x = separate_from(x, y.array)
    if x.size:
        kernel = prelu_kernel(w.dtype, FORWARD)
        _run(kernel, (x.reshape(-1), layout.weight(w), y.array.reshape(-1)), layout)
    res = y.finish()
    return res[()] if res.ndim == 0 and out is None else res


def prelu_backward(grad_out, x, weight, *, out=None):
    """PReLU's backward: (grad_x, grad_weight) in one pass over memory.

    grad_x = x > 0 ? grad_out : weight[c] * grad_out
    grad_weight[c] = sum of x * grad_out over channel c's elements where not x > 0

    The weight's gradient is summed in float64 per block of rows, the blocks added in
    order: the same bits whatever the thread count, and within 0.5 ulp (float32: one
    final rounding) + ``grad_weight_bound(n)`` * sum |x * grad_out| of the exact sum
    (``fastgrad._prelu``). grad_weight has the weight's shape.
    out: a pair (grad_x, grad_weight); grad_x may be grad_out or x itself.

    Example::

        >>> import numpy as np, fastgrad as fg
        >>> x = np.array([[-2.0, 3.0], [1.0, -4.0]])
        >>> fg.prelu_backward(np.ones((2, 2)), x, np.array([0.25, 0.5]))
        (array([[0.25, 1.  ],
               [1.  , 0.5 ]]), array([-2., -4.]))
    """
    fn = "prelu_backward"
    x, w, result = _inputs(x, weight, fn)
    weight_shape = np.shape(weight)
    layout = _Layout(x.shape, w.size, fn)
    g, result = grad_out_like(grad_out, x, result, fn)
    compute = COMPUTE_DTYPE[result]
    x, g, w = (np.asarray(v, dtype=compute, order="C") for v in (x, g, w))
    if out is not None and (not isinstance(out, tuple) or len(out) != 2):
        raise TypeError(f"{fn}: out must be a pair of arrays (grad_x, grad_weight)")
    out_x, out_w = out if out is not None else (None, None)
    grad_x = Output(out_x, x.shape, result, compute, fn, "out[0]")
    grad_w = Output(out_w, weight_shape, result, compute, fn, "out[1]")
    gx, gw = grad_x.array, grad_w.array
    if out_w is not None and any(np.may_share_memory(out_w, v) for v in (gx, x, g)):
        raise ValueError(f"{fn}: out[1] must not overlap grad_x or the inputs")
    x, g = separate_from(x, gx), separate_from(g, gx)
    per_block = max(1, BLOCK_ELEMENTS // layout.inner)
    partials = np.zeros((max(1, -(-layout.rows // per_block)), layout.channels), np.float64)
    if x.size:
        kernel = prelu_kernel(compute, BACKWARD)
        arrays = (g.reshape(-1), x.reshape(-1), layout.weight(w), gx.reshape(-1), partials)
        _run(kernel, arrays, layout)
    # the blocks' partial sums added in block order (NumPy adds the rows of an axis-0
    # reduction one after another)
    sums = layout.fold(partials.sum(axis=0), w.size)
    with np.errstate(over="ignore"):
        gw[...] = sums.astype(compute).reshape(weight_shape)
    grad_x, grad_w = grad_x.finish(), grad_w.finish()
    return grad_x, grad_w[()] if grad_w.ndim == 0 and out_w is None else grad_w
