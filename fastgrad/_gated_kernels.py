"""The gated activations' kernels: ``f(u) * v`` forward and both gradients in one pass.

Layout. Every operand of a call is a list of rows, ``rows x inner`` elements, each row
contiguous in memory: operand k's row r starts ``r * strides[k]`` elements after its
first element. Two whole C-contiguous arrays are one row of n elements; the two halves
of a packed array (the output of one matmul with ``[W1 | W3]``, split along ``dim``)
are ``outer`` rows of ``half`` elements each, ``2 * half`` apart: no half is copied.
A kernel takes each operand as a 1-D C-contiguous view from its first element to its
last (``_gated_api``), so a row is a plain slice and its loop vectorises as the
element-wise kernels' do (an 'A'-layout loop over a 2-D view ran ~4x slower).

One compiled function per (activation, variant, accuracy level, dtype, direction): the
chunk loop of ``_threads.run_parallel``, run by one thread over one chunk for a serial
call. A chunk is a range of the ``rows x inner`` elements in C order, cut into row
pieces. Each element is computed by the same loop body whatever the chunking: the bits do
not depend on the thread count.

Aliasing. An output may *be* an input, element for element (the in-place backward writes
the gradients of u and v over u and v: two arrays for a training step, not five); such
rows run a loop that reads and writes that input only, so LLVM's runtime alias check
does not send them to its scalar loop. Outputs that partly overlap inputs are separated
by the caller (``_gated_api``) before the kernel runs.
"""

import types

import numba

from . import _jit
from ._accuracy import ACCURATE
from ._atomics import count_done, take_next
from ._kernels import kernel_set, math_digest
from ._kinds import DERIVATIVE_SCALAR, FORWARD_SCALAR, GRADIENT_PRODUCT


def _bound_per_kernel(*args):
    raise RuntimeError("a gated loop's name, bound per kernel by _bind")


_f = _df = _times = _cast = _rows = _row = _row_into_u = _row_into_v = _bound_per_kernel


# ------------------------------------------------------------------ forward: y = f(u) * v


def _forward_row(u, v, y, a, b):
    for i in range(y.size):
        y[i] = _f(u[i], a, b) * v[i]


def _forward_row_into_u(u, v, a, b):
    for i in range(u.size):
        u[i] = _f(u[i], a, b) * v[i]


def _forward_row_into_v(u, v, a, b):
    for i in range(v.size):
        v[i] = _f(u[i], a, b) * v[i]


def _forward_rows(u, v, y, strides, inner, start, stop, a, b):
    su, sv, sy = strides[0], strides[1], strides[2]
    into_u = y.ctypes.data == u.ctypes.data and sy == su
    into_v = y.ctypes.data == v.ctypes.data and sy == sv
    pos = start
    while pos < stop:
        r = pos // inner
        c = pos - r * inner
        n = min(inner - c, stop - pos)
        ui, vi, yi = r * su + c, r * sv + c, r * sy + c
        if into_u:
            _row_into_u(u[ui : ui + n], v[vi : vi + n], a, b)
        elif into_v:
            _row_into_v(u[ui : ui + n], v[vi : vi + n], a, b)
        else:
            _row(u[ui : ui + n], v[vi : vi + n], y[yi : yi + n], a, b)
        pos += n


def _forward_chunks(u, v, y, strides, inner, total, a, b, counters, chunk):
    a, b = _cast(a), _cast(b)
    last, start = False, take_next(counters, 0) * chunk
    while start < total:
        _rows(u, v, y, strides, inner, start, min(start + chunk, total), a, b)
        last = count_done(counters, 1) == (total - 1) // chunk
        start = take_next(counters, 0) * chunk
    return last


# --------------------------------------------- backward: grad_u, grad_v from grad_out, u, v


def _backward_row(g, u, v, gu, gv, a, b):
    for i in range(g.size):
        gi, ui, vi = g[i], u[i], v[i]
        gu[i] = _times(gi * vi, _df(ui, a, b))
        gv[i] = gi * _f(ui, a, b)


def _backward_row_in_place(g, u, v, a, b):
    """The gradients written over u and v themselves."""
    for i in range(g.size):
        gi, ui, vi = g[i], u[i], v[i]
        u[i] = _times(gi * vi, _df(ui, a, b))
        v[i] = gi * _f(ui, a, b)


