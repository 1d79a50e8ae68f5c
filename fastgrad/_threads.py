"""How fastgrad runs one kernel call on several threads, safely inside other programs.

fastgrad does not use Numba's threading layers (``parallel=True``). Its kernels are
compiled serial loops that release the GIL; a parallel call cuts the arrays into chunks
of ``CHUNK`` elements and the calling thread plus up to ``get_num_threads() - 1`` helper
threads of a small pool run the same compiled loop, each taking the next chunk with an
atomic counter until none is left (``fastgrad._atomics``). Why, measured on this
project's 2-core machines (README, "Threads and processes"):

- **Nobody waits for a thread that is not running.** With a static split (OpenMP's),
  the caller waits for the other thread's half; when that thread's core is taken
  (OpenBLAS's threads spin for a while after each matmul, or another process runs there)
  the wait is a scheduler time slice, milliseconds: a NumPy MLP step took 16 ms instead
  of 1.4 ms. Here the caller works from the first chunk; a helper that starts late finds
  fewer chunks (or none) left, and the caller waits at most for chunks already being
  computed.
- **Idle helpers sleep.** They block on a queue (no spinning), so they take no core
  from BLAS or the rest of the program between calls.
- **Safe to fork.** ``import fastgrad`` starts no thread; the pool starts at the first
  parallel call, and a forked child starts its own (``os.register_at_fork``), so a
  multiprocessing 'fork' pool or a PyTorch DataLoader worker computes as the parent does.
  (GNU OpenMP aborts a forked child whose parent had started its pool.)
- **Safe under concurrency.** Any number of Python threads may call fastgrad at once:
  the kernels hold no shared state, and concurrent parallel calls share the helpers.
  (Numba's workqueue layer aborts the process when two threads enter parallel code.)
- **Same bits.** Each element is computed by the same loop body whatever the chunking,
  so results do not depend on the thread count.

The thread count is process-wide: ``set_num_threads`` in any thread sets it for every
thread. Its default is ``FASTGRAD_NUM_THREADS`` when set, else ``OMP_NUM_THREADS`` when
set (Dask's workers set it to 1), else the number of CPUs this process may run on.
"""

import math
import operator
import os
import queue
import threading
import warnings

import numpy as np

from . import _jit
from ._atomics import read_done

# Elements per chunk: 16384 float32 elements are 64 KiB, a few microseconds of the
# cheapest kernel's work, so taking a chunk (an atomic add, nanoseconds) costs nothing
# and the last chunk a caller may wait for is short. Large calls take larger chunks, up
# to CHUNK_MAX, keeping CHUNKS_PER_THREAD per thread: longer runs through memory stream
# faster. Measured on an AMD EPYC (Zen 4), float32, 2 threads, out=, medians of 30 calls
# over 3 alternating rounds, chunks of 2^14 against these: at 1e7 relu 1.04x, sigmoid
# 1.09x, sigmoid's backward from the output 1.03x, relu's backward 1.06x faster; at 4e6
# 1.13x, 1.04x, 1.14x, 1.02x; gelu and silu's backward (compute-bound) 0.98-1.04x. (Chunks
# of 2^20 were slower again: a plain copy at 1e7 took 1.90 ms at 2^14, 1.74 at 2^16 and
# 2^18, 1.89 at 2^20.)
CHUNK = 1 << 14
CHUNK_MAX = 1 << 18
CHUNKS_PER_THREAD = 16


