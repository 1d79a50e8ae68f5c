"""When the machinery around the kernels goes wrong: concurrent first calls, damaged or
missing caches, Ctrl-C during a compile, parameter values that compare equal, odd inputs.
Each must end in a correct result or a clear error. Programs that need a fresh process
(an empty or damaged kernel cache) run in a subprocess with their own NUMBA_CACHE_DIR."""

import importlib.util
import os
import pathlib
import select
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastgrad as fg

TIME_LIMIT = 300


def run_program(code, cache_dir, **env):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        env={**os.environ, "NUMBA_CACHE_DIR": str(cache_dir), **env},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_concurrent_first_read_only_calls_compile_once_and_all_succeed(tmp_path):
    """Eight threads make the same first call on a read-only array at once, with an
    empty cache (so the compile takes a while): one compiles, all get the kernel."""
    code = """
        import threading
        import numpy as np
        import fastgrad as fg

        x = np.linspace(-5, 5, 1000)
        want = fg.sigmoid(x)
        ro = x.copy()
        ro.flags.writeable = False
        start, results = threading.Barrier(8), []

        def call():
            start.wait()
            try:
                results.append(np.array_equal(fg.sigmoid(ro), want))
            except Exception as exc:
                results.append(repr(exc))

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(results)
    """
    for attempt in range(2):
        out = run_program(code, tmp_path / str(attempt))
        assert out.strip() == str([True] * 8), out


def _cache_files(cache_dir, pattern):
    files = sorted(pathlib.Path(cache_dir).rglob(pattern))
    assert files, f"no {pattern} under {cache_dir}"
    return files


RELU_CALL = """
    import warnings
    import numpy as np
    import fastgrad as fg

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = fg.relu(np.array([-1.0, 0.0, 2.0]))
    print(y.tolist())
    print([str(w.message) for w in caught if "fastgrad" in str(w.message)])
"""


def _truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def _overwrite_4k(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = os.urandom(len(data[middle : middle + 4096]))
    path.write_bytes(bytes(data))


def _empty(path):
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage, pattern",
    [
        (_truncate, "*relu__forward*.nbc"),
        (_overwrite_4k, "*relu__forward*.nbc"),
        (_empty, "*relu__forward*.nbi"),
    ],
    ids=["truncated nbc", "4 KiB overwritten in nbc", "emptied nbi"],
)
def test_a_damaged_cache_entry_is_recompiled_with_one_warning(tmp_path, damage, pattern):
    first = run_program(RELU_CALL, tmp_path).splitlines()
    assert first == ["[0.0, 0.0, 2.0]", "[]"]
    for path in _cache_files(tmp_path, pattern):
        damage(path)
    result, warned = run_program(RELU_CALL, tmp_path).splitlines()
    assert result == "[0.0, 0.0, 2.0]"
    assert warned.count("could not be used") == 1, warned
    assert "relu__forward__float64__serial" in warned  # names the kernel and its folder
    # rewritten: the next process loads it without a word
    assert run_program(RELU_CALL, tmp_path).splitlines() == ["[0.0, 0.0, 2.0]", "[]"]


def test_no_writable_cache_place_means_in_memory_kernels_and_one_warning(tmp_path):
    """Numba finds no place it may write its cache (simulated: every locator declines,
    as for a read-only install with a read-only home and no NUMBA_CACHE_DIR)."""
    code = """
        import warnings
        from numba.core import caching

        for locator in caching.CacheImpl._locator_classes:
            locator.from_function = classmethod(lambda cls, *args: None)

        import numpy as np

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import fastgrad as fg

            y = fg.relu(np.array([-1.0, 2.0]))
            d = fg.relu_grad(np.array([-1.0, 2.0]))
        print(y.tolist(), d.tolist())
        print(sum("no writable place" in str(w.message) for w in caught))
        print(*(w.message for w in caught if "no writable place" in str(w.message)))
    """
    values, warnings_count, message = run_program(code, tmp_path).splitlines()
    assert values == "[0.0, 2.0] [0.0, 1.0]"
    assert warnings_count == "1"
    # NUMBA_CACHE_DIR is set (to tmp_path): the advice is not to set it
    assert f"NUMBA_CACHE_DIR ({tmp_path}) cannot be written" in message, message
    unset = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        env={k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"},
    )
    assert unset.returncode == 0, unset.stderr[-3000:]
    assert "Set NUMBA_CACHE_DIR to a writable folder" in unset.stdout.splitlines()[-1]


