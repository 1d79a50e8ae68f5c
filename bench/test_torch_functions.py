"""What fastgrad.torch costs against torch.nn.functional: an autograd forward and
backward (``y = f(x); y.backward(g)``) through each, float32, on fastgrad's thread count
(PyTorch set to the same). Reported side by side, without a target."""

import numpy as np
import pytest
from conftest import SIZES, inputs

import fastgrad as fg
from harness.peers import torch_module

FUNCTIONS = ("gelu", "silu", "sigmoid", "tanh", "relu")


@pytest.mark.parametrize("variant", ["torch", "fastgrad.torch"])
@pytest.mark.parametrize(
    "n", [n for n in SIZES if n > min(SIZES)] or SIZES, ids=lambda n: f"n={n:.0e}"
)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_autograd_step(benchmark, function, n, variant):
    torch = torch_module()
    if torch is None:
        pytest.skip("PyTorch is not installed")
    import fastgrad.torch as fgt

    torch.set_num_threads(fg.get_num_threads())
    x, g = (torch.from_numpy(a) for a in inputs(np.float32, n))
    module = torch.nn.functional if function not in ("sigmoid", "tanh") else torch
    fn = getattr(fgt if variant == "fastgrad.torch" else module, function)
    xg = x.clone().requires_grad_(True)

    def step():
        xg.grad = None
        fn(xg).backward(g)

    step()
    benchmark.group = f"autograd {function} n={n:.0e}"
    benchmark.extra_info.update(program="studies", study="torch-autograd", function=function)
    benchmark.extra_info.update(n=n, variant=variant)
    benchmark(step)
