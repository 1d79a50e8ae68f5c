"""Softmax, log-softmax and logsumexp, forward and backward (``softmax.py``), against
PyTorch and SciPy with pytest-benchmark, on the issue's shapes whose size is within the
run's largest benchmark size (FASTGRAD_BENCH_SIZES; ``make test`` runs each call once on
a small matrix, along either axis). Each group is one (function, direction, shape, dim,
dtype)."""

import math

import pytest
from conftest import DTYPES, SIZES
from mlp import cpu_model
from softmax import DIRECTIONS, FUNCTIONS, PEERS, SHAPES

import fastgrad as fg

# a small matrix, so that the suite runs in ``make test`` too
SMALL = (((64, 1000), -1), ((64, 1000), 0))
CASES = [c for c in SHAPES if math.prod(c[0]) <= max(SIZES)] or list(SMALL)


@pytest.mark.parametrize("impl", list(PEERS))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape, dim", CASES)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_softmax_family(benchmark, function, direction, shape, dim, dtype, impl):
    if impl != "fastgrad":
        pytest.importorskip(impl)
    if impl == "torch":
        import torch

        torch.set_num_threads(fg.get_num_threads())
    call = PEERS[impl](function, direction, shape, dim, dtype)
    if call is None:
        pytest.skip(f"{impl} has no {function} {direction}")
    call()  # warm-up: kernels load, threads start
    benchmark.group = f"softmax {function} {direction} {shape} dim={dim} {dtype.__name__}"
    benchmark.extra_info.update(
        program="softmax",
        function=function,
        direction=direction,
        shape=list(shape),
        dim=dim,
        dtype=dtype.__name__,
        impl=impl,
        threads=fg.get_num_threads(),
        cpu=cpu_model(),
    )
    benchmark(call)
