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

# Which benchmarks run: ``make bench`` the quick set (FASTGRAD_BENCH_SET=quick: what a
# newcomer wants in about five minutes: the seed trio and the two most used smooth
# activations, forward and backward, float32, at five sizes from 1e3 to 1e7, and the MLP
# step with BLAS at its defaults), ``make bench-full`` every benchmark (the default).
QUICK = os.environ.get("FASTGRAD_BENCH_SET", "full") == "quick"
QUICK_ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "silu")
QUICK_KINDS = ("forward", "backward")
QUICK_FILES = ("test_activations.py", "test_mlp.py")

# The sizes benchmarked; ``make test`` runs every benchmark once at the two smaller ones
# (FASTGRAD_BENCH_SIZES=1000,100000) so the suite cannot rot without costing minutes.
_DEFAULT_SIZES = "1e3,1e4,1e5,1e6,1e7" if QUICK else "1e3,1e5,1e7"
SIZES = tuple(
    int(float(n)) for n in os.environ.get("FASTGRAD_BENCH_SIZES", _DEFAULT_SIZES).split(",")
)
DTYPES = (np.float32,) if QUICK else (np.float32, np.float64)


def _in_quick_set(item):
    if item.path.name not in QUICK_FILES:
        return False
    params = item.callspec.params if hasattr(item, "callspec") else {}
    if "case" in params:
        return params["case"].label in QUICK_ACTIVATIONS and params["kind_row"].name in QUICK_KINDS
    if "kind" in params:  # the memory floors
        return params["kind"] in QUICK_KINDS
    return params.get("setting") == "blas-default"  # the MLP step


def pytest_collection_modifyitems(config, items):
    """The quick set only, when it is asked for."""
    if not QUICK:
        return
    kept = [item for item in items if _in_quick_set(item)]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


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
