"""Softmax's kernels: reductions along one axis of a C-contiguous array, forward and backward.

Layout. The caller views the array as ``(outer, length, inner)``, the reduced axis in the
middle, and the kernels take it flat (1-D, C-contiguous). The work is cut into *tasks*:

- ``inner == 1`` (the last axis, or the only one): a task is one row, and a kernel of its
  own runs it in whole-row loops (``_row_forward``, ``_row_backward``), each vectorised
  at the full vector width: LLVM vectorises the max through ``llvm.maximum`` and, for
  float32, the float64 sum through an addition it may reassociate
  (``fastgrad._math.reduction``); float64 sums are compensated in ``LANES`` lanes side by
  side.
- ``inner > 1`` (another axis): a task is a tile of ``width`` neighbouring columns of one
  outer index, all ``length`` steps of it; each column has its own accumulators (a
  lane). Every step reads ``width`` contiguous elements, so the loops vectorise across
  columns.

Passes (each task makes them over its own elements; a row's stay in cache after the
first): forward: (1) the max m, (2) exp(x - m) and their sum, (3) the outputs (a row
scales the exponentials it kept in y; a tile's columns, too long to keep them, compute
them again); backward: (1) the sum (of g * y, or of g), (2) the gradient. Every row or
column is reduced by one thread in one order: results do not depend on the thread count.

Numerics. x - m is carried as a pair (d, d_lo) (TwoSum) and exp evaluated on d + d_lo:
the rounding of x - m alone would cost |d| * 2^-24 relative (up to ~40 ulps in
float32). Sums are of exp(d) * 2^LIFT (``exp_lifted``: never subnormal) in float64:
float32 plainly (its terms are exact there; the error, length * 2^-53, stays far below
float32's ulp), with the terms that round to exactly 1 counted apart so that s - 1
keeps full precision (log_softmax and logsumexp need log(s) = log1p(s - 1) where one
element dominates); float64 compensated (TwoSum per lane: the error does not grow with
the length, and s - 1 is exact to the lanes' errors). Rows and columns with an infinite
max (a +inf; only -inf; empty) are scanned before anything is written and completed
with the limits ``_softmax`` states; NaN reaches every result through the sums.
"""

import math
import types

import numba
import numpy as np

from . import _jit
from ._atomics import count_done, take_next
from ._kernels import math_digest
from ._math import elementary
from ._math._format import FLOAT32, FLOAT64
from ._math.compensated import two_sum
from ._math.exp import exp_min_arg, lift_bits
from ._math.fma import fma
from ._math.reduction import add_any_order, maximum

SOFTMAX, LOG_SOFTMAX, LOGSUMEXP = "softmax", "log_softmax", "logsumexp"
SOFTMAX_BACKWARD, LOG_SOFTMAX_BACKWARD, LOGSUMEXP_BACKWARD = (
    "softmax_backward",
    "log_softmax_backward",
    "logsumexp_backward",
)
FORWARD_KINDS = (SOFTMAX, LOG_SOFTMAX, LOGSUMEXP)
BACKWARD_KINDS = (SOFTMAX_BACKWARD, LOG_SOFTMAX_BACKWARD, LOGSUMEXP_BACKWARD)

# A row is walked this many elements at a time, one accumulator each (4 AVX-512 vectors
# of float32, 8 of float64 accumulators; 16 AVX2 ones).
LANES = 256
# A float32 row's exponentials are summed a block at a time from L1 (16 KiB).
ROW_BLOCK = 4096


def _bound_per_kernel(*args):
    raise RuntimeError("bound per kernel by _bind")


_wide = _narrow = _exp_in_range = _exp = _write = _task = _bound_per_kernel
F = UNLIFT = X_MIN = LIFTED_ONE = COMPENSATED = FLOAT32_IN = KIND = None


def _geometry(t, length, inner, tile):
    """(first element, stride, width, end, first result) of tile ``t``."""
    blocks = (inner + tile - 1) // tile
    o = t // blocks
    c0 = (t - o * blocks) * tile
    width = min(tile, inner - c0)
    base = o * length * inner + c0
    return base, inner, width, base + (length - 1) * inner + width, o * inner + c0


LANES_ = LANES


def _steps(base, stride, end):
    return (end - base + stride - 1) // stride if end > base else 0


