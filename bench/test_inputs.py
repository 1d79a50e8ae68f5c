"""What an input's kind costs: read-only arrays against writable ones (per call at
n = 1e3, where the Python layer is most of the time), and float16 against float32 (computed
in float32 a block at a time, ``fastgrad/_half.py``).

Each group times one function on one n with the two kinds of input side by side; the
report (``report.py``, ``STUDIES``) prints the ratios and checks them: read-only within
1.2x of writable, float16 within 1.5x of float32 at the largest n.
"""

import numpy as np
import pytest
from conftest import SIZES, inputs

import fastgrad as fg

FUNCTIONS = ("gelu", "gelu_backward", "gelu_fwd_grad", "relu")


def _arguments(function, x, g):
    return (g, x) if function.endswith("_backward") else (x,)


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _measure(benchmark, study, function, n, variant, x, g):
    call, args = getattr(fg, function), _arguments(function, x, g)
    call(*args)
    benchmark.group = f"inputs {study} {function} n={n:.0e}"
    benchmark.extra_info.update(program="studies", study=study, function=function, n=n)
    benchmark.extra_info["variant"] = variant
    benchmark(call, *args)


@pytest.mark.parametrize("variant", ["writable", "read-only"])
@pytest.mark.parametrize("function", FUNCTIONS)
def test_read_only_per_call(benchmark, function, variant):
    n = min(SIZES)
    x, g = inputs(np.float32, n)
    if variant == "read-only":
        x, g = _read_only(x), _read_only(g)
    _measure(benchmark, "read-only", function, n, variant, x, g)


@pytest.mark.parametrize("variant", ["float32", "float16"])
@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n={n:.0e}")
@pytest.mark.parametrize("function", FUNCTIONS)
def test_float16(benchmark, function, n, variant):
    x, g = inputs(np.float32, n)
    if variant == "float16":
        x, g = x.astype(np.float16), g.astype(np.float16)
    _measure(benchmark, "float16", function, n, variant, x, g)
