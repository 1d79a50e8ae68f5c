"""PReLU's kernels: ``y = x > 0 ? x : w[c] * x`` and its backward with the weight's
gradient reduced in the same pass over memory.

Layout. x is C-contiguous and seen as rows of ``inner`` elements (the last row may be
shorter, ``n`` elements in all); the weight an element belongs to is its channel:

- ``PER_ROW``: row r is channel ``r % channels`` (x of shape (N, C, *rest): rows of
  prod(rest) elements);
- ``PER_COLUMN``: element j of a row is channel j (x of shape (N, C), the dense layer's:
  rows of C elements, the weight a vector along each row).

One weight for the whole array is ``PER_ROW`` with one channel and rows of a fixed
length, so that the work divides among threads.

The weight's gradient, ``sum(x * grad_out)`` over each channel's elements where
``x <= 0``, is accumulated per block of rows (``rows_per_block``, fixed by the shape,
not by the thread count) in float64 into ``partials[block, channel]``; the caller sums
the blocks in order (``_prelu``). float32 products ``x * g`` are exact in float64, so a
float32 weight gradient is the correctly rounded float64 sum within the bound
``_prelu.GRAD_WEIGHT_BOUND`` states, whatever n; and the bits do not depend on the
thread count: every block is summed by one thread in one order.
"""

import types

import numba
import numpy as np

from . import _jit
from ._atomics import count_done, take_next
from ._kernels import math_digest

PER_ROW, PER_COLUMN = 0, 1
FORWARD, BACKWARD = "forward", "backward"

# A row's sum runs in this many float64 accumulators side by side (8 AVX-512 vectors,
# 16 AVX2 ones), combined in order at the row's end.
_LANES = 64


def _bound_per_kernel(*args):
    raise RuntimeError("bound per kernel by _bind")


_wide = _block = _bound_per_kernel


def _forward_block(x, w, y, inner, channels, mode, n, first, last):
    # Each row as its own 1-D slices, indexed from 0: LLVM vectorises these loops (the
    # same loops indexed from the row's start in the whole arrays ran ~20x slower).
    for r in range(first, last):
        start = r * inner
        stop = min(start + inner, n)
        xs, ys = x[start:stop], y[start:stop]
        if mode == PER_ROW:
            wr = w[r % channels]
            for i in range(xs.size):
                xi = xs[i]
                ys[i] = xi if xi > 0 else wr * xi
        else:
            for j in range(xs.size):
                xi = xs[j]
                ys[j] = xi if xi > 0 else w[j] * xi


def _backward_block(g, x, w, gx, partial, inner, channels, mode, n, first, last):
    # x * g is computed for every element, then selected: a product inside the condition
    # compiled to a branch, mispredicted on random signs (1.1 ms instead of 14 us at 1e5).
    # A row of one channel sums into _LANES float64 accumulators side by side (a vector
    # loop, as the per-column sums are), added up in order at the row's end.
    lanes = np.zeros(_LANES, np.float64)
    for r in range(first, last):
        start = r * inner
        stop = min(start + inner, n)
        gs, xs, gxs = g[start:stop], x[start:stop], gx[start:stop]
        if mode == PER_ROW:
            wr = w[r % channels]
            used = min(_LANES, xs.size)
            lanes[:used] = 0.0
            for segment in range(0, xs.size, _LANES):
                end = min(segment + _LANES, xs.size)
                x_seg, g_seg, gx_seg = xs[segment:end], gs[segment:end], gxs[segment:end]
                for k in range(x_seg.size):
                    xi, gi = x_seg[k], g_seg[k]
                    gx_seg[k] = gi if xi > 0 else wr * gi
                    product = _wide(xi) * _wide(gi)
                    lanes[k] += 0.0 if xi > 0 else product
            total = 0.0
            for k in range(used):
                total += lanes[k]
            partial[r % channels] += total
        else:
            for j in range(xs.size):
                xi, gi = xs[j], gs[j]
                gxs[j] = gi if xi > 0 else w[j] * gi
                product = _wide(xi) * _wide(gi)
                partial[j] += 0.0 if xi > 0 else product


def _forward_chunks(x, w, y, inner, channels, mode, n, rows, counters, per_block):
    last, block = False, take_next(counters, 0)
    while block * per_block < rows:
        first = block * per_block
        _block(x, w, y, inner, channels, mode, n, first, min(first + per_block, rows))
        last = count_done(counters, 1) == (rows - 1) // per_block
        block = take_next(counters, 0)
    return last


def _backward_chunks(g, x, w, gx, partials, inner, channels, mode, n, rows, counters, per_block):
    last, block = False, take_next(counters, 0)
    while block * per_block < rows:
        first = block * per_block
        partial = partials[block]
        _block(g, x, w, gx, partial, inner, channels, mode, n, first, min(first + per_block, rows))
        last = count_done(counters, 1) == (rows - 1) // per_block
        block = take_next(counters, 0)
    return last


_LOOPS = {FORWARD: (_forward_chunks, _forward_block), BACKWARD: (_backward_chunks, _backward_block)}
_COMPILED = {}


def _bind(fn, bound):
    return types.FunctionType(fn.__code__, {"__name__": __name__, "np": np, **bound})


def prelu_kernel(dtype, direction):
    """The compiled chunk loop of ``direction`` in ``dtype`` (its entry point):
    forward ``kernel(x, w, y, inner, channels, mode, n, rows, counters, per_block)``,
    backward ``kernel(g, x, w, gx, partials, inner, ..., per_block)``."""
    dtype = np.dtype(dtype)
    return _jit.built_once(_COMPILED, (dtype, direction), lambda: _build(dtype, direction))


def _build(dtype, direction):
    chunks, block = _LOOPS[direction]
    wide = _jit.scalar(lambda v: np.float64(v))
    inlined = _jit.scalar(_bind(block, {"_wide": wide, "_LANES": _LANES, "PER_ROW": PER_ROW}))
    fn = _bind(chunks, {"_block": inlined, "take_next": take_next, "count_done": count_done})
    fn.__name__ = fn.__qualname__ = f"prelu__{direction}__{dtype.name}__{math_digest()}"
    element = numba.types.Array(numba.from_dtype(dtype), 1, "C")
    i64 = numba.types.int64
    counters = numba.types.Array(i64, 1, "C")
    partials = numba.types.Array(numba.types.float64, 2, "C")
    shape = (i64, i64, i64, i64, i64, counters, i64)  # inner, channels, mode, n, rows, ...
    if direction == FORWARD:
        signature = (element, element, element, *shape)
    else:
        signature = (element, element, element, element, partials, *shape)
    dispatcher = _jit.compile_kernel(_jit.kernel(fn), signature)
    return dispatcher.overloads[dispatcher.signatures[0]].entry_point