def _lane_max(x, sign, base, stride, width, end, mx):
    for k in range(width):
        mx[k] = -np.inf
    for s in range(_steps(base, stride, end)):
        start = base + s * stride
        xs = x[start : min(start + width, end)]
        for k in range(xs.size):
            v = sign * xs[k]
            mx[k] = v if v > mx[k] else mx[k]


def _lane_exp_sums(x, scratch, sign, base, stride, width, end, mx, hi, lo):
    """Per lane, the sum of exp(x - m) * 2^LIFT: compensated (hi + lo, TwoSum) or, for
    float32, plain float64 sums of the terms below 1 in hi and the count of terms that
    round to exactly 1 in lo (see ``_row_forward``). Each step's exponentials go to
    ``scratch`` first, at the full vector width, then are added in a loop of their own."""
    for k in range(width):
        hi[k] = 0.0
        lo[k] = 0.0
    for s in range(_steps(base, stride, end)):
        start = base + s * stride
        stop = min(start + width, end)
        xs = x[start:stop]
        es = scratch[: stop - start]
        for k in range(xs.size):
            d, d_lo = two_sum(sign * xs[k], -mx[k])
            e = _exp_in_range(d, d_lo)
            es[k] = F(0) if d < X_MIN else e
        for k in range(es.size):
            if COMPENSATED:
                t, err = two_sum(hi[k], _wide(es[k]))
                hi[k] = t
                lo[k] += err
            else:
                one = es[k] == F(LIFTED_ONE)
                hi[k] += 0.0 if one else _wide(es[k])
                lo[k] += 1.0 if one else 0.0


def _combine_sums(hi, lo):
    """The LANES_ lanes' sums added pairwise by halving (compensated: the rounding
    errors kept in lo), the total in every lane."""
    h = LANES_ // 2
    while h >= 1:
        for k in range(h):
            t, err = two_sum(hi[k], hi[k + h])
            hi[k] = t
            lo[k] += lo[k + h] + err
        h //= 2
    for k in range(1, LANES_):
        hi[k] = hi[0]
        lo[k] = lo[0]


def _scan_special(x, sign, base, stride, width, end, k):
    """(NaNs, +infs, position of the last +inf) among column k's elements."""
    nans = posinf = 0
    where = -1
    for s in range(_steps(base, stride, end)):
        start = base + s * stride
        for j in range(min(width, end - start)):
            if j == k:
                v = sign * x[start + j]
                nans += v != v
                if v == np.inf:
                    posinf += 1
                    where = start + j
    return nans, posinf, where


def _fix_group(y, base, stride, width, end, k, where, one_hot, rest):
    """Column k's outputs where its max was +inf, one +inf at ``where`` and no NaN:
    ``one_hot`` there, ``rest`` elsewhere."""
    for s in range(_steps(base, stride, end)):
        start = base + s * stride
        for j in range(min(width, end - start)):
            if j == k:
                y[start + j] = rest
    y[where] = one_hot


def _forward_task(
    x, y, res, sign, length, inner, tile, t, mx, hi, lo, coef, coef_lo, lone, scratch
):
    base, stride, width, end, first_result = _geometry(t, length, inner, tile)
    _lane_max(x, sign, base, stride, width, end, mx)
    # A column whose max is infinite (a +inf; nothing but -inf; no element) is scanned
    # before any output is written (out may be x): the passes below give it NaN, and a
    # lone +inf is written last.
    any_special = False
    for k in range(width):
        lone[k] = -1
        m = mx[k]
        if m == np.inf or m == -np.inf:
            any_special = True
            nans, posinf, where = _scan_special(x, sign, base, stride, width, end, k)
            lone[k] = where if posinf == 1 and nans == 0 else -1
            if KIND == 2:  # +inf (any number of them) or -inf, unless NaN
                res[first_result + k] = np.nan if nans else m
            mx[k] = np.nan
    _lane_exp_sums(x, scratch, sign, base, stride, width, end, mx, hi, lo)
    for k in range(width):
        # s >= 1 (the max's own term is exactly 1)
        if COMPENSATED:
            s_minus_one = ((hi[k] - LIFTED_ONE) + lo[k]) * UNLIFT
        else:
            s_minus_one = (lo[k] - 1.0) + hi[k] * UNLIFT
        # softmax: y = (exp(x - m) * 2^LIFT) * (1/s) * 2^-LIFT; the others: log(s)
        c = 1.0 / (s_minus_one + 1.0) if KIND == 0 else math.log1p(s_minus_one)
        if KIND == 2 and mx[k] == mx[k]:
            res[first_result + k] = _wide(mx[k]) + c
        # the coefficient as a pair in the dtype (float32: log(s) to 2^-48)
        coef[k] = F(c)
        coef_lo[k] = F(c - _wide(coef[k]))
    if KIND == 2:
        return
    for s in range(_steps(base, stride, end)):
        start = base + s * stride
        stop = min(start + width, end)
        _write(x[start:stop], y[start:stop], sign, mx, coef, coef_lo)
    if any_special:
        for k in range(width):
            if lone[k] >= 0:
                if KIND == 0:
                    _fix_group(y, base, stride, width, end, k, lone[k], 1.0, 0.0)
                else:
                    _fix_group(y, base, stride, width, end, k, lone[k], 0.0, -np.inf)


