"""The memory-bandwidth floor of an element-wise kernel, measured in the same run.

The fastest plain data movement with the same shape as each kind of kernel, into
preallocated arrays, on the same threads as fastgrad's kernels: serial below fastgrad's
parallel threshold for memory-bound kernels, above it shared over fastgrad's threads the
way its kernels are (``fastgrad._threads.run_parallel``, chunk by chunk). NumPy's
``np.copyto`` is single-threaded, and ``torch.copy_`` was slower than such a copy here:
no kernel that reads and writes these arrays can be faster.

Each loop template (``fastgrad._templates``) carries its floor, the same arrays in and
out: a copy for "map" (forward, grad), an add of two arrays for "scaled" (the backward
kinds), a copy into two arrays for "pair" (fwd_grad). Its chunked form is the template's
own chunk loop.
"""

import numba

from fastgrad import _threads
from fastgrad._kinds import BY_KIND_NAME
from fastgrad._templates import TEMPLATES

# kinds that share a template share its floor (compiled once)
_FLOORS = {
    template.name: (
        numba.njit(template.floor),
        numba.njit(nogil=True)(template.chunked(template.floor, {})),
    )
    for template in TEMPLATES
}


def floor_call(kind, x, g, threads):
    """A zero-argument callable doing kind's data movement on x (and g)."""
    row = BY_KIND_NAME[kind]
    serial, chunked = _FLOORS[row.template.name]
    inputs = {"x": x, "y": x, "grad_out": g}
    arrays = [inputs[name] for name in row.inputs] + [x.copy() for _ in range(row.outputs)]
    args = (*arrays, 0.0, 0.0)  # the unused parameter slots
    if x.size >= _threads.parallel_min_size(memory_bound=True) and threads > 1:
        return lambda: _threads.run_parallel(chunked, args, x.size, threads)
    return lambda: serial(*args)
