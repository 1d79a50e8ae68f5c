"""The memory-bandwidth floor of an element-wise kernel, measured in the same run.

The fastest plain data movement with the same shape as each kind of kernel, into
preallocated arrays, serial below fastgrad's parallel threshold and ``prange`` on the same
threads above it (NumPy's ``np.copyto`` is single-threaded, and ``torch.copy_`` was slower
than a ``prange`` copy here): no kernel that reads and writes these arrays can be faster.

- copy (x -> out): the floor of forward and grad, one array in and one out;
- add (g, x -> out): the floor of backward, two in and one out;
- copy2 (x -> out1, out2): the floor of fwd_grad, one in and two out.
"""

import numba
from numba import prange

from fastgrad._jit import PARALLEL_MIN_SIZE


def _copy(x, out):
    for i in prange(x.size):
        out[i] = x[i]


def _add(g, x, out):
    for i in prange(x.size):
        out[i] = g[i] + x[i]


def _copy2(x, out1, out2):
    for i in prange(x.size):
        out1[i] = x[i]
        out2[i] = x[i]


# Not cached: the serial and the parallel kernel come from one Python function, and
# Numba's cache keys on the function, so with cache=True the parallel dispatcher loaded
# the serial machine code (the "floor" ran at one-thread speed). They compile in ~0.1 s.
_FLOORS = {
    name: (numba.njit(fn), numba.njit(parallel=True)(fn))
    for name, fn in (("copy", _copy), ("add", _add), ("copy2", _copy2))
}
FLOOR_OF_KIND = {"forward": "copy", "grad": "copy", "backward": "add", "fwd_grad": "copy2"}


def floor_call(kind, x, g, threads):
    """A zero-argument callable doing kind's data movement on x (and g)."""
    serial, parallel = _FLOORS[FLOOR_OF_KIND[kind]]
    fn = parallel if x.size >= PARALLEL_MIN_SIZE and threads > 1 else serial
    out = x.copy()
    if kind == "backward":
        return lambda: fn(g, x, out)
    if kind == "fwd_grad":
        out2 = x.copy()
        return lambda: fn(x, out, out2)
    return lambda: fn(x, out)
