"""The loop templates: one object per shape of element-wise loop, written once.

A kind row (``_kinds``) points at one of these, and everything that runs a kind takes its
loops from it: the kernels (``_kernels``: the serial loop and the chunk loop the threads
of a parallel call share), the @njit overloads (``_numba``: the scalar form a user's loop
inlines, and the serial loop over flat arrays), and the benchmarks' memory floor
(``bench/floors.py``: the plain data movement with the same arrays in and out).

The loops are ordinary Python over names that each kernel binds to its own objects
(``LoopTemplate.bind``): ``_f``/``_df``/``_times`` to the activation's scalar functions
(the kind row's ``scalars``), ``_cast`` to the dtype's cast of the parameter slots and,
in a chunk loop, ``_serial`` to the serial loop, compiled inline. Globals, not
arguments: a function passed as an argument costs a dispatch per call (~30 us) and
cannot be cached on disk by Numba. The placeholders below only name them for the reader
and the linter.

Every loop takes its arrays first (inputs, then outputs, all C-contiguous, 1-D and of
one size), then the two parameter slots ``a, b``. Outputs may alias inputs, and the
serial loops sort that out themselves (a pointer compare costs nanoseconds,
``np.may_share_memory`` half a microsecond): when an output *is* an input they run a
loop that reads and writes the output only (a two-array loop would fail LLVM's runtime
alias check and run scalar, ~4x slower); when it partly overlaps one, they copy that
input first, so the result is as if computed into a temporary (NumPy's rule). The chunk
loops run on several threads at once, so there that copy is made once, before them
(``_run.separate``); they handle only the in-place case themselves.

A new shape of loop (two array inputs besides grad_out, a parameter array broadcast
along an axis, partial sums per chunk) is one more ``LoopTemplate`` here, and one more
chunk loop only when it slices a number of arrays none of those below does.
"""

import types
from collections.abc import Callable
from dataclasses import dataclass

from . import _jit
from ._atomics import count_done, take_next


def _bound_per_kernel(*args):
    raise RuntimeError("a loop template's name, bound per kernel by LoopTemplate.bind")


_f = _df = _times = _cast = _serial = _bound_per_kernel


# How an input and the output (same size, both C-contiguous) share memory.
_DISJOINT, _SAME, _PARTIAL = 0, 1, 2


@_jit.scalar
def _overlap(a, b):
    start_a, start_b = a.ctypes.data, b.ctypes.data
    if start_a == start_b:
        return _SAME
    if start_a < start_b + b.size * b.itemsize and start_b < start_a + a.size * a.itemsize:
        return _PARTIAL
    return _DISJOINT


# ------------------------------------------------------------------ map: x -> out
# forward and derivative: one scalar function of x


def _map(x, out, a, b):
    a, b = _cast(a), _cast(b)
    relation = _overlap(x, out)
    if relation == _PARTIAL:
        x = x.copy()
    if relation == _SAME:
        for i in range(out.size):
            out[i] = _f(out[i], a, b)
    else:
        for i in range(out.size):
            out[i] = _f(x[i], a, b)


def _map_scalar(x, a, b):
    return _f(_cast(x), _cast(a), _cast(b))


def _copy(x, out, a, b):
    for i in range(x.size):
        out[i] = x[i]


# ------------------------------------------------------------- scaled: g, x -> out
# the backward kinds: grad_out times the derivative (``_times``: the product, or +0.0
# where the derivative is 0)


def _scaled(g, x, out, a, b):
    a, b = _cast(a), _cast(b)
    with_g, with_x = _overlap(g, out), _overlap(x, out)
    if with_g == _PARTIAL:
        g = g.copy()
    if with_x == _PARTIAL:
        x = x.copy()
    if with_g == _SAME:
        for i in range(out.size):
            out[i] = _times(out[i], _df(x[i], a, b))
    elif with_x == _SAME:
        for i in range(out.size):
            out[i] = _times(g[i], _df(out[i], a, b))
    else:
        for i in range(out.size):
            out[i] = _times(g[i], _df(x[i], a, b))


def _scaled_scalar(g, x, a, b):
    return _times(_cast(g), _df(_cast(x), _cast(a), _cast(b)))


def _add(g, x, out, a, b):
    for i in range(x.size):
        out[i] = g[i] + x[i]


# ------------------------------------------------------------ pair: x -> (y, d)
# the forward and the derivative in one pass