def test_ctrl_c_during_a_first_compile_raises_keyboard_interrupt_and_the_next_call_works(
    tmp_path,
):
    """SIGINT arrives while Numba lowers the first kernel (raised from inside the
    compile, so it cannot come too late): KeyboardInterrupt, then a working next call."""
    code = """
        import signal
        # Python's own Ctrl-C handler, also where this test runs with SIGINT ignored (a
        # shell's background job inherits SIG_IGN, and Python then installs no handler)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import numpy as np
        from numba.core import cpu
        import fastgrad as fg

        lowering = cpu.CPUContext.apply_target_attributes  # runs while a kernel compiles
        fired = []

        def interrupted(self, *args, **kwargs):
            if not fired:
                fired.append(True)
                signal.raise_signal(signal.SIGINT)  # Ctrl-C, delivered mid-compile
            return lowering(self, *args, **kwargs)

        cpu.CPUContext.apply_target_attributes = interrupted
        x = np.linspace(-3, 3, 11)
        try:
            fg.gelu_backward(x, x)  # compiles: the cache is empty
            print("finished", fired)
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        print(np.allclose(fg.gelu_backward(x, x), fg.reference.gelu_backward(x, x)))
    """
    out = run_program(code, tmp_path).splitlines()
    assert out == ["KeyboardInterrupt", "True"], out


def test_a_cache_file_swapped_for_another_kernels_is_recompiled_with_one_warning(tmp_path):
    """softplus's float64 forward kernel file copied over relu's: the index points at a
    file holding other code (it returned [inf inf inf]); the loaded code names the
    function it was compiled from, so the mismatch is caught and relu compiled again."""
    code = RELU_CALL + "    print(fg.softplus(np.array([1.0])).tolist())\n"
    first = run_program(code, tmp_path).splitlines()
    assert first[:2] == ["[0.0, 0.0, 2.0]", "[]"]
    (relu,) = _cache_files(tmp_path, "*relu__forward__float64__serial*.nbc")
    (softplus,) = _cache_files(tmp_path, "*softplus__forward__float64__serial*.nbc")
    relu.write_bytes(softplus.read_bytes())
    result, warned, _ = run_program(code, tmp_path).splitlines()
    assert result == "[0.0, 0.0, 2.0]"
    assert warned.count("could not be used") == 1 and "it holds softplus__forward" in warned
    assert run_program(code, tmp_path).splitlines()[:2] == ["[0.0, 0.0, 2.0]", "[]"]


def _index_files(cache_dir):
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in cache_dir.rglob("*.nbi")}


FIRST_CALLS = {
    "a kernel": "fg.sigmoid(x)",
    # a helper of parallel calls, which Numba compiles (or loads) on its first call
    "a helper": "fg._threads._poll_done(np.zeros(2, np.int64), 0, 1)",
}


@pytest.mark.parametrize("first_call", FIRST_CALLS.values(), ids=list(FIRST_CALLS))
def test_an_interrupt_inside_numbas_registry_generator_breaks_nothing(tmp_path, first_call):
    """The issue's deterministic repro: a trace hook raises KeyboardInterrupt on entry to
    numba.core.utils.stream_list during sigmoid's first call (a warm cache). Every later
    first call raised 'generator raised StopIteration', and the valid index was flushed.
    Now: KeyboardInterrupt, then every call works and no cache file is rewritten."""
    warm = (
        "import numpy as np, fastgrad as fg; x = np.ones(3); fg.sigmoid(x); fg.tanh(x); "
        + first_call
    )
    run_program(warm, tmp_path)
    before = _index_files(tmp_path)
    code = """
        import sys
        import numpy as np
        import numba.core.utils
        import fastgrad as fg

        target, fired = numba.core.utils.stream_list.__code__, []

        def tracer(frame, event, arg):
            if event == "call" and frame.f_code is target and not fired:
                fired.append(True)
                raise KeyboardInterrupt
            return None

        x = np.linspace(-3, 3, 7)
        sys.settrace(tracer)
        try:
            FIRST_CALL
            print("no interrupt")
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        sys.settrace(None)
        print(np.allclose(fg.sigmoid(x), fg.reference.sigmoid(x)))
        print(np.allclose(fg.tanh(x), np.tanh(x)))
    """
    code = code.replace("FIRST_CALL", first_call)
    out = run_program(code, tmp_path, PYTHONWARNINGS="error").splitlines()
    assert out == ["KeyboardInterrupt", "True", "True"], out
    assert _index_files(tmp_path) == before  # nothing flushed or rewritten


