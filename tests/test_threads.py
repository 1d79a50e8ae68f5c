"""Threads and processes: fastgrad inside programs that fork, use thread pools or pick
another Numba threading layer. Each program runs in a fresh interpreter (a subprocess
with a time limit), since what is tested is process state: which threads exist, what a
forked child inherits, which layer Numba loads."""

import importlib.util
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import _threads

# Every program below finishes in seconds; a hang (a forked child stuck on a lock or a
# dead thread pool) fails the test at this limit instead of stopping the suite.
TIME_LIMIT = 240


def run_program(code, **env):
    """Run ``code`` in a fresh interpreter; returns its stdout, fails on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# A parallel-sized workload (every kind, both dtypes) and its digest: a child's result is
# compared with the parent's bit for bit.
WORKLOAD = """
import hashlib
import numpy as np
import fastgrad as fg

def work(seed=0):
    h = hashlib.sha256()
    rng = np.random.default_rng(seed)
    for dtype in (np.float32, np.float64):
        x = (rng.standard_normal(2**20 + 5) * 4).astype(dtype)  # parallel for every kernel
        g = rng.standard_normal(x.size).astype(dtype)
        for arr in (fg.gelu(x), fg.sigmoid_backward(g, x), *fg.silu_fwd_grad(x), fg.relu(x)):
            h.update(arr.tobytes())
    return h.hexdigest()
"""


def test_import_starts_no_thread_and_no_numba_threading_layer():
    out = run_program(
        """
        import threading
        import numba.np.ufunc.parallel as layer
        import fastgrad
        print(threading.active_count(), layer._is_initialized)
        """
    )
    assert out.split() == ["1", "False"]


def test_parallel_calls_use_fastgrads_helpers_not_numbas_threading_layer():
    out = run_program(
        WORKLOAD
        + """
