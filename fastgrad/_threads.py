"""The thread count used by fastgrad's parallel kernels."""

import numba

# Kept here so the per-call size test does not ask numba (a few hundred ns) each time.
current = numba.get_num_threads()


def set_num_threads(n):
    """Use ``n`` threads (1 <= n <= NUMBA_NUM_THREADS) for large arrays, in this thread.

    Arrays below ``fastgrad._jit.PARALLEL_MIN_SIZE`` elements always run on one thread.
    """
    global current
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    limit = numba.config.NUMBA_NUM_THREADS
    if not 1 <= n <= limit:
        raise ValueError(f"set_num_threads: n must be between 1 and {limit}, got {n}")
    numba.set_num_threads(n)
    current = n


def get_num_threads():
    """The number of threads fastgrad's parallel kernels use."""
    return current