def _backward_rows(g, u, v, gu, gv, strides, inner, start, stop, a, b):
    sg, su, sv, sgu, sgv = strides[0], strides[1], strides[2], strides[3], strides[4]
    in_place = (
        gu.ctypes.data == u.ctypes.data
        and sgu == su
        and gv.ctypes.data == v.ctypes.data
        and sgv == sv
    )
    pos = start
    while pos < stop:
        r = pos // inner
        c = pos - r * inner
        n = min(inner - c, stop - pos)
        gi, ui, vi = r * sg + c, r * su + c, r * sv + c
        if in_place:
            _row_into_u(g[gi : gi + n], u[ui : ui + n], v[vi : vi + n], a, b)
        else:
            gui, gvi = r * sgu + c, r * sgv + c
            _row(
                g[gi : gi + n],
                u[ui : ui + n],
                v[vi : vi + n],
                gu[gui : gui + n],
                gv[gvi : gvi + n],
                a,
                b,
            )
        pos += n


def _backward_chunks(g, u, v, gu, gv, strides, inner, total, a, b, counters, chunk):
    a, b = _cast(a), _cast(b)
    last, start = False, take_next(counters, 0) * chunk
    while start < total:
        _rows(g, u, v, gu, gv, strides, inner, start, min(start + chunk, total), a, b)
        last = count_done(counters, 1) == (total - 1) // chunk
        start = take_next(counters, 0) * chunk
    return last


# ----------------------------------------------------------------------------- compiling

FORWARD, BACKWARD = "forward", "backward"
DIRECTIONS = (FORWARD, BACKWARD)
# direction -> (chunk loop, rows loop, row loops bound as _row, _row_into_u, _row_into_v),
# and how many arrays it takes
_LOOPS = {
    FORWARD: (
        _forward_chunks,
        _forward_rows,
        _forward_row,
        _forward_row_into_u,
        _forward_row_into_v,
    ),
    BACKWARD: (_backward_chunks, _backward_rows, _backward_row, _backward_row_in_place, None),
}
ARRAYS = {FORWARD: 3, BACKWARD: 5}


def _bind(fn, bound):
    return types.FunctionType(fn.__code__, {"__name__": __name__, **bound})


_COMPILED = {}


def gate_kernel(activation, variant, level, dtype, direction):
    """The compiled chunk loop (its entry point) of ``direction`` for gating with
    ``activation`` (a row of the main table) in ``dtype`` at ``level``: called as
    ``kernel(*arrays, strides, inner, total, a, b, counters, chunk)``. The fast level has
    its own kernels only where the activation does (``_kernels.kernel_set``)."""
    kernels = kernel_set(activation, dtype, variant, level)
    key = (activation.name, kernels.variant, kernels.level, kernels.dtype, direction)
    return _jit.built_once(_COMPILED, key, lambda: _build(kernels, direction))


def _build(kernels, direction):
    bound = _scalars_bound(kernels)
    chunks, rows, row, into_u, into_v = _LOOPS[direction]
    row_bound = {
        "_row": _jit.scalar(_bind(row, bound)),
        "_row_into_u": _jit.scalar(_bind(into_u, bound)),
    }
    if into_v is not None:
        row_bound["_row_into_v"] = _jit.scalar(_bind(into_v, bound))
    rows_loop = _jit.scalar(_bind(rows, row_bound))
    fn = _bind(
        chunks, {**bound, "take_next": take_next, "count_done": count_done, "_rows": rows_loop}
    )
    qualname = "__".join(
        (
            "gate",
            kernels.activation.name,
            *([] if kernels.variant is None else [kernels.variant]),
            *([] if kernels.level == ACCURATE else [kernels.level]),
            direction,
            kernels.dtype.name,
            math_digest(),
        )
    )
    fn.__name__ = fn.__qualname__ = qualname
    dispatcher = _jit.compile_kernel(_jit.kernel(fn), _signature(kernels.dtype, direction))
    return dispatcher.overloads[dispatcher.signatures[0]].entry_point


def row_loops(kernels):
    """(forward row loop, backward row loop) bound to a KernelSet's scalar functions, for
    @njit code (``_gated_numba``): the kernels' own loop bodies."""
    key = ("rows", kernels.activation.name, kernels.variant, kernels.level, kernels.dtype)
    loops = _COMPILED.get(key)
    if loops is None:
        bound = _scalars_bound(kernels)
        loops = _COMPILED[key] = (
            _jit.scalar(_bind(_forward_row, bound)),
            _jit.scalar(_bind(_backward_row, bound)),
        )
    return loops


def _scalars_bound(kernels):
    scalars = kernels.scalars()
    return {
        "_f": scalars[FORWARD_SCALAR],
        "_df": scalars[DERIVATIVE_SCALAR],
        "_times": scalars[GRADIENT_PRODUCT],
        "_cast": kernels.cast,
    }


def _signature(dtype, direction):
    array = numba.types.Array(numba.from_dtype(dtype), 1, "C")
    int_array = numba.types.Array(numba.types.int64, 1, "C")
    i64, f64 = numba.types.int64, numba.types.float64
    return (array,) * ARRAYS[direction] + (int_array, i64, i64, f64, f64, int_array, i64)