import threading
import numba.np.ufunc.parallel as layer
fg.set_num_threads(2)
work()
names = sorted(t.name for t in threading.enumerate() if t.name.startswith("fastgrad"))
print(layer._is_initialized, names)
"""
    )
    assert out.strip() == "False ['fastgrad-1']"


@pytest.mark.parametrize("parent_ran", ["nothing", "parallel calls"])
def test_fork_pool_children_compute_what_the_parent_does(parent_ran):
    """A multiprocessing 'fork' pool (Linux's default before Python 3.14) after import
    only, and after the parent ran parallel calls (its helper threads do not exist in
    the children, which start their own)."""
    out = run_program(
        WORKLOAD
        + f"""
import multiprocessing
fg.set_num_threads(2)
if {parent_ran == "parallel calls"}:
    work()
with multiprocessing.get_context("fork").Pool(2) as pool:
    children = pool.map(work, [0, 0, 1])
print(children == [work(0), work(0), work(1)])
"""
    )
    assert out.strip() == "True"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch not installed")
def test_torch_dataloader_workers_call_fastgrad():
    out = run_program(
        """
        import numpy as np
        import torch
        from torch.utils.data import DataLoader, Dataset
        import fastgrad as fg

        class Activated(Dataset):
            def __len__(self):
                return 6
            def __getitem__(self, i):
                x = np.random.default_rng(i).standard_normal(1 << 18).astype(np.float32)
                return torch.from_numpy(fg.gelu_backward(fg.gelu(x), x))

        fg.set_num_threads(2)
        fg.gelu(np.ones(1 << 20, np.float32))  # the parent's helpers are running
        loaded = list(DataLoader(Activated(), batch_size=2, num_workers=2))
        direct = list(DataLoader(Activated(), batch_size=2, num_workers=0))
        print(all(torch.equal(a, b) for a, b in zip(loaded, direct)) and len(loaded) == 3)
        """
    )
    assert out.strip() == "True"


CONCURRENT = (
    WORKLOAD
    + """
import threading
from concurrent.futures import ThreadPoolExecutor
fg.set_num_threads(1)
want = [work(seed) for seed in range(4)]
fg.set_num_threads(2)
small = np.linspace(-5, 5, 1000)
small_want = fg.tanh_backward(small, small)

def task(i):
    seed = i % 4
    ok = work(seed) == want[seed]
    return ok and np.array_equal(fg.tanh_backward(small, small), small_want)

with ThreadPoolExecutor(8) as pool:
    print(all(pool.map(task, range(32))))
"""
)


@pytest.mark.parametrize("layer", ["default", "omp", "workqueue", "tbb"])
def test_many_threads_at_once_get_the_serial_bits_under_any_threading_layer(layer):
    """Eight Python threads (a thread pool, Dask's threaded scheduler) calling fastgrad at
    once, whatever NUMBA_THREADING_LAYER says: workqueue (which aborts concurrent
    parallel code) and tbb (not installed here: an unavailable layer) included."""
    env = {} if layer == "default" else {"NUMBA_THREADING_LAYER": layer}
    assert run_program(CONCURRENT, **env).strip() == "True"


def test_results_do_not_depend_on_the_thread_count(monkeypatch):
    monkeypatch.setattr(_threads, "CHUNK", 4096)  # many chunks, a ragged last one
    x = np.random.default_rng(1).standard_normal(_threads.PARALLEL_MIN_SIZE + 999) * 6
    outs = []
    for n in (1, 2, 5):
        monkeypatch.setattr(_threads, "current", n)
        outs.append((fg.gelu(x), fg.mish_backward(x, x), *fg.elu_fwd_grad(x)))
    for got in outs[1:]:
        for a, b in zip(got, outs[0], strict=True):
            np.testing.assert_array_equal(a, b)


def test_large_calls_take_larger_chunks_and_the_same_bits():
    assert _threads.chunk_size(_threads.PARALLEL_MIN_SIZE, 2) == _threads.CHUNK
    assert _threads.chunk_size(10**7, 2) == _threads.CHUNK_MAX
    sizes = [_threads.chunk_size(n, 2) for n in (2**17, 2**19, 2**21, 2**23, 2**25)]
    assert sizes == sorted(sizes)
    x = np.random.default_rng(2).standard_normal(3 * _threads.CHUNK_MAX * 16 + 7)
    threads = fg.get_num_threads()
    try:
        fg.set_num_threads(1)
        want = fg.sigmoid_backward_from_output(x, x), fg.gelu(x)
        fg.set_num_threads(2)
        got = fg.sigmoid_backward_from_output(x, x), fg.gelu(x)
    finally:
        fg.set_num_threads(threads)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_num_threads_is_process_wide():
    before = fg.get_num_threads()
    seen = []
    try:
        fg.set_num_threads(1)
        worker = threading.Thread(target=fg.set_num_threads, args=(2,))
        worker.start()
        worker.join()
        seen.append(fg.get_num_threads())  # read in this thread
        reader = threading.Thread(target=lambda: seen.append(fg.get_num_threads()))
        reader.start()
        reader.join()
    finally:
        fg.set_num_threads(before)
    assert seen == [2, 2]


def test_set_num_threads_takes_integers_only():
    before = fg.get_num_threads()
    try:
        fg.set_num_threads(np.int64(1))  # NumPy integers are integers
        assert fg.get_num_threads() == 1 and type(fg.get_num_threads()) is int
        for bad, error in ((0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)):
            with pytest.raises(error, match="set_num_threads"):
                fg.set_num_threads(bad)
        assert fg.get_num_threads() == 1
    finally:
        fg.set_num_threads(before)


def _run_failing(code, **env):
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        env={**os.environ, **env},
    )
    return result.returncode, result.stderr


def test_default_thread_count_is_the_cpus_available_or_the_environments():
    code = "import fastgrad; print(fastgrad.get_num_threads())"
    cpus = len(os.sched_getaffinity(0))
    assert run_program(code).strip() == str(cpus)
    assert run_program(code, FASTGRAD_NUM_THREADS="1").strip() == "1"
    # more than the CPUs: the CPUs, with a warning
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        env={**os.environ, "FASTGRAD_NUM_THREADS": "1000"},
    )
    assert result.returncode == 0 and result.stdout.strip() == str(cpus)
    assert "FASTGRAD_NUM_THREADS asks for 1000 threads" in result.stderr
    # strictly ASCII digits: '²' passes str.isdigit and fails in int()
    for bad in ("many", "\u00b2", "0", "-1", "1.5"):
        returncode, stderr = _run_failing(code, FASTGRAD_NUM_THREADS=bad)
        assert returncode != 0 and "ValueError: FASTGRAD_NUM_THREADS must be" in stderr, bad


def test_more_threads_than_cpus_are_not_used():
    before = fg.get_num_threads()
    cpus = len(os.sched_getaffinity(0))
    try:
        with pytest.warns(RuntimeWarning, match=f"using {cpus}"):
            fg.set_num_threads(10**6)
        assert fg.get_num_threads() == cpus
    finally:
        fg.set_num_threads(before)


def test_helpers_that_cannot_start_leave_the_call_correct_and_the_count_true(monkeypatch):
    """Under a thread or memory limit, Thread.start raises RuntimeError: the call computes
    every chunk itself, and the pool counts only the helpers that run."""
    x = np.linspace(-8, 8, 4 * _threads.PARALLEL_MIN_SIZE)
    want = fg.gelu(x[:5000])
    pool = _threads._Pool()
    monkeypatch.setattr(_threads, "_pool", pool)
    monkeypatch.setattr(_threads, "current", 2)

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    got = fg.gelu(x)
    assert pool.helpers == 0
    monkeypatch.undo()
    np.testing.assert_array_equal(got[:5000], want)
    np.testing.assert_array_equal(got, fg.gelu(x))


def test_a_fork_during_a_compile_waits_for_it_and_the_child_computes(tmp_path):
    """A thread compiles (an empty cache: seconds) while another forks a Pool: the fork
    waits for the compile, and the child's first call compiles and returns (it hung on
    the compile lock the fork had copied while held)."""
    out = run_program(
        """
        import multiprocessing, threading, time
        import numpy as np
        import fastgrad as fg
        x = np.linspace(-3, 3, 11)
        compiling = threading.Thread(target=fg.gelu_fwd_grad, args=(x,))
        compiling.start()
        time.sleep(0.5)
        with multiprocessing.get_context("fork").Pool(1) as pool:
            child = pool.apply_async(fg.sigmoid, (x,)).get(timeout=180)
        compiling.join()
        assert np.array_equal(child, fg.sigmoid(x))
        print("ok")
        """,
        NUMBA_CACHE_DIR=str(tmp_path),
    )
    assert out.strip() == "ok"


def test_a_helper_that_never_runs_delays_nothing_but_its_own_chunk(monkeypatch):
    """Every helper busy elsewhere (another call, a descheduled thread): the caller takes
    every chunk nobody else took, so the call completes, with the same bits."""
    monkeypatch.setattr(_threads, "current", 3)
    x = np.linspace(-8, 8, 4 * _threads.PARALLEL_MIN_SIZE)
    blocker = threading.Event()
    pool = _threads._pool
    pool.ensure(2)  # the helpers a 3-thread call uses; none is started by the call
    for _ in range(pool.helpers):  # occupy every helper until the call is done
        pool.calls.put(_Blocking(blocker))
    busy = pool.helpers
    try:
        got = fg.softplus(x)
    finally:
        blocker.set()
    assert pool.helpers == busy  # it was the caller that computed every chunk
    monkeypatch.setattr(_threads, "current", 1)
    np.testing.assert_array_equal(got, fg.softplus(x))


class _Blocking:
    """A call that keeps a helper busy until ``event`` is set."""

    def __init__(self, event):
        self.event = event

    def help(self):
        self.event.wait(TIME_LIMIT)


def test_ctrl_c_while_waiting_for_a_helper_raises_keyboard_interrupt(monkeypatch):
    """The caller has done its chunks and waits for one a helper holds: SIGINT raises
    KeyboardInterrupt there (not a hang, not another exception)."""
    import signal
    import time

    monkeypatch.setattr(_threads, "_POLLS", 10)
    # Python's own Ctrl-C handler, also where the suite runs with SIGINT ignored (a shell's
    # background job inherits SIG_IGN, and Python then installs no handler)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    helper_has_chunk, release_helper = threading.Event(), threading.Event()
    lock = threading.Lock()

    def kernel(counters, chunk):
        """A stand-in for a chunked kernel: a helper takes chunk 0 and holds it; like a
        real one it returns True when it counted the last chunk (so that a missed SIGINT
        fails the test instead of hanging it)."""
        on_helper = threading.current_thread().name.startswith("fastgrad")
        last = False
        while True:
            with lock:
                index = int(counters[0])
                counters[0] += 1
            if index >= 4:
                return last
            if on_helper:
                helper_has_chunk.set()
                release_helper.wait(TIME_LIMIT)
            elif not helper_has_chunk.is_set():  # let the helper take the first chunk
                with lock:
                    counters[0] -= 1
                helper_has_chunk.wait(TIME_LIMIT)
                continue
            with lock:
                counters[1] += 1
                last = counters[1] == 4

    timer = threading.Timer(
        0.5, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)
    )
    fallback = threading.Timer(20, release_helper.set)  # no hang if the SIGINT is missed
    timer.start()
    fallback.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            _threads.run_parallel(kernel, (), 4 * _threads.CHUNK, 2)
        assert time.monotonic() - start < 10
    finally:
        release_helper.set()
        timer.cancel()
        fallback.cancel()
        signal.signal(signal.SIGINT, previous)


def test_the_caller_waits_for_helpers_in_slices(monkeypatch):
    """The caller's wait for a helper's last chunk is a series of timed waits: a SIGINT
    that lands just before an untimed wait blocks would otherwise be seen only when the
    helpers finish (a hang, if one never does)."""
    monkeypatch.setattr(_threads, "_POLLS", 1)
    timeouts = []
    real_call = _threads._Call

    class RecordingLock:
        def __init__(self):
            self.lock = threading.Lock()
            self.lock.acquire()

        def acquire(self, blocking=True, timeout=-1):
            timeouts.append(timeout)
            return self.lock.acquire(blocking, timeout)

        def release(self):
            self.lock.release()

    def call(kernel, args):
        made = real_call(kernel, args)
        made.finished = RecordingLock()
        return made

    monkeypatch.setattr(_threads, "_Call", call)
    helper_started = threading.Event()

    def kernel(counters, chunk):
        """Two chunks: the helper does both, slowly; the caller none."""
        if threading.current_thread().name.startswith("fastgrad"):
            helper_started.set()
            threading.Event().wait(0.3)
            counters[0] += 2
            counters[1] += 2
            return True
        helper_started.wait(10)
        return False

    _threads.run_parallel(kernel, (), 2 * _threads.CHUNK, 2)
    assert len(timeouts) >= 2 and all(0 < t <= 1 for t in timeouts), timeouts
