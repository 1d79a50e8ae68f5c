"""The memory-bandwidth floor of an element-wise kernel, measured in the same run.

The fastest plain data movement with the same shape as each kind of kernel, into
preallocated arrays, on the same threads as fastgrad's kernels: serial below fastgrad's
parallel threshold for memory-bound kernels, above it shared over fastgrad's threads the
way its kernels are (``fastgrad._threads.run_parallel``, chunk by chunk). NumPy's
``np.copyto`` is single-threaded, and ``torch.copy_`` was slower than such a copy here:
no kernel that reads and writes these arrays can be faster.

- copy (x -> out): the floor of forward and grad, one array in and one out;
- add (g, x -> out): the floor of backward, two in and one out;
- copy2 (x -> out1, out2): the floor of fwd_grad, one in and two out.
"""

import types

import numba

from fastgrad import _threads
from fastgrad._atomics import count_done, take_next


def _copy(x, out):
    for i in range(x.size):
        out[i] = x[i]


def _add(g, x, out):
    for i in range(x.size):
        out[i] = g[i] + x[i]


def _copy2(x, out1, out2):
    for i in range(x.size):
        out1[i] = x[i]
        out2[i] = x[i]


# The chunked forms follow fastgrad's chunked kernels (``fastgrad._kernels``): take a
# chunk, run the serial loop on its views, count it; True for the thread that finished
# the last chunk.
def _one_in_chunks(x, out, counters, chunk):
    n, last = x.size, False
    while True:
        start = take_next(counters, 0) * chunk
        if start >= n:
            return last
        _serial(x[start : start + chunk], out[start : start + chunk])  # noqa: F821
        last = count_done(counters, 1) == (n - 1) // chunk


def _three_chunks(a, b, c, counters, chunk):
    n, last = a.size, False
    while True:
        start = take_next(counters, 0) * chunk
        if start >= n:
            return last
        stop = start + chunk
        _serial(a[start:stop], b[start:stop], c[start:stop])  # noqa: F821
        last = count_done(counters, 1) == (n - 1) // chunk


def _floor_pair(serial, chunked):
    """(serial, chunked) dispatchers, the chunked one with ``serial`` inlined."""
    inlined = numba.njit(forceinline=True)(serial)
    bound = types.FunctionType(chunked.__code__, {**chunked.__globals__, "_serial": inlined})
    return numba.njit(serial), numba.njit(nogil=True)(bound)


_FLOORS = {
    "copy": _floor_pair(_copy, _one_in_chunks),
    "add": _floor_pair(_add, _three_chunks),
    "copy2": _floor_pair(_copy2, _three_chunks),
}
FLOOR_OF_KIND = {"forward": "copy", "grad": "copy", "backward": "add", "fwd_grad": "copy2"}


def floor_call(kind, x, g, threads):
    """A zero-argument callable doing kind's data movement on x (and g)."""
    serial, chunked = _FLOORS[FLOOR_OF_KIND[kind]]
    out = x.copy()
    arrays = {"backward": (g, x, out), "fwd_grad": (x, out, x.copy())}.get(kind, (x, out))
    if x.size >= _threads.parallel_min_size(memory_bound=True) and threads > 1:
        return lambda: _threads.run_parallel(chunked, arrays, x.size, threads)
    return lambda: serial(*arrays)