def test_a_sigint_storm_during_first_calls_crashes_nothing():
    """SIGINT every ~3 ms while a process makes its first calls (kernels loading from a
    warm cache): each call either returns or raises KeyboardInterrupt, the process never
    crashes or hangs, and every result is right (it crashed with SIGSEGV or SIGABRT, or
    hung, when the interrupt landed inside llvmlite or Numba). The gated activations',
    PReLU's, softmax's (rows and tiles) and the bias epilogue's kernels (their own
    compile paths) are among the first calls."""
    names = [f"{a.name}{suffix}" for a in fg.TABLE for suffix in ("", "_grad")]
    names = [n for n in names if not n.startswith("threshold")]
    code = f"""
        import hashlib, signal, sys
        import numpy as np
        import fastgrad as fg

        DTYPES = (np.float32, np.float64)
        armed = [False]

        def on_sigint(signum, frame):
            if armed[0]:  # interrupts land inside fastgrad's calls only
                raise KeyboardInterrupt

        x = np.linspace(-5, 5, 41)
        calls = [lambda d, n=n: getattr(fg, n)(x.astype(d)) for n in {names!r}] + [
            lambda d: fg.swiglu(x.astype(d), x[::-1].astype(d)),
            lambda d: fg.geglu_backward(x.astype(d), x.astype(d), x[::-1].astype(d))[0],
            lambda d: fg.glu(x[:40].astype(d)),
            lambda d: fg.reglu_packed_backward(x[:20].astype(d), x[:40].astype(d)),
            lambda d: fg.prelu_backward(x.astype(d), x.astype(d), np.array([0.25], d))[1],
            lambda d: fg.softmax(x[:40].reshape(8, 5).astype(d), -1),
            lambda d: fg.log_softmax(x[:40].reshape(8, 5).astype(d), 0),
            lambda d: fg.logsumexp(x.astype(d), 0).reshape(1),
            lambda d: fg.softmax_backward(x.astype(d), x[::-1].astype(d), 0),
            lambda d: fg.logsumexp_backward(
                np.ones(5, d), x[:40].reshape(8, 5).astype(d), np.zeros(5, d), 0
            ),
            lambda d: fg.gelu_bias(x[:40].reshape(8, 5).astype(d), x[:5].astype(d)),
            lambda d: fg.sigmoid_bias_fwd_grad(x[:40].reshape(8, 5).astype(d), x[:5].astype(d))[1],
            lambda d: fg.silu_bias_backward(
                x[:40].reshape(8, 5).astype(d),
                x[::-1][:40].reshape(8, 5).astype(d),
                x[:5].astype(d),
            )[1],
            lambda d: fg.tanh_bias_backward_from_grad(
                x[:40].reshape(8, 5).astype(d), x[::-1][:40].reshape(8, 5).astype(d)
            )[1],
        ]

        def digest(results):
            return hashlib.sha256(b"".join(r.tobytes() for r in results)).hexdigest()

        if sys.argv[-1] == "warm":  # load or compile into the cache, print the results' digest
            print(digest([call(d) for call in calls for d in DTYPES]))
            raise SystemExit
        signal.signal(signal.SIGINT, on_sigint)
        print("ready", flush=True)
        sys.stdin.readline()  # the storm has begun
        interrupted, results = 0, []
        for call in calls:
            for dtype in DTYPES:
                while True:
                    armed[0] = True
                    try:
                        results.append(call(dtype))
                        armed[0] = False
                        break
                    except KeyboardInterrupt:
                        armed[0] = False
                        interrupted += 1
        print("computed", interrupted, flush=True)
        print(digest(results), flush=True)
    """
    # the package's own cache, which `make compile` filled: first calls load kernels.
    # A process without interrupts gives the results' digest (and loads or compiles).
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    warm = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), "warm"],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        env=env,
    )
    assert warm.returncode == 0, warm.stderr[-3000:]
    want = warm.stdout.strip()
    for storm in range(2):
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert child.stdout.readline().strip() == "ready"
            child.stdin.write("go\n")
            child.stdin.flush()
            deadline = time.monotonic() + 120
            while child.poll() is None and time.monotonic() < deadline:
                child.send_signal(signal.SIGINT)
                time.sleep(0.003)
                if select.select([child.stdout], [], [], 0)[0]:
                    break  # 'computed': the storm is over
            out, err = child.communicate(timeout=TIME_LIMIT)
        finally:
            child.kill()
        assert child.returncode == 0, (storm, child.returncode, err[-3000:])
        assert out.split()[-1] == want, out