def _pair(x, y, d, a, b):
    # The two outputs must be separate: report an overlap before writing (the caller
    # raises), at the cost of a pointer compare instead of np.may_share_memory's ~0.3 us.
    # (Empty arrays share no element, wherever they point.)
    if y.size and _overlap(y, d) != _DISJOINT:
        return False
    a, b = _cast(a), _cast(b)
    with_y, with_d = _overlap(x, y), _overlap(x, d)
    if with_y == _PARTIAL or with_d != _DISJOINT:
        x = x.copy()
        with_y = _DISJOINT
    if with_y == _SAME:
        for i in range(y.size):
            xi = y[i]
            y[i] = _f(xi, a, b)
            d[i] = _df(xi, a, b)
    else:
        for i in range(y.size):
            xi = x[i]
            y[i] = _f(xi, a, b)
            d[i] = _df(xi, a, b)
    return True


def _pair_scalar(x, a, b):
    v, a, b = _cast(x), _cast(a), _cast(b)
    return _f(v, a, b), _df(v, a, b)


def _copy2(x, out1, out2, a, b):
    for i in range(x.size):
        out1[i] = x[i]
        out2[i] = x[i]


# ------------------------------------------------------------------ the chunk loops
# What every thread of a parallel call runs (``fastgrad._threads.run_parallel``): take the
# next chunk number from ``counters[0]`` until none is left, run the serial loop (bound
# as ``_serial``, inlined) on that chunk's views, count the chunk in ``counters[1]``, and
# return True when this thread finished the call's last chunk. So every element is
# computed by the serial loop, whatever the chunking and thread count. They differ only
# in how many arrays (all of one size) they slice.


def _two_array_chunks(p, q, a, b, counters, chunk):
    last, start = False, take_next(counters, 0) * chunk
    while start < q.size:
        _serial(p[start : start + chunk], q[start : start + chunk], a, b)
        last = count_done(counters, 1) == (q.size - 1) // chunk
        start = take_next(counters, 0) * chunk
    return last


def _three_array_chunks(p, q, r, a, b, counters, chunk):
    last, start = False, take_next(counters, 0) * chunk
    while start < r.size:
        _serial(p[start : start + chunk], q[start : start + chunk], r[start : start + chunk], a, b)
        last = count_done(counters, 1) == (r.size - 1) // chunk
        start = take_next(counters, 0) * chunk
    return last


_CHUNK_LOOPS = {2: _two_array_chunks, 3: _three_array_chunks}

# The names a serial loop may use besides those bound per kernel.
_LOOP_GLOBALS = {
    "_overlap": _overlap,
    "_DISJOINT": _DISJOINT,
    "_SAME": _SAME,
    "_PARTIAL": _PARTIAL,
}


@dataclass(frozen=True)
class LoopTemplate:
    """One shape of loop: how many arrays it reads and writes, and its loops.

    ``serial(*inputs, *outputs, a, b)``: the loop over whole arrays (a two-output loop
    returns False, writing nothing, when its outputs overlap); ``scalar(*inputs, a, b)``:
    one element, for @njit code; ``floor``: the plain data movement with the same arrays,
    the fastest any kernel of this shape can be (benchmarks)."""

    name: str
    inputs: int
    outputs: int
    serial: Callable
    scalar: Callable
    floor: Callable

    def bind(self, loop, bound):
        """``loop`` (one of this template's, as a Python function to compile) with the
        names in ``bound`` (``_f``, ``_cast``, ...) bound to those objects."""
        return types.FunctionType(loop.__code__, {"__name__": __name__, **_LOOP_GLOBALS, **bound})

    def chunked(self, serial, bound):
        """The chunk loop of ``serial`` (a Python function shaped like this template's
        serial loop), bound to ``bound``, with ``serial`` compiled inline as ``_serial``:
        ``chunked(*inputs, *outputs, a, b, counters, chunk)``."""
        inlined = _jit.scalar(self.bind(serial, bound))
        loop = _CHUNK_LOOPS[self.inputs + self.outputs]
        chunk_globals = {"take_next": take_next, "count_done": count_done, "_serial": inlined}
        return self.bind(loop, {**bound, **chunk_globals})


# fmt: off
MAP = LoopTemplate("map", 1, 1, _map, _map_scalar, _copy)
SCALED = LoopTemplate("scaled", 2, 1, _scaled, _scaled_scalar, _add)
PAIR = LoopTemplate("pair", 1, 2, _pair, _pair_scalar, _copy2)
# fmt: on
TEMPLATES = (MAP, SCALED, PAIR)
