"""fastgrad against the NumPy reference: every activation in the table x kind x dtype x n.

Each benchmark group holds the implementations of one piece of work, so a group's table
compares them directly. Kernels compile in the warm-up call, outside the timing.
Implementations:
- numpy: ``fastgrad.reference``, the plain NumPy version (allocates its result);
- fastgrad: the allocating call, ``fg.sigmoid(x)``;
- fastgrad_out: the ``out=`` call into preallocated arrays;
- fastgrad_1thread: the allocating call limited to one thread, for a like-for-like
  comparison with NumPy, which is single-threaded (at n = 1e3 fastgrad runs on one
  thread anyway, so this is measured from n = 1e5 up).
"""

import numpy as np
import pytest
from conftest import DTYPES, SIZES, inputs

import fastgrad as fg
from fastgrad._jit import PARALLEL_MIN_SIZE
from fastgrad._table import KIND_NAMES, TABLE

IMPLS = ("numpy", "fastgrad", "fastgrad_out", "fastgrad_1thread")
SIZE_IMPLS = [
    pytest.param(n, impl, id=f"n={n:.0e}-{impl}")
    for n in SIZES
    for impl in IMPLS
    if not (impl == "fastgrad_1thread" and n < PARALLEL_MIN_SIZE)
]


def make_call(impl, act, suffix, x, g):
    """A zero-argument callable doing the work with ``impl``."""
    if impl == "numpy":
        fn = getattr(fg.reference, act.name + suffix)
    else:
        fn = getattr(fg, act.name + suffix)
    args = (g, x) if suffix == "_backward" else (x,)
    if impl != "fastgrad_out":
        return lambda: fn(*args)
    out = (np.empty_like(x), np.empty_like(x)) if suffix == "_fwd_grad" else np.empty_like(x)
    return lambda: fn(*args, out=out)


@pytest.mark.parametrize("n, impl", SIZE_IMPLS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("suffix", list(KIND_NAMES), ids=KIND_NAMES.get)
@pytest.mark.parametrize("act", TABLE, ids=lambda a: a.name)
def test_activation(benchmark, act, suffix, dtype, n, impl):
    x, g = inputs(dtype, n)
    call = make_call(impl, act, suffix, x, g)
    kind = KIND_NAMES[suffix]
    benchmark.group = f"{act.name} {kind} {np.dtype(dtype).name} n={n:.0e}"
    threads = fg.get_num_threads()
    if impl == "fastgrad_1thread":
        fg.set_num_threads(1)
    try:
        call()  # warm-up: compiles (or loads from the cache) outside the timing
        benchmark.extra_info.update(
            activation=act.name,
            kind=kind,
            dtype=np.dtype(dtype).name,
            n=n,
            impl=impl,
            threads=fg.get_num_threads(),
        )
        benchmark(call)
    finally:
        fg.set_num_threads(threads)
