"""The speed scripts run (``python -m bench.against_torch``, ``bench.thread_gain``, ``python -m
bench.start_latency``): tiny sizes and few calls, for the output's shape, not its
figures (speed is a benchmark, never a test)."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

from fastgrad import _threads


def test_start_latency_stamps_every_helper_that_helps(monkeypatch):
    from bench import start_latency

    monkeypatch.setattr(_threads, "current", 2)
    starts, took = start_latency.measure(4 * _threads.PARALLEL_MIN_SIZE, 4, 0.0)
    assert starts.shape == took.shape == (3,)
    assert np.all(took > 0)
    assert np.all(np.isnan(starts) | (starts > 0))
    assert _threads._Call.__init__.__module__ == "fastgrad._threads"  # unwrapped again


def _script_lines(module, *args):
    """``python -m <module> *args`` from the checkout: its stdout lines (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=pathlib.Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_against_torch_prints_one_row_per_activation_kind_size_and_thread_count():
    pytest.importorskip("torch")
    lines = _script_lines("bench.against_torch", "--sizes", "1e3", "--calls", "5")
    assert lines[0].startswith("CPU: ")
    rows = [line for line in lines if line.startswith("| ") and "e+03" in line]
    assert len(rows) == 2 * 10  # ROWS x (1, 2 threads)


def test_thread_gain_prints_one_row_per_kernel_and_size():
    lines = _script_lines("bench.thread_gain", "--sizes", "2^15,1e5", "--calls", "3")
    assert lines[0].startswith("CPU: ")
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 4 * 2
    assert all(float(row.split("|")[-2]) > 0 for row in rows)


def _bench_script_lines(script, *args):
    """``python bench/<script> *args`` (the bench folder's own imports): stdout lines."""
    root = pathlib.Path(__file__).parents[1]
    done = subprocess.run(
        [sys.executable, str(root / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_layer_ffn_and_saved_study_print_their_tables():
    pytest.importorskip("torch")
    rows = [
        line
        for line in _bench_script_lines(
            "layer.py", "--sizes", "2048", "--rounds", "1", "--repeats", "2"
        )
        if line.startswith("| ") and "---" not in line
    ]
    assert len(rows) == 1 + 5  # header, one row per function
    rows = [
        line
        for line in _bench_script_lines(
            "ffn.py", "--steps", "1", "--rounds", "1", "--shapes", "256x1024"
        )
        if line.startswith("| 256x1024")
    ]
    assert len(rows) == 3
    rows = [
        line
        for line in _bench_script_lines("gated_saved.py", "--n", "4096", "--rows", "reglu")
        if line.startswith("| ") and "---" not in line
    ]
    assert len(rows) == 1 + 1


def test_softmax_bench_prints_its_table():
    rows = [
        line
        for line in _bench_script_lines(
            "softmax.py",
            "--shapes",
            "0",
            "--dtypes",
            "float32",
            "--functions",
            "softmax",
            "logsumexp",
            "--rounds",
            "1",
            "--repeats",
            "1",
        )
        if line.startswith("| ") and "---" not in line
    ]
    assert len(rows) == 1 + 4  # header; two functions, forward and backward


def test_epilogue_bench_prints_its_table():
    lines = _bench_script_lines(
        "epilogue.py", "--shapes", "64x48", "--rounds", "1", "--repeats", "1", "--threads", "1"
    )
    rows = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 2  # header; gelu and sigmoid
    assert all(row.count("|") == 15 for row in rows)