def chunk_size(size, threads):
    """Elements per chunk for a call of ``size`` elements on ``threads`` threads."""
    return min(CHUNK_MAX, max(CHUNK, size // (CHUNKS_PER_THREAD * threads)))


# Below this many elements a call runs on the calling thread alone: a parallel call costs
# the caller about 10 us (waking a helper, waiting for its last chunk), more than it saves
# on small arrays. A memory-bound kernel (a piecewise activation: a few operations per
# element) gains from a second thread only once its arrays leave the caches. Measured on
# an AMD EPYC (Zen 4), 2 threads vs 1, float32: sigmoid 0.53x / 0.80x / 0.98x / 1.10x and
# gelu 0.62x / 0.88x / 1.21x / 1.16x at 2^15 / 2^16 / 1e5 / 2^17 elements; relu 1.0x at
# 2^17, 1.29x at 2^20.
PARALLEL_MIN_SIZE = 1 << 17
PARALLEL_MIN_SIZE_MEMORY_BOUND = 1 << 20


def parallel_min_size(memory_bound):
    """The size from which a kernel runs on threads."""
    return PARALLEL_MIN_SIZE_MEMORY_BOUND if memory_bound else PARALLEL_MIN_SIZE


def available_cpus():
    """The CPUs this process may run on (its affinity mask, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _bounded(n, source):
    """``n`` threads, or the CPUs this process may use if that is fewer, with a warning:
    more threads than CPUs only take turns on them (and each one is a thread started and
    kept for the life of the process)."""
    cpus = available_cpus()
    if n > cpus:
        warnings.warn(
            f"fastgrad: {source} asks for {n} threads, but this process may run on "
            f"{cpus} CPUs; using {cpus}",
            RuntimeWarning,
            stacklevel=3,
        )
        return cpus
    return n


def _env_threads():
    value = os.environ.get("FASTGRAD_NUM_THREADS")
    if not value:
        return None
    digits = value.strip()
    # ASCII digits only: str.isdigit also accepts '²' and other digits int() refuses
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise ValueError(f"FASTGRAD_NUM_THREADS must be a positive integer, got {value!r}")
    return _bounded(int(digits), "FASTGRAD_NUM_THREADS")


def _omp_threads():
    """OMP_NUM_THREADS's first (outermost) value, where FASTGRAD_NUM_THREADS is unset: the
    variable Dask's workers, job schedulers and BLAS builds set to keep a process to its
    share of the cores (None where unset; a value that is not a positive integer is
    ignored with a warning, as OpenMP runtimes ignore it)."""
    value = os.environ.get("OMP_NUM_THREADS")
    if not value:
        return None
    first = value.split(",")[0].strip()
    if not (first.isascii() and first.isdigit()) or int(first) < 1:
        warnings.warn(
            f"fastgrad: OMP_NUM_THREADS={value!r} is not a positive integer; ignored",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return _bounded(int(first), "OMP_NUM_THREADS")


# Read on every call's size test (module attribute: cheaper than a function call).
current = _env_threads() or _omp_threads() or available_cpus()


def set_num_threads(n):
    """Use up to ``n`` threads (n >= 1) for large arrays, in every thread of this process.

    The setting is process-wide, like NumPy's BLAS and PyTorch's ``set_num_threads``:
    a call from any thread changes what every later fastgrad call uses. Arrays below
    ``parallel_min_size`` elements always run on the calling thread alone. More threads
    than the CPUs this process may run on are not used: ``n`` is lowered to that number,
    with a ``RuntimeWarning``.
    """
    global current
    if isinstance(n, bool):
        raise TypeError("set_num_threads: n must be an int, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}") from None
    if n < 1:
        raise ValueError(f"set_num_threads: n must be at least 1, got {n}")
    current = _bounded(n, f"set_num_threads({n})")


def get_num_threads():
    """The number of threads fastgrad's large-array calls use (process-wide)."""
    return current


# How long a caller whose own chunks are done polls for the helpers' last ones before it
# sleeps: about 30 us. Most waits are for a chunk a helper is finishing (microseconds),
# and waking a sleeping thread costs tens of microseconds on these machines; a helper
# that was descheduled mid-chunk takes milliseconds, and then the caller sleeps.
_POLLS = 1 << 15
# After polling, the caller sleeps on a lock in slices of this many seconds, looking for
# Ctrl-C between them (a release wakes it at once).
_WAIT_SLICE = 0.05


@_jit.kernel
def _poll_done(counters, chunks, polls):
    """True once ``counters[1] == chunks``, polling at most ``polls`` times."""
    for _ in range(polls):  # noqa: SIM110 (a generator in compiled code is slower)
        if read_done(counters, 1) == chunks:
            return True
    return False


class _Pool:
    """Helper threads that wait (blocked, not spinning) for calls to help with."""

    def __init__(self):
        self.calls = queue.SimpleQueue()
        self.helpers = 0
        self.lock = threading.Lock()

    def ensure(self, helpers):
        """Start helpers until there are ``helpers``, as far as the system lets threads
        start; returns how many there are (a call then asks no more of them)."""
        if self.helpers >= helpers:
            return self.helpers
        with self.lock:
            while self.helpers < helpers:
                thread = threading.Thread(
                    target=_help,
                    args=(self.calls,),
                    name=f"fastgrad-{self.helpers + 1}",
                    daemon=True,
                )
                try:
                    thread.start()
                except RuntimeError:  # "can't start new thread": a memory or thread limit
                    break
                self.helpers += 1
        return self.helpers


def _help(calls):
    while True:
        calls.get().help()


class _Call:
    """One parallel kernel call: its arguments, and a lock released by the helper that
    finishes the last chunk (when the caller did not finish it itself)."""

    __slots__ = ("kernel", "args", "finished")

    def __init__(self, kernel, args):
        self.kernel = kernel
        self.args = args
        self.finished = threading.Lock()
        self.finished.acquire()

    def help(self):
        # The caller compiled the kernel and runs it with the same arguments, so this
        # call cannot fail to type-check; a helper that starts after the last chunk was
        # taken returns at once.
        if self.kernel(*self.args):
            self.finished.release()


_pool = _Pool()


def _after_fork_in_child():
    # The parent's helper threads do not exist in the child: start afresh.
    global _pool
    _pool = _Pool()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_parallel(kernel, args, size, threads, chunk=None):
    """Run ``kernel(*args, counters, chunk)`` (``chunk`` elements each, by default
    ``chunk_size``) on the calling thread and up to ``threads - 1`` helpers. The kernel
    loops over chunks taken from ``counters[0]``, counts finished ones in ``counters[1]``
    and returns True when it finished the last."""
    chunk = chunk or chunk_size(size, threads)
    chunks = math.ceil(size / chunk)
    helpers = min(threads, chunks) - 1
    counters = np.zeros(2, np.int64)
    args = (*args, counters, chunk)
    call = _Call(kernel, args)
    pool = _pool
    # Fewer helpers than asked for where threads could not start: the caller then takes
    # the chunks they would have taken.
    helpers = min(helpers, pool.ensure(helpers))
    for _ in range(helpers):
        pool.calls.put(call)
    # The caller's kernel returns once every chunk is taken, so what remains is to wait for
    # chunks helpers are finishing. (Ctrl-C during that wait raises KeyboardInterrupt
    # here; those helpers still finish their chunks.) The wait is in slices: a SIGINT that
    # arrives after Python last looked for signals but before an untimed wait blocks (in
    # the compiled polling loop, say) would leave the caller asleep until the helpers are
    # done, or for ever if one of them never comes back.
    if not kernel(*args) and not _poll_done(counters, chunks, _POLLS):
        while not call.finished.acquire(timeout=_WAIT_SLICE):
            pass