def _row_special(xs, ys, sign, m):
    """A row whose max m is infinite (a +inf; nothing but -inf; no element): scanned,
    then written (ys may be xs). Returns logsumexp's value."""
    nans = posinf = 0
    where = -1
    for i in range(xs.size):
        v = sign * xs[i]
        nans += v != v
        if v == np.inf:
            posinf += 1
            where = i
    if KIND == 2:
        return np.nan if nans else m
    lone = posinf == 1 and nans == 0
    for i in range(ys.size):
        ys[i] = np.nan
    if lone:  # the limit as that element grows: one-hot (log_softmax: 0 and -inf)
        for i in range(ys.size):
            ys[i] = 0.0 if KIND == 0 else -np.inf
        ys[where] = 1.0 if KIND == 0 else 0.0
    return np.nan


def _row_forward(xs, ys, sign, scratch, hi, lo):
    """One row in whole-row loops, each vectorised at the full vector width. exp(x - m)
    * 2^LIFT goes block by block into ys (softmax) or ``scratch`` (ROW_BLOCK elements,
    in L1), then is summed in a loop of its own: float32 in float64 in any order
    (``_math.reduction``), float64 compensated, per lane (``hi``, ``lo``: LANES_ each).
    Returns logsumexp's value (else unused)."""
    m = F(-np.inf)
    for i in range(xs.size):
        m = maximum(m, sign * xs[i])  # NaN if the row has one: then every result is NaN
    if m == np.inf or m == -np.inf:
        return _row_special(xs, ys, sign, m)
    # float32: s = ties + below, the terms that round to exactly 1 (the max's own, and
    # any within half an ulp of it) counted apart, so that s - 1 (log(s) = log1p(s - 1))
    # keeps full precision where the max dominates
    below = 0.0
    ties = 0.0
    if COMPENSATED:
        for k in range(LANES_):
            hi[k] = 0.0
            lo[k] = 0.0
    for first in range(0, xs.size, ROW_BLOCK):
        last = min(first + ROW_BLOCK, xs.size)
        xb = xs[first:last]
        eb = ys[first:last] if KIND == 0 else scratch[: last - first]
        for i in range(xb.size):
            d, d_lo = two_sum(sign * xb[i], -m)
            e = _exp_in_range(d, d_lo)
            eb[i] = F(0) if d < X_MIN else e
        if COMPENSATED:
            _lanes_two_sum(eb, hi, lo)
        elif KIND == 0:  # softmax needs s, not s - 1: one sum
            for i in range(eb.size):
                below = add_any_order(below, _wide(eb[i]))
        else:
            for i in range(eb.size):
                e = eb[i]
                one = e == F(LIFTED_ONE)
                below = add_any_order(below, 0.0 if one else _wide(e))  # NaN: a NaN sum
                ties = add_any_order(ties, 1.0 if one else 0.0)
    if COMPENSATED:
        _combine_sums(hi, lo)
        s_minus_one = ((hi[0] - LIFTED_ONE) + lo[0]) * UNLIFT
    else:
        s_minus_one = (ties - 1.0) + below * UNLIFT
    if KIND == 0:
        # y = (exp(x - m) * 2^LIFT) * (1/s * 2^-LIFT): 1/s rounded once, then scaled
        # exactly (s <= n keeps it a normal number); one rounding in the product
        c = F(_narrow(1.0 / (s_minus_one + 1.0)) * F(UNLIFT))
        for i in range(ys.size):
            ys[i] = ys[i] * c
        return 0.0
    log_s = math.log1p(s_minus_one)
    if KIND == 1:
        # (d + d_lo) - (log s as a pair in the dtype): d <= 0 <= log s, no cancellation
        log_hi = F(log_s)
        log_lo = F(log_s - _wide(log_hi))
        for i in range(xs.size):
            d, d_lo = two_sum(xs[i], -m)
            d_lo = F(0) if d_lo != d_lo else d_lo  # x = -inf: d = -inf, no correction
            ys[i] = (d - log_hi) + (d_lo - log_lo)
    return _wide(m) + log_s


