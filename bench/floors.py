"""The memory-bandwidth floor of an element-wise kernel, measured in the same run.

The fastest plain data movement with the same shape as each kind of kernel, into
preallocated arrays, on the same threads as fastgrad's kernels: serial below fastgrad's
parallel threshold for memory-bound kernels, above it shared over fastgrad's threads the
way its kernels are (``fastgrad._threads.run_parallel``, chunk by chunk). NumPy's
``np.copyto`` is single-threaded, and ``torch.copy_`` was slower than such a copy here:
no kernel that reads and writes these arrays can be faster.

One per loop template of the kind table (``fastgrad._kinds``):

- copy (x -> out): the floor of the "map" kinds (forward, grad), one array in and one out;
- add (g, x -> out): of the "scaled" kinds (backward from x or from the output), two in
  and one out;
- copy2 (x -> out1, out2): of the "pair" kind (fwd_grad), one in and two out.
"""

import numba

from fastgrad import _threads
from fastgrad._kernels import chunk_loop
from fastgrad._kinds import BY_KIND_NAME


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


# The floor of each loop template (``fastgrad._kinds``): the same arrays in and out;
# kinds that share a template share its floor (compiled once).
_FLOORS = {
    template: (numba.njit(serial), numba.njit(nogil=True)(chunk_loop(serial, template, {})))
    for template, serial in (("map", _copy), ("scaled", _add), ("pair", _copy2))
}


def floor_call(kind, x, g, threads):
    """A zero-argument callable doing kind's data movement on x (and g)."""
    row = BY_KIND_NAME[kind]
    serial, chunked = _FLOORS[row.template]
    inputs = {"x": x, "y": x, "grad_out": g}
    arrays = [inputs[name] for name in row.inputs] + [x.copy() for _ in range(row.outputs)]
    args = (*arrays, 0.0, 0.0)  # the unused parameter slots
    if x.size >= _threads.parallel_min_size(memory_bound=True) and threads > 1:
        return lambda: _threads.run_parallel(chunked, args, x.size, threads)
    return lambda: serial(*args)
