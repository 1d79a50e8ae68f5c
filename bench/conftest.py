"""Shared inputs for the benchmarks: made once per (dtype, n), outside any timing."""

import functools
import importlib.util
import os

import numpy as np

# PyTorch must be imported before Numba's OpenMP threading layer and the benchmark
# kernels are set up: imported after them, torch.tanh on 1e5 float32 elements took
# 3.7 ms here instead of 30 us (an OpenMP runtime clash), which would flatter fastgrad.
if importlib.util.find_spec("torch") is not None:
    import torch  # noqa: F401

# The sizes benchmarked; ``make test`` runs every benchmark once at the two smaller ones
# (FASTGRAD_BENCH_SIZES=1000,100000) so the suite cannot rot without costing minutes.
SIZES = tuple(
    int(float(n)) for n in os.environ.get("FASTGRAD_BENCH_SIZES", "1e3,1e5,1e7").split(",")
)
DTYPES = (np.float32, np.float64)


@functools.cache
def inputs(dtype, n):
    """(x, grad_out): x uniform in [-10, 10], grad_out standard normal; seeded."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 10, n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    return x, g


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Keep the summary statistics, drop every round's raw timing (~100 MB per run)."""
    for bench in output_json["benchmarks"]:
        bench["stats"].pop("data", None)


def pytest_benchmark_update_machine_info(config, machine_info):
    """Figures are per CPU: record the one Numba compiled for beside pytest-benchmark's
    own CPU entry (``machine_info.cpu.brand_raw``)."""
    import llvmlite.binding as llvm

    from fastgrad import _jit

    machine_info["llvm_cpu"] = llvm.get_host_cpu_name()
    machine_info["native_ldexp"] = _jit.NATIVE_LDEXP