def _lanes_two_sum(values, hi, lo):
    """hi + lo += values, LANES_ lanes side by side (TwoSum: the errors kept in lo)."""
    for first in range(0, values.size, LANES_):
        part = values[first : first + LANES_]
        for k in range(part.size):
            t, err = two_sum(hi[k], part[k])
            hi[k] = t
            lo[k] += err


def _lanes_two_sum_products(gs, ys, hi, lo):
    """hi + lo += gs * ys, LANES_ lanes side by side (the products' errors by FMA)."""
    for first in range(0, gs.size, LANES_):
        g_part, y_part = gs[first : first + LANES_], ys[first : first + LANES_]
        for k in range(g_part.size):
            p = g_part[k] * y_part[k]
            t, err = two_sum(hi[k], p)
            hi[k] = t
            lo[k] += err + fma(g_part[k], y_part[k], -p)


def _row_backward(gs, ys, outs, sign, g_row, r_row, hi, lo):
    """One row of a backward (ys is x for logsumexp's, with its grad_out and result
    g_row and r_row): the row's sum float32 in float64 (products exact) in any order,
    float64 compensated per lane."""
    if KIND == 5:
        if r_row == np.inf:  # +inf in x: grad_out at a lone +inf (softmax's limit)
            nans = posinf = 0
            where = -1
            for i in range(ys.size):
                v = ys[i]
                nans += v != v
                if v == np.inf:
                    posinf += 1
                    where = i
            if posinf == 1 and nans == 0:
                for i in range(outs.size):
                    outs[i] = 0.0
                outs[where] = g_row
                return
        r = F(r_row)
        gr = F(g_row)
        for i in range(ys.size):
            d, d_lo = two_sum(ys[i], -r)
            d_lo = F(0) if d_lo != d_lo else d_lo  # x - r infinite: no correction
            e = _exp(d)
            outs[i] = gr * fma(e, d_lo, e)
        return
    if COMPENSATED:
        for k in range(LANES_):
            hi[k] = 0.0
            lo[k] = 0.0
        if KIND == 3:
            _lanes_two_sum_products(gs, ys, hi, lo)
        else:
            _lanes_two_sum(gs, hi, lo)
        _combine_sums(hi, lo)
        total_hi, total_lo = F(hi[0]), F(lo[0])
    else:
        total = 0.0
        if KIND == 3:
            for i in range(gs.size):
                total = add_any_order(total, _wide(gs[i]) * _wide(ys[i]))
        else:
            for i in range(gs.size):
                total = add_any_order(total, _wide(gs[i]))
        # the float64 sum as a float32 pair: within 2^-48 of it
        total_hi = _narrow(total)
        total_lo = _narrow(total - _wide(total_hi))
    if KIND == 3:  # y * (g - sum(g * y)), softmin's negated
        for i in range(gs.size):
            outs[i] = sign * (ys[i] * ((gs[i] - total_hi) - total_lo))
    else:  # g - exp(y) * sum(g)
        for i in range(gs.size):
            e = _exp(ys[i])
            outs[i] = fma(-e, total_hi, gs[i]) - e * total_lo


def _write_softmax(xs, ys, sign, mx, coef, coef_lo):
    # y = exp(x - m) * 2^LIFT * (1/s) * 2^-LIFT (NaN for a special column): the exp
    # again, as a tile's columns are too long to keep the first ones in cache
    for k in range(xs.size):
        d, d_lo = two_sum(sign * xs[k], -mx[k])
        e = _exp_in_range(d, d_lo)
        e = F(0) if d < X_MIN else e
        ys[k] = (e * coef[k]) * F(UNLIFT)


