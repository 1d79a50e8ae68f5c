"""The dense-layer epilogue's kernels: bias + activation in one pass over memory.

    forward:   y = f(h + b)                      (h + b rounded to the dtype first)
    fwd_grad:  y = f(h + b), d = f'(h + b)
    backward:  grad_h = grad_out * f'(h + b),  grad_b = sum of grad_h over the rows
    backward_from_grad: the same from the saved d = f'(h + b): grad_h = grad_out * d

Layout. h is C-contiguous and seen as ``rows`` rows of ``inner`` elements (the last row
may be shorter: ``n`` elements in all); element j of a row takes bias element j. A dense
layer's h of shape (N, C) is N rows of C, the bias as given; a row of fewer than
``_bias.SHORT_ROW`` elements is made longer by the caller, which repeats the bias along it
(rows of several of h's rows), so that a row's start (its slices, ~50 ns) stays small next
to its loop.

One compiled function per (activation, variant, accuracy level, dtype, direction): the
chunk loop of ``_threads.run_parallel``, whose unit of work is a block of ``per_block``
rows (fixed by the shape, not by the thread count); a serial call is one thread taking
every block. Each element is computed by the loop bodies below, written as the
element-wise kernels' are (``_templates``: ``_f(h + b)``, ``_times(g, _df(h + b))``), so
the forward and grad_h have the bits of the unfused ``f(h + b)`` and
``f_backward(grad_out, h + b)`` whatever the chunking.

The bias gradient. Block k of the backward adds its rows' grad_h into
``partials[k]`` (float64, one per bias element: exact for float32 values, rounded to
2^-53 for float64 ones); the caller adds the blocks' partials in block order
(``_bias``). Every block is summed by one thread in one order: the bits do not depend on
the thread count.

Aliasing. An output may *be* an input element for element (``out=h``; the backward's
grad_h over grad_out or h): those rows run a loop that reads and writes that array only,
so LLVM's runtime alias check does not send them to its scalar loop. Outputs that
partly overlap an input are separated by the caller before the kernel runs.
"""

import types

import numba
import numpy as np

from . import _jit
from ._accuracy import ACCURATE
from ._atomics import count_done, take_next
from ._kernels import kernel_set, math_digest
from ._kinds import DERIVATIVE_SCALAR, FORWARD_SCALAR, GRADIENT_PRODUCT


def _bound_per_kernel(*args):
    raise RuntimeError("a bias loop's name, bound per kernel by _bind")


_f = _df = _times = _cast = _wide = _block = _bound_per_kernel


# ------------------------------------------------------------------ forward: y = f(h + b)
# Each row as its own 1-D slices, indexed from 0: LLVM vectorises these loops (indexed
# from the row's start in the whole arrays they ran ~20x slower, ``_prelu_kernels``).


def _forward_block(h, bias, y, inner, n, first, last, a, b):
    in_place = y.ctypes.data == h.ctypes.data
    for r in range(first, last):
        start = r * inner
        stop = min(start + inner, n)
        if in_place:
            ys = y[start:stop]
            for j in range(ys.size):
                ys[j] = _f(ys[j] + bias[j], a, b)
        else:
            hs, ys = h[start:stop], y[start:stop]
            for j in range(ys.size):
                ys[j] = _f(hs[j] + bias[j], a, b)


# ------------------------------------------------- fwd_grad: y = f(h + b), d = f'(h + b)


def _fwd_grad_block(h, bias, y, d, inner, n, first, last, a, b):
    in_place = y.ctypes.data == h.ctypes.data
    for r in range(first, last):
        start = r * inner
        stop = min(start + inner, n)
        ys, ds = y[start:stop], d[start:stop]
        if in_place:
            for j in range(ys.size):
                v = ys[j] + bias[j]
                ys[j] = _f(v, a, b)
                ds[j] = _df(v, a, b)
        else:
            hs = h[start:stop]
            for j in range(ys.size):
                v = hs[j] + bias[j]
                ys[j] = _f(v, a, b)
                ds[j] = _df(v, a, b)


