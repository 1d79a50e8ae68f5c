"""The generated kernels: serial and parallel agree bit for bit, every loop vectorised,
and importing fastgrad compiles nothing."""

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import DTYPES, special_values

import fastgrad as fg
from fastgrad._jit import PARALLEL_MIN_SIZE
from fastgrad._kernels import KernelSet, kernel_set
from fastgrad._table import TABLE

ACTS = [pytest.param(a, id=a.name) for a in TABLE]
DTYPE_IDS = [np.dtype(d).name for d in DTYPES]


def _args(name, x, rng):
    fresh = lambda: np.empty_like(x)  # noqa: E731
    g = rng.standard_normal(x.size).astype(x.dtype)
    return {
        "forward": (x, fresh()),
        "grad": (x, fresh()),
        "forward_into_x": (x.copy(),),
        "grad_into_x": (x.copy(),),
        "backward": (g, x, fresh()),
        "backward_into_g": (g.copy(), x),
        "backward_into_x": (g, x.copy()),
        "fwd_grad": (x, fresh(), fresh()),
        "fwd_grad_into_x": (x.copy(), fresh()),
    }[name]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("act", ACTS)
def test_serial_and_parallel_kernels_agree_bitwise(act, dtype):
    rng = np.random.default_rng(4)
    n = PARALLEL_MIN_SIZE + 1001
    x = (rng.standard_normal(n) * 20).astype(dtype)
    x[: special_values(dtype).size] = special_values(dtype)
    ks = kernel_set(act, dtype)
    a, b = (ks.scalar_type(v) for v in (act.params() if act.params else (0.0, 0.0)))
    for name in ks.compiled:
        results = []
        for parallel in (False, True):
            args = _args(name, x, np.random.default_rng(5))
            ks.get(name, parallel)(*args, a, b)
            results.append(args)
        for s, p in zip(*results, strict=True):
            np.testing.assert_array_equal(s, p, err_msg=name)


def _packed_vector_ops(asm, dtype):
    suffix = "ps" if dtype == np.float32 else "pd"
    return re.findall(rf"\bv\w+{suffix}\s+[^\n]*%[yz]mm", asm)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("act", ACTS)
def test_every_kernel_loop_is_vectorised(act, dtype):
    """Packed (ymm/zmm) instructions in the kernel's machine code: no scalar fallback."""
    ks = KernelSet(act, dtype, cache=False)  # Numba cannot show the code of cached kernels
    rng = np.random.default_rng(6)
    x = rng.standard_normal(64).astype(dtype)
    a, b = (ks.scalar_type(v) for v in (act.params() if act.params else (0.0, 0.0)))
    for name in ("forward", "grad", "backward", "fwd_grad", "forward_into_x"):
        kernel = ks.get(name, False)
        kernel(*_args(name, x, rng), a, b)
        asm = kernel.inspect_asm(kernel.signatures[0])
        assert len(_packed_vector_ops(asm, dtype)) >= 8, (act.name, name)


def test_import_compiles_nothing():
    code = (
        "import fastgrad, fastgrad._kernels as k;"
        "sets = list(k._SETS.values());"
        "assert sets and all(s._scalars is None for s in sets);"
        "assert all(slot == [None, None] for s in sets for slot in s.compiled.values());"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_parameter_values_do_not_recompile():
    x = np.linspace(-3, 3, 100)
    fg.softplus(x, beta=1.5)
    ks = kernel_set(fg.TABLE[[a.name for a in fg.TABLE].index("softplus")], np.float64)
    kernel = ks.get("forward", False)
    before = len(kernel.signatures)
    for beta in (0.25, 2.0, 3.0):
        fg.softplus(x, beta=beta, threshold=10.0)
    assert len(kernel.signatures) == before == 1