def _write_log_softmax(xs, ys, sign, mx, coef, coef_lo):
    # (d + d_lo) - (log s as a pair): d <= 0 <= log s, no cancellation
    for k in range(xs.size):
        d, d_lo = two_sum(xs[k], -mx[k])
        d_lo = F(0) if d_lo != d_lo else d_lo  # x = -inf: d = -inf, no correction
        ys[k] = (d - coef[k]) + (d_lo - coef_lo[k])


def _write_none(xs, ys, sign, mx, coef, coef_lo):
    pass


def _forward_chunks(x, y, res, sign, length, inner, tile, tasks, counters, per_chunk):
    size = max(tile, LANES_)
    mx = np.empty(size, F)
    hi = np.empty(size, np.float64)
    lo = np.empty(size, np.float64)
    coef = np.empty(size, F)
    coef_lo = np.empty(size, F)
    lone = np.empty(size, np.int64)
    scratch = np.empty(size, F)
    last, chunk = False, take_next(counters, 0)
    while chunk * per_chunk < tasks:
        first = chunk * per_chunk
        for t in range(first, min(first + per_chunk, tasks)):
            _task(x, y, res, sign, length, inner, tile, t, mx, hi, lo, coef, coef_lo, lone, scratch)
        last = count_done(counters, 1) == (tasks - 1) // per_chunk
        chunk = take_next(counters, 0)
    return last


# ------------------------------------------------------------------------------ backward


def _lane_dot(g, y, base, stride, width, end, hi, lo):
    """Per lane: sum of g * y (softmax) or of g (log_softmax)."""
    for k in range(width):
        hi[k] = 0.0
        lo[k] = 0.0
    for s in range(_steps(base, stride, end)):
        start = base + s * stride
        stop = min(start + width, end)
        gs, ys = g[start:stop], y[start:stop]
        for k in range(gs.size):
            if KIND == 3:
                if FLOAT32_IN:  # float32 products are exact in float64
                    hi[k] += _wide(gs[k]) * _wide(ys[k])
                else:
                    p = gs[k] * ys[k]
                    t, err = two_sum(hi[k], p)
                    hi[k] = t
                    lo[k] += err + fma(gs[k], ys[k], -p)
            else:
                if FLOAT32_IN:
                    hi[k] += _wide(gs[k])
                else:
                    t, err = two_sum(hi[k], gs[k])
                    hi[k] = t
                    lo[k] += err


def _backward_task(g, y, out, rg, rr, sign, length, inner, tile, t, hi, lo, lone):
    base, stride, width, end, first_result = _geometry(t, length, inner, tile)
    any_special = False
    if KIND == 5:  # logsumexp: per column, (its grad_out, its result); y is x
        for k in range(width):
            lone[k] = -1
            hi[k] = rg[first_result + k]
            lo[k] = rr[first_result + k]
            if lo[k] == np.inf:  # x has +inf: scanned before out (maybe x) is written
                any_special = True
                nans, posinf, where = _scan_special(y, sign, base, stride, width, end, k)
                lone[k] = where if posinf == 1 and nans == 0 else -1
    else:
        _lane_dot(g, y, base, stride, width, end, hi, lo)
    for s in range(_steps(base, stride, end)):
        start = base + s * stride
        stop = min(start + width, end)
        _write(g[start:stop], y[start:stop], out[start:stop], sign, hi, lo)
    if any_special:  # softmax's limit: the gradient is grad_out at a lone +inf
        for k in range(width):
            if lone[k] >= 0:
                _fix_group(out, base, stride, width, end, k, lone[k], F(hi[k]), 0.0)


def _write_softmax_backward(gs, ys, outs, sign, hi, lo):
    # grad = y * (g - sum(g * y)); softmin's is its negative
    for k in range(gs.size):
        if FLOAT32_IN:
            outs[k] = _narrow(sign * (_wide(ys[k]) * (_wide(gs[k]) - hi[k])))
        else:
            outs[k] = sign * (ys[k] * ((gs[k] - hi[k]) - lo[k]))


