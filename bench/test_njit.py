"""fastgrad inside the user's @njit code, in a program: one dense layer's bias, gelu
and gelu's derivative fused into one loop after the matmul (examples/fused_layer.py),
against the same work as a NumPy/fastgrad sequence (``h = x @ w; h += b;
fg.gelu_fwd_grad(h, out=...)``). Batch 256 x 784 -> 256, float32, one thread for BLAS and
fastgrad (the fused loop is serial)."""

import pathlib
import sys

import numpy as np
import pytest

import fastgrad as fg

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "examples"))
from fused_layer import dense_gelu_forward  # noqa: E402

BATCH, N_IN, N_OUT = 256, 784, 256


@pytest.mark.parametrize("variant", ["sequence", "fused"])
def test_dense_layer(benchmark, variant):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, N_IN)).astype(np.float32)
    w = (rng.standard_normal((N_IN, N_OUT)) / np.sqrt(N_IN)).astype(np.float32)
    b = rng.standard_normal(N_OUT).astype(np.float32)
    y, d = np.empty((BATCH, N_OUT), np.float32), np.empty((BATCH, N_OUT), np.float32)

    def fused():
        dense_gelu_forward(x @ w, b, y, d)

    def sequence():
        h = x @ w
        h += b
        fg.gelu_fwd_grad(h, out=(y, d))

    call = fused if variant == "fused" else sequence
    threads = fg.get_num_threads()
    fg.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(1, user_api="blas"):
            call()  # compiles the fused loop outside the timing
            benchmark.group = "njit fused dense layer"
            benchmark.extra_info.update(program="studies", study="njit-fused", function="gelu")
            benchmark.extra_info.update(n=BATCH * N_OUT, variant=variant)
            benchmark(call)
    finally:
        fg.set_num_threads(threads)
