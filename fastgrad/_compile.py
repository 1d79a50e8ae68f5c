"""Compile every kernel ahead of use, on all cores, into Numba's on-disk cache.

Kernels compile lazily on first use (0.2-5 s each) and are cached on disk, so a process
that loads them later pays milliseconds. ``compile_kernels()`` fills that cache in
worker processes, one (activation, dtype) at a time, so a machine with several cores
warms it in a fraction of the serial time: ``python -m fastgrad.compile`` (``make test``
and ``make bench`` run it first).
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

from ._accuracy import ACCURATE, FAST

PRELU = "prelu"
SOFTMAX = "softmax"


def _compile_one(name, variant, dtype, level=ACCURATE, epilogue=True):
    from . import _jit
    from ._gated import GATED
    from ._gated_kernels import DIRECTIONS, gate_kernel
    from ._kernels import kernel_set
    from ._prelu_kernels import BACKWARD, FORWARD, prelu_kernel
    from ._table import BY_NAME

    _jit.compiling_ahead()
    if name == PRELU:
        for direction in (FORWARD, BACKWARD):
            prelu_kernel(dtype, direction)
        return name, variant, np.dtype(dtype).name, level
    if name == SOFTMAX:  # every kind, for rows and for tiles (one kernel in float64)
        from ._softmax_kernels import BACKWARD_KINDS, FORWARD_KINDS, softmax_kernel

        for kind in FORWARD_KINDS + BACKWARD_KINDS:
            for rows in (False, True):
                softmax_kernel(dtype, kind, rows)
        return name, variant, np.dtype(dtype).name, level

    kernels = kernel_set(BY_NAME[name], dtype, variant, level)
    for kind in kernels.names():
        for parallel in (False, True):
            kernels.get(kind, parallel)  # compiles, or loads from the cache
    if epilogue and level == ACCURATE:  # the bias epilogue's (its fast ones on first use)
        from ._bias_kernels import DIRECTIONS as BIAS_DIRECTIONS
        from ._bias_kernels import bias_kernel, sum_partials

        for direction in BIAS_DIRECTIONS:
            bias_kernel(BY_NAME[name], variant, level, dtype, direction)
        sum_partials(dtype)
    if any(row.activation == name for row in GATED):  # its gated activation's kernels
        for direction in DIRECTIONS:
            gate_kernel(BY_NAME[name], variant, level, dtype, direction)
    return name, variant, np.dtype(dtype).name, kernels.level


def _compile_helpers():
    """The small compiled helpers of parallel and float16 calls (``_threads``, ``_run``,
    ``_half``), compiled (or loaded) by calling them once."""
    from . import _half, _run, _threads

    counters = np.zeros(2, np.int64)
    _threads._poll_done(counters, 0, 1)
    _run._take(counters, 0)
    _run._count_block(counters)
    values = np.zeros(1, np.float32)
    _half.to_float32(np.zeros(1, np.uint16), values)
    _half.to_float16(values, np.zeros(1, np.uint16))


def compile_kernels(
    names=None, dtypes=("float32", "float64"), processes=None, progress=None, epilogue=True
):
    """Compile (or load from the cache) every kernel (every variant, both accuracy levels)
    of ``names`` (default: the whole table) in ``dtypes``, in ``processes`` worker
    processes (default: one per core; one, in this process, inside a daemonic process such
    as a Dask worker's ``client.run``, which may not start children). float16 calls use
    the float32 fast kernels. ``progress(done, total, job)`` is called as each kernel set
    is ready; ``epilogue=False`` leaves out the bias epilogue's kernels (``_bias``).
    Returns the (activation, variant, dtype, level) of each set done."""
    from ._table import BY_NAME, TABLE

    _compile_helpers()
    all_names = not names
    names = names or [a.name for a in TABLE]
    jobs = [
        (n, v, d, ACCURATE, epilogue) for n in names for v in BY_NAME[n].maths() for d in dtypes
    ]
    jobs += [
        (n, v, "float32", FAST)
        for n in names
        for v in BY_NAME[n].maths()
        if BY_NAME[n].fast_math(v) is not None and "float32" in dtypes
    ]
    if all_names:  # PReLU's and softmax's kernels (not rows of the table: their own)
        jobs += [(PRELU, None, d, ACCURATE) for d in dtypes]
        jobs += [(SOFTMAX, None, d, ACCURATE) for d in dtypes]
    processes = processes or os.cpu_count() or 1
    if multiprocessing.current_process().daemon:
        processes = 1
    report = progress or (lambda done, total, job: None)
    if processes == 1:
        done = []
        for job in jobs:
            done.append(_compile_one(*job))
            report(len(done), len(jobs), done[-1])
        return done
    # spawn: a child starts with a fresh Numba (no compiler state copied mid-use)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [pool.submit(_compile_one, *job) for job in jobs]
        for count, future in enumerate(as_completed(futures), 1):
            report(count, len(jobs), future.result())
        return [future.result() for future in futures]