def _write_log_softmax_backward(gs, ys, outs, sign, hi, lo):
    # grad = g - exp(y) * sum(g)
    for k in range(gs.size):
        e = _exp(ys[k])
        if FLOAT32_IN:
            outs[k] = _narrow(_wide(gs[k]) - _wide(e) * hi[k])
        else:
            outs[k] = fma(-e, hi[k], gs[k]) - e * lo[k]


def _write_logsumexp_backward(gs, xs, outs, sign, hi, lo):
    # grad_x = grad_out * exp(x - result): (hi, lo) hold (grad_out, result) per lane
    for k in range(xs.size):
        r = F(lo[k])
        d, d_lo = two_sum(xs[k], -r)
        d_lo = F(0) if d_lo != d_lo else d_lo  # x - r infinite: no correction
        e = _exp(d)
        outs[k] = F(hi[k]) * fma(e, d_lo, e)


def _backward_chunks(g, y, out, rg, rr, sign, length, inner, tile, tasks, counters, per_chunk):
    size = max(tile, LANES_)
    hi = np.empty(size, np.float64)
    lo = np.empty(size, np.float64)
    lone = np.empty(size, np.int64)
    last, chunk = False, take_next(counters, 0)
    while chunk * per_chunk < tasks:
        first = chunk * per_chunk
        for t in range(first, min(first + per_chunk, tasks)):
            _task(g, y, out, rg, rr, sign, length, inner, tile, t, hi, lo, lone)
        last = count_done(counters, 1) == (tasks - 1) // per_chunk
        chunk = take_next(counters, 0)
    return last


def _rows_forward_chunks(x, y, res, sign, length, inner, tile, tasks, counters, per_chunk):
    # rows (inner == 1): a kernel of their own, apart from the tiles' code (in one
    # function with it, the row loops ran 1.3x slower on rows of 256)
    scratch = np.empty(ROW_BLOCK, F)
    hi = np.empty(LANES_, np.float64)
    lo = np.empty(LANES_, np.float64)
    last, chunk = False, take_next(counters, 0)
    while chunk * per_chunk < tasks:
        first = chunk * per_chunk
        for t in range(first, min(first + per_chunk, tasks)):
            base = t * length
            xs, ys = x[base : base + length], y[base : base + length]
            value = _row_forward(xs, ys, sign, scratch, hi, lo)
            if KIND == 2:
                res[t] = value
        last = count_done(counters, 1) == (tasks - 1) // per_chunk
        chunk = take_next(counters, 0)
    return last


def _rows_backward_chunks(g, y, out, rg, rr, sign, length, inner, tile, tasks, counters, per_chunk):
    hi = np.empty(LANES_, np.float64)
    lo = np.empty(LANES_, np.float64)
    last, chunk = False, take_next(counters, 0)
    while chunk * per_chunk < tasks:
        first = chunk * per_chunk
        for t in range(first, min(first + per_chunk, tasks)):
            base = t * length
            stop = base + length
            g_row = rg[t] if KIND == 5 else 0.0
            r_row = rr[t] if KIND == 5 else 0.0
            _row_backward(g[base:stop], y[base:stop], out[base:stop], sign, g_row, r_row, hi, lo)
        last = count_done(counters, 1) == (tasks - 1) // per_chunk
        chunk = take_next(counters, 0)
    return last


_KIND_NUMBER = {
    SOFTMAX: 0,
    LOG_SOFTMAX: 1,
    LOGSUMEXP: 2,
    SOFTMAX_BACKWARD: 3,
    LOG_SOFTMAX_BACKWARD: 4,
    LOGSUMEXP_BACKWARD: 5,
}
_WRITERS = {
    SOFTMAX: _write_softmax,
    LOG_SOFTMAX: _write_log_softmax,
    LOGSUMEXP: _write_none,
    SOFTMAX_BACKWARD: _write_softmax_backward,
    LOG_SOFTMAX_BACKWARD: _write_log_softmax_backward,
    LOGSUMEXP_BACKWARD: _write_logsumexp_backward,
}
_HELPERS = (
    _geometry,
    _steps,
    _lane_max,
    _lane_exp_sums,
    _combine_sums,
    _scan_special,
    _fix_group,
    _lane_dot,
    _row_special,
    _lanes_two_sum,
    _lanes_two_sum_products,
    _row_forward,
    _row_backward,
)
_COMPILED = {}
_WIDE = _jit.scalar(lambda v: np.float64(v))
_NARROW32 = _jit.scalar(lambda v: np.float32(v))
_NARROW64 = _jit.scalar(lambda v: np.float64(v))


