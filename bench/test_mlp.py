"""A real program: one SGD step of a NumPy MLP (``mlp.py``), the hidden activation's
forward and backward from fastgrad (at its defaults, and on one thread) or from NumPy
formulas, with NumPy's BLAS at its default threads or on one thread, with and without another
process spinning on one core. A kernel is fast only if the program around it is.

Each group compares the three implementations on one (setting, shape, activation); the
extra info holds the step time's 90th percentile (the stalls a median hides) and the
activation's share of the step.
"""

import contextlib

import numpy as np
import pytest
from mlp import ACTIVATION_IMPLS, ACTIVATIONS, MLP, SHAPES, BusyCore, cpu_model

import fastgrad as fg

SETTINGS = ("blas-default", "blas-1thread", "busy-core", "busy-core-blas-1thread")
# Steps timed per benchmark: enough for a 90th percentile; the large shape's step is
# ~0.1 s, so fewer.
ROUNDS = {"256x256": 60, "4096x1024": 15}


@contextlib.contextmanager
def setting_context(setting):
    """BLAS at its default threads or on one, another process spinning on a core or not."""
    with contextlib.ExitStack() as stack:
        if setting.endswith("blas-1thread"):
            threadpoolctl = pytest.importorskip("threadpoolctl")
            stack.enter_context(threadpoolctl.threadpool_limits(1, user_api="blas"))
        if setting.startswith("busy-core"):
            stack.enter_context(BusyCore())
        yield


@pytest.mark.parametrize("impl", ACTIVATION_IMPLS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("setting", SETTINGS)
def test_mlp_step(benchmark, setting, shape, activation, impl):
    if impl == "numpy" and activation == "gelu":
        pytest.importorskip("scipy")
    threads = fg.get_num_threads()
    if impl == "fastgrad_1thread":
        fg.set_num_threads(1)
    try:
        with setting_context(setting):
            mlp = MLP(shape, activation, impl)
            for _ in range(3):  # warm-up: kernels load, BLAS starts its threads
                mlp.step()
            mlp.activation_seconds = 0.0
            benchmark.group = f"mlp {setting} {shape} {activation}"
            benchmark.pedantic(mlp.step, rounds=ROUNDS[shape], iterations=1)
            steps = ROUNDS[shape] if benchmark.enabled else 1
            data = benchmark.stats.stats.data if benchmark.enabled else [np.nan]
    finally:
        fg.set_num_threads(threads)
    benchmark.extra_info.update(
        program="mlp",
        setting=setting,
        shape=shape,
        activation=activation,
        impl=impl,
        threads=1 if impl == "fastgrad_1thread" else threads,
        p90=float(np.percentile(data, 90)),
        activation_seconds=mlp.activation_seconds / steps,
        cpu=cpu_model(),
    )
    assert np.isfinite(mlp.step())