# ---------------------------- backward: grad_h = grad_out * f'(h + b), grad_b's partials
# Rows in groups of SUM_GROUP: each row's grad_h, then the group's sum into the partials
# while its rows are in L1 (``_sum_rows``). One loop doing both did not vectorise the
# activation (gelu's backward ran 2.2x slower); a row's sum at a time cost more than
# sigmoid's derivative (its backward 2.4x slower).


def _sum_rows(gh, partial, inner, n, group, group_end):
    """Rows group..group_end of gh added into the partials: (r0 + r1) + (r2 + r3) per
    element for a whole group (a quarter of the partials' loads and stores), row by row
    for a short one."""
    start = group * inner
    if group_end - group == SUM_GROUP and start + SUM_GROUP * inner <= n:
        r0, r1 = gh[start : start + inner], gh[start + inner : start + 2 * inner]
        r2, r3 = (
            gh[start + 2 * inner : start + 3 * inner],
            gh[start + 3 * inner : start + 4 * inner],
        )
        for j in range(inner):
            partial[j] += (_wide(r0[j]) + _wide(r1[j])) + (_wide(r2[j]) + _wide(r3[j]))
    else:
        for r in range(group, group_end):
            ghs = gh[r * inner : min(r * inner + inner, n)]
            for j in range(ghs.size):
                partial[j] += _wide(ghs[j])


def _backward_block(g, h, bias, gh, partial, inner, n, first, last, a, b):
    into_g = gh.ctypes.data == g.ctypes.data
    into_h = gh.ctypes.data == h.ctypes.data
    for group in range(first, last, SUM_GROUP):
        group_end = min(group + SUM_GROUP, last)
        for r in range(group, group_end):
            start = r * inner
            stop = min(start + inner, n)
            ghs = gh[start:stop]
            if into_g:
                hs = h[start:stop]
                for j in range(ghs.size):
                    ghs[j] = _times(ghs[j], _df(hs[j] + bias[j], a, b))
            elif into_h:
                gs = g[start:stop]
                for j in range(ghs.size):
                    ghs[j] = _times(gs[j], _df(ghs[j] + bias[j], a, b))
            else:
                gs, hs = g[start:stop], h[start:stop]
                for j in range(ghs.size):
                    ghs[j] = _times(gs[j], _df(hs[j] + bias[j], a, b))
        _sum_rows(gh, partial, inner, n, group, group_end)


# ------------------- backward from the saved derivative: grad_h = grad_out * d, partials


def _backward_from_grad_block(g, d, gh, partial, inner, n, first, last, a, b):
    # grad_h and its sums row group by row group, as ``_backward_block``: the same
    # additions in the same order, so both backwards give grad_b's bits
    into_g = gh.ctypes.data == g.ctypes.data
    into_d = gh.ctypes.data == d.ctypes.data
    for group in range(first, last, SUM_GROUP):
        group_end = min(group + SUM_GROUP, last)
        for r in range(group, group_end):
            start = r * inner
            stop = min(start + inner, n)
            ghs = gh[start:stop]
            if into_g:
                ds = d[start:stop]
                for j in range(ghs.size):
                    ghs[j] = _times(ghs[j], ds[j])
            elif into_d:
                gs = g[start:stop]
                for j in range(ghs.size):
                    ghs[j] = _times(gs[j], ghs[j])
            else:
                gs, ds = g[start:stop], d[start:stop]
                for j in range(ghs.size):
                    ghs[j] = _times(gs[j], ds[j])
        _sum_rows(gh, partial, inner, n, group, group_end)


# ------------------------------------------------------------------ the chunk loops
# What every thread of a call runs (``_threads.run_parallel``): take the next block number
# until none is left, compute that block's rows, count it done; True when this thread
# finished the call's last block.