def _bind(fn, bound):
    return types.FunctionType(fn.__code__, {"__name__": __name__, "np": np, "math": math, **bound})


def softmax_kernel(dtype, kind, rows):
    """The compiled chunk loop of ``kind`` in ``dtype`` (float32 or float64) for rows
    (``inner == 1``) or tiles, its entry point: forward ``kernel(x, y, res, sign,
    length, inner, tile, tasks, counters, per_chunk)``, backward ``kernel(g, y, out,
    rg, rr, sign, length, ..., per_chunk)`` (logsumexp's: ``g`` unused, ``y`` is x,
    ``rg`` and ``rr`` each group's grad_out and result)."""
    dtype = np.dtype(dtype)
    rows = bool(rows)
    return _jit.built_once(_COMPILED, (dtype, kind, rows), lambda: _build(dtype, kind, rows))


def compiled_loop(dtype, kind, rows):
    """The compiled chunk loop of ``softmax_kernel`` as its Numba dispatcher, callable
    from @njit code (``_softmax_numba``) without compiling it again: called with zeroed
    counters and per_chunk = tasks, it runs every task in order, as a serial call does."""
    dtype = np.dtype(dtype)
    softmax_kernel(dtype, kind, rows)
    return _DISPATCHERS[(dtype, kind, bool(rows))]


_DISPATCHERS = {}


def _build(dtype, kind, rows):
    chunks = _chunks_function(dtype, kind, rows)
    F_ = numba.from_dtype(dtype)
    flat = numba.types.Array(F_, 1, "C")
    wide = numba.types.Array(numba.types.float64, 1, "C")
    i64 = numba.types.int64
    counters = numba.types.Array(i64, 1, "C")
    shape = (i64, i64, i64, i64, counters, i64)  # length, inner, tile, tasks, ...
    if kind in FORWARD_KINDS:
        signature = (flat, flat, flat, F_, *shape)
    else:
        signature = (flat, flat, flat, wide, wide, F_, *shape)
    dispatcher = _jit.compile_kernel(_jit.kernel(chunks), signature)
    _DISPATCHERS[(dtype, kind, rows)] = dispatcher
    return dispatcher.overloads[dispatcher.signatures[0]].entry_point


def _chunks_function(dtype, kind, rows):
    """The chunk loop of (dtype, kind, rows) as a Python function, its helpers bound."""
    fmt = FLOAT32 if dtype == np.float32 else FLOAT64
    maths = elementary(dtype)
    is32 = dtype == np.float32
    lift = lift_bits(fmt)
    number = _KIND_NUMBER[kind]
    bound = {
        "F": fmt.float,
        "UNLIFT": 2.0**-lift,
        "LIFTED_ONE": 2.0**lift,
        "X_MIN": fmt.float(exp_min_arg(fmt)),
        # float32 sums plainly in float64 (its terms exact there); float64 compensated
        "COMPENSATED": not is32,
        "FLOAT32_IN": is32,
        "KIND": number,
        "LANES_": LANES,
        "ROW_BLOCK": ROW_BLOCK,
        "two_sum": two_sum,
        "maximum": maximum,
        "add_any_order": add_any_order,
        "take_next": take_next,
        "count_done": count_done,
        "fma": fma,
        "_exp_in_range": maths.exp_lifted_in_range,
        "_exp": maths.exp,
        "_wide": _WIDE,
        "_narrow": _NARROW32 if is32 else _NARROW64,
    }
    for helper in _HELPERS:
        bound[helper.__name__] = _jit.scalar(_bind(helper, bound))
    bound["_write"] = _jit.scalar(_bind(_WRITERS[kind], bound))
    forward = kind in FORWARD_KINDS
    if rows:
        chunks = _bind(_rows_forward_chunks if forward else _rows_backward_chunks, bound)
    else:
        bound["_task"] = _jit.scalar(_bind(_forward_task if forward else _backward_task, bound))
        chunks = _bind(_forward_chunks if forward else _backward_chunks, bound)
    layout = "rows" if rows else "lanes"
    name = f"softmax__{kind}__{layout}__{dtype.name}__{math_digest()}"
    chunks.__name__ = chunks.__qualname__ = name
    return chunks