# ------------------------------------------------------------------- parameter values

PARAMETERISED = [
    ("threshold", "value", {"threshold": 1.0}),
    ("leaky_relu", "negative_slope", {}),
    ("hardtanh", "min_val", {"max_val": 1.0}),
    ("elu", "alpha", {}),
]


@pytest.mark.parametrize("name, param, others", PARAMETERISED)
def test_the_sign_of_a_zero_parameter_does_not_depend_on_call_history(name, param, others):
    f = getattr(fg, name)
    x = np.array([-2.0, -1.0, 0.5])
    for first, second in ((-0.0, 0.0), (0.0, -0.0)):
        f(x, **{param: first}, **others)
        got = f(x, **{param: second}, **others)
        fresh = f(x.reshape(1, 3), **{param: second}, **others)[0]  # the general path
        np.testing.assert_array_equal(np.signbit(got), np.signbit(fresh))
        np.testing.assert_array_equal(got, fresh)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -0.5]), min_size=1, max_size=12))
def test_threshold_value_results_match_the_uncached_path_in_any_call_order(values):
    x = np.array([-3.0, 0.0, 1.0, 2.0])
    for value in values:
        got = fg.threshold(x, threshold=1.0, value=value)
        want = fg.threshold(x.reshape(2, 2), threshold=1.0, value=value).reshape(-1)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
        np.testing.assert_array_equal(got, want)
        assert np.signbit(got[0]) == np.signbit(value)


@pytest.mark.parametrize("big", [10**400, -(10**400)])
def test_a_parameter_too_large_for_a_float_is_a_value_error(big):
    x = np.linspace(-1, 1, 5)
    with pytest.raises(ValueError, match="negative_slope"):
        fg.leaky_relu(x, negative_slope=big)
    with pytest.raises(ValueError, match="too large"):
        fg.leaky_relu(x.reshape(5, 1), negative_slope=big)


# ------------------------------------------------------------------------ odd inputs


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch not installed")
def test_a_tensor_that_requires_grad_is_a_type_error():
    import torch

    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(TypeError, match="not an array of numbers"):
        fg.sigmoid(t)


def test_fwd_grad_accepts_two_empty_outputs_at_one_address():
    base = np.empty(4)
    y, d = base[:0], base[:0]
    assert y.__array_interface__["data"][0] == d.__array_interface__["data"][0]
    got = fg.tanh_fwd_grad(np.empty(0), out=(y, d))
    assert got[0] is y and got[1] is d


@pytest.mark.parametrize("order", [">", "<"])
def test_out_in_either_byte_order(order):
    x = np.linspace(-3, 3, 7)
    out = np.empty(7, dtype=np.dtype(np.float64).newbyteorder(order))
    fg.softplus(x, out=out)
    np.testing.assert_array_equal(out, fg.softplus(x))
    outs = (np.empty(7, out.dtype), np.empty(7, out.dtype))
    fg.softplus_fwd_grad(x, out=outs)
    np.testing.assert_array_equal(outs[1], fg.softplus_grad(x))