def _forward_chunks(h, bias, y, inner, n, rows, a, b, counters, per_block):
    a, b = _cast(a), _cast(b)
    last, block = False, take_next(counters, 0)
    while block * per_block < rows:
        first = block * per_block
        _block(h, bias, y, inner, n, first, min(first + per_block, rows), a, b)
        last = count_done(counters, 1) == (rows - 1) // per_block
        block = take_next(counters, 0)
    return last


def _fwd_grad_chunks(h, bias, y, d, inner, n, rows, a, b, counters, per_block):
    a, b = _cast(a), _cast(b)
    last, block = False, take_next(counters, 0)
    while block * per_block < rows:
        first = block * per_block
        _block(h, bias, y, d, inner, n, first, min(first + per_block, rows), a, b)
        last = count_done(counters, 1) == (rows - 1) // per_block
        block = take_next(counters, 0)
    return last


def _backward_from_grad_chunks(g, d, gh, partials, inner, n, rows, a, b, counters, per_block):
    a, b = _cast(a), _cast(b)
    last, block = False, take_next(counters, 0)
    while block * per_block < rows:
        first = block * per_block
        partial = partials[block]
        _block(g, d, gh, partial, inner, n, first, min(first + per_block, rows), a, b)
        last = count_done(counters, 1) == (rows - 1) // per_block
        block = take_next(counters, 0)
    return last


def _backward_chunks(g, h, bias, gh, partials, inner, n, rows, a, b, counters, per_block):
    a, b = _cast(a), _cast(b)
    last, block = False, take_next(counters, 0)
    while block * per_block < rows:
        first = block * per_block
        partial = partials[block]
        _block(g, h, bias, gh, partial, inner, n, first, min(first + per_block, rows), a, b)
        last = count_done(counters, 1) == (rows - 1) // per_block
        block = take_next(counters, 0)
    return last


# ----------------------------------------------------------------------------- compiling

FORWARD, FWD_GRAD, BACKWARD = "forward", "fwd_grad", "backward"
BACKWARD_FROM_GRAD = "backward_from_grad"
DIRECTIONS = (FORWARD, FWD_GRAD, BACKWARD, BACKWARD_FROM_GRAD)
# the directions whose kernels sum the bias gradient into partials
SUMMING = (BACKWARD, BACKWARD_FROM_GRAD)
# direction -> (chunk loop, block loop, how many element arrays it takes before the
# partials: inputs then outputs)
_LOOPS = {
    FORWARD: (_forward_chunks, _forward_block, 3),
    FWD_GRAD: (_fwd_grad_chunks, _fwd_grad_block, 4),
    BACKWARD: (_backward_chunks, _backward_block, 4),
    BACKWARD_FROM_GRAD: (_backward_from_grad_chunks, _backward_from_grad_block, 3),
}
_COMPILED = {}
# The backward's rows summed into the partials at a time (its loop is written for 4)
SUM_GROUP = 4


def _bind(fn, bound):
    return types.FunctionType(
        fn.__code__, {"__name__": __name__, "np": np, "SUM_GROUP": SUM_GROUP, **bound}
    )


def bias_kernel(activation, variant, level, dtype, direction):
    """The compiled chunk loop (its entry point) of ``direction`` for ``activation`` (a
    row of the main table) with a bias, in ``dtype`` at ``level``: forward
    ``kernel(h, bias, y, inner, n, rows, a, b, counters, per_block)``, fwd_grad with
    ``y, d``, backward ``kernel(g, h, bias, gh, partials, inner, ...)``. The fast level has
    its own kernels only where the activation does (``_kernels.kernel_set``)."""
    kernels = kernel_set(activation, dtype, variant, level)
    key = (activation.name, kernels.variant, kernels.level, kernels.dtype, direction)
    return _jit.built_once(_COMPILED, key, lambda: _build(kernels, direction))


