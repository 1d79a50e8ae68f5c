"""The transformer feed-forward block's SGD step (``ffn.py``): fastgrad's SwiGLU (packed,
the backward over h), NumPy formulas, and PyTorch eager, at the two shapes. BLAS at its
default threads."""

import numpy as np
import pytest
from ffn import IMPLS, SHAPES, make
from mlp import cpu_model

import fastgrad as fg

ROUNDS = {"256x1024": 30, "4096x2816": 5}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", SHAPES)
def test_ffn_step(benchmark, shape, impl):
    if impl == "torch":
        pytest.importorskip("torch")
    block = make(shape, impl)
    for _ in range(2):  # warm-up
        block.step()
    benchmark.group = f"ffn {shape}"
    benchmark.extra_info.update(
        program="ffn", shape=shape, impl=impl, threads=fg.get_num_threads(), cpu=cpu_model()
    )
    benchmark.pedantic(block.step, rounds=ROUNDS[shape], iterations=1)
    assert np.isfinite(block.step())
