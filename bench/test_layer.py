"""The gated activations and PReLU against PyTorch eager (``layer.py``): forward +
backward, float32, out= where the implementation has it, at the benchmark sizes of 1e5
and up (a forward's input elements). Each group is one (function, size)."""

import pytest
from conftest import SIZES
from layer import NAMES, fastgrad_step, torch_step
from mlp import cpu_model

import fastgrad as fg

LAYER_SIZES = [n for n in SIZES if n >= 100_000]


@pytest.mark.parametrize("impl", ["fastgrad", "torch"])
@pytest.mark.parametrize("n", LAYER_SIZES)
@pytest.mark.parametrize("name", NAMES)
def test_layer_forward_and_backward(benchmark, name, n, impl):
    if impl == "torch":
        torch = pytest.importorskip("torch")
        torch.set_num_threads(fg.get_num_threads())
        step = torch_step(name, n)
    else:
        step = fastgrad_step(name, n)
    step()  # warm-up: kernels load, threads start
    benchmark.group = f"layer {name} n={n:.0e}"
    benchmark.extra_info.update(
        program="layer",
        function=name,
        n=n,
        impl=impl,
        threads=fg.get_num_threads(),
        cpu=cpu_model(),
    )
    benchmark(step)