def _bound(kernels):
    """The names the block loops use, bound to a KernelSet's scalar functions."""
    scalars = kernels.scalars()
    bound = {
        "_f": scalars[FORWARD_SCALAR],
        "_df": scalars[DERIVATIVE_SCALAR],
        "_times": scalars[GRADIENT_PRODUCT],
        "_wide": _jit.scalar(lambda v: np.float64(v)),
    }
    bound["_sum_rows"] = _jit.scalar(_bind(_sum_rows, bound))
    return bound


def _build(kernels, direction):
    chunks, block, n_arrays = _LOOPS[direction]
    inlined = _jit.scalar(_bind(block, _bound(kernels)))
    fn = _bind(
        chunks,
        {
            "_block": inlined,
            "_cast": kernels.cast,
            "take_next": take_next,
            "count_done": count_done,
        },
    )
    qualname = "__".join(
        (
            "bias",
            kernels.activation.name,
            *([] if kernels.variant is None else [kernels.variant]),
            *([] if kernels.level == ACCURATE else [kernels.level]),
            direction,
            kernels.dtype.name,
            math_digest(),
        )
    )
    fn.__name__ = fn.__qualname__ = qualname
    array = numba.types.Array(numba.from_dtype(kernels.dtype), 1, "C")
    i64, f64 = numba.types.int64, numba.types.float64
    counters = numba.types.Array(i64, 1, "C")
    partials = (numba.types.Array(f64, 2, "C"),) if direction in SUMMING else ()
    signature = (array,) * n_arrays + partials + (i64, i64, i64, f64, f64, counters, i64)
    dispatcher = _jit.compile_kernel(_jit.kernel(fn), signature)
    return dispatcher.overloads[dispatcher.signatures[0]].entry_point


def block_loops(kernels):
    """{direction: its block loop} bound to a KernelSet's scalar functions and compiled
    inline, for @njit code (``_bias_numba``): the kernels' own loop bodies, called as
    ``block(*arrays, inner, n, first, last, a, b)`` with a, b in the dtype."""
    key = ("blocks", kernels.activation.name, kernels.variant, kernels.level, kernels.dtype)
    return _jit.built_once(_COMPILED, key, lambda: _block_loops(kernels))


def _block_loops(kernels):
    bound = _bound(kernels)
    return {
        direction: _jit.scalar(_bind(block, bound)) for direction, (_, block, _) in _LOOPS.items()
    }


# ------------------------------------------------------------ grad_b from the partials


def _sum_partials(partials, repeat, cols, out):
    """grad_b into ``out`` (cols elements, the dtype) from the partials (blocks x
    repeat * cols, float64): the blocks added in block order, then a short row's repeats
    in order, then rounded once to the dtype (no warning where a float32 sum overflows to
    inf). The additions of NumPy's ``partials.sum(axis=0)`` and its fold, in its order."""
    sums = partials[0].copy()
    for block in range(1, partials.shape[0]):
        row = partials[block]
        for j in range(sums.size):
            sums[j] += row[j]
    for c in range(cols):
        total = sums[c]
        for k in range(1, repeat):
            total += sums[k * cols + c]
        out[c] = total


def sum_partials(dtype):
    """The compiled ``_sum_partials`` (its entry point) writing a ``dtype`` grad_b."""
    dtype = np.dtype(dtype)
    return _jit.built_once(_COMPILED, ("sum_partials", dtype), lambda: _build_sum(dtype))


def _build_sum(dtype):
    fn = _bind(_sum_partials, {})
    fn.__name__ = fn.__qualname__ = f"bias__sum_partials__{dtype.name}__{math_digest()}"
    i64 = numba.types.int64
    partials = numba.types.Array(numba.types.float64, 2, "C")
    out = numba.types.Array(numba.from_dtype(dtype), 1, "C")
    dispatcher = _jit.compile_kernel(_jit.kernel(fn), (partials, i64, i64, out))
    return dispatcher.overloads[dispatcher.signatures[0]].entry_point
