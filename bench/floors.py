"""The memory-bandwidth floor of an element-wise kernel, measured in the same run.

The fastest plain data movement with the same shape as each kind of kernel, into
preallocated arrays, on the same threads as fastgrad's kernels: serial below fastgrad's
parallel threshold for memory-bound kernels, above it shared over fastgrad's threads the
way its kernels are (``fastgrad._threads.run_parallel``, chunk by chunk). NumPy's
``np.copyto`` is single-threaded, and ``torch.copy_`` was slower than such a copy here:
no kernel that reads and writes these arrays can be faster.

- copy (x -> out): the floor of forward and grad, one array in and one out;
- add (g, x -> out): the floor of backward (from x or from the output), two in and one out;
- copy2 (x -> out1, out2): the floor of fwd_grad, one in and two out.
"""

import numba

from fastgrad import _threads
from fastgrad._kernels import chunk_loop


# Shaped like fastgrad's serial kernels, (*inputs, *outputs, a, b), so that their chunked
# forms are the same chunk loops as fastgrad's (``fastgrad._kernels.chunk_loop``).
def _copy(x, out, a, b):
    for i in range(x.size):
        out[i] = x[i]


def _add(g, x, out, a, b):
    for i in range(x.size):
        out[i] = g[i] + x[i]


def _copy2(x, out1, out2, a, b):
    for i in range(x.size):
        out1[i] = x[i]
        out2[i] = x[i]


_FLOORS = {
    name: (numba.njit(serial), numba.njit(nogil=True)(chunk_loop(serial, n_out, {})))
    for name, serial, n_out in (("copy", _copy, 1), ("add", _add, 1), ("copy2", _copy2, 2))
}
FLOOR_OF_KIND = {
    "forward": "copy",
    "grad": "copy",
    "backward": "add",
    "fwd_grad": "copy2",
    "backward_from_output": "add",
}


def floor_call(kind, x, g, threads):
    """A zero-argument callable doing kind's data movement on x (and g)."""
    serial, chunked = _FLOORS[FLOOR_OF_KIND[kind]]
    out = x.copy()
    two_in = (g, x, out)
    arrays = {"backward": two_in, "backward_from_output": two_in, "fwd_grad": (x, out, x.copy())}
    arrays = arrays.get(kind, (x, out))
    args = (*arrays, 0.0, 0.0)  # the unused parameter slots
    if x.size >= _threads.parallel_min_size(memory_bound=True) and threads > 1:
        return lambda: _threads.run_parallel(chunked, args, x.size, threads)
    return lambda: serial(*args)
