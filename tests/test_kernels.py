"""The generated kernels: serial and chunked (threaded) agree bit for bit, every loop
vectorised, and importing fastgrad compiles nothing."""

import inspect
import math
import os
import platform
import subprocess
import sys

import numba
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import _threads
from fastgrad._kernels import KernelSet, kernel_set
from fastgrad._kinds import BY_KIND_NAME
from fastgrad._run import run_chunked
from fastgrad._table import TABLE

from . import vectorisation
from .conftest import DTYPES, default_slots, kernel_arguments, public, special_values, variants

ACTS = [pytest.param(a, id=a.name) for a in TABLE]
DTYPE_IDS = [np.dtype(d).name for d in DTYPES]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("act, variant", variants())
def test_serial_and_chunked_kernels_agree_bitwise_whatever_the_aliasing(
    act, variant, dtype, monkeypatch
):
    """The chunked kernels on 3 threads (small chunks, a ragged last one) write what the
    serial kernel writes into separate arrays, also in place and with partial overlap."""
    monkeypatch.setattr(_threads, "CHUNK", 1000)
    monkeypatch.setattr(_threads, "current", 3)
    rng = np.random.default_rng(4)
    n = 7 * 1000 + 37
    x = (rng.standard_normal(n) * 20).astype(dtype)
    x[: special_values(dtype).size] = special_values(dtype)
    ks = kernel_set(act, dtype, variant)
    a, b = default_slots(act)
    for name in ks.names():
        aliases = ("none", "same", "partial") + (
            ("grad_out",) if "grad_out" in BY_KIND_NAME[name].inputs else ()
        )
        for alias in aliases:
            g = np.random.default_rng(5).standard_normal(x.size).astype(x.dtype)
            args = kernel_arguments(name, x, g, alias)
            separate = [arg.copy() for arg in args]  # no aliasing: the plain serial loop
            ks.get(name, False)(*separate, a, b)
            k = BY_KIND_NAME[name].outputs
            assert run_chunked(ks.get(name, True), k, *args, a, b)
            for got, want in zip(args[-k:], separate[-k:], strict=True):
                np.testing.assert_array_equal(got, want, err_msg=f"{name} {alias}")


def _element_loops(name):
    """How many element loops the kernel's serial template has (its ``for i in range``
    lines); the chunked kernel inlines it."""
    serial = BY_KIND_NAME[name].template.serial
    return inspect.getsource(serial).count("for i in range(")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("act, variant", variants())
def test_every_kernel_loop_is_vectorised(act, variant, dtype):
    """Each element loop of every kernel, serial and chunked, has a vector body in the
    optimised IR, and no call to a scalar function is left in the IR or the machine
    code (``vectorisation.py``). Targets without FMA fail it: see test-portable."""
    # Numba cannot show the code of cached kernels
    ks = KernelSet(act, dtype, cache=False, variant=variant)
    element = "float" if dtype == np.float32 else "double"
    for name in ks.names():
        for parallel in (False, True):
            kernel = ks.dispatcher(name, parallel)
            signature = kernel.signatures[0]
            ir, asm = kernel.inspect_llvm(signature), kernel.inspect_asm(signature)
            if platform.machine() not in ("x86_64", "AMD64"):
                asm = None  # the IR check only
            problems = vectorisation.check(ir, element, _element_loops(name), asm)
            assert not problems, (act.name, name, parallel, problems)


def _scalar_kernels():
    """Loops LLVM cannot vectorise: a libm call per element, a loop-carried sum, and a
    scalar function with a data-dependent loop of its own."""
    from fastgrad import _jit

    @numba.njit(cache=False)
    def newton_sqrt(v):
        r = 1.0 + abs(v)
        while abs(r * r - abs(v)) > 1e-12 * abs(v):
            r = 0.5 * (r + abs(v) / r)
        return r

    def libm(x, out):
        for i in range(x.size):
            out[i] = math.erf(x[i])

    def running_sum(x, out):
        total = 0.0
        for i in range(x.size):
            total = total * 0.5 + x[i]
            out[i] = total

    def call(x, out):
        for i in range(x.size):
            out[i] = newton_sqrt(x[i])

    return {f.__name__: _jit.kernel(f, cache=False) for f in (libm, running_sum, call)}


@pytest.mark.parametrize("which", ["libm", "running_sum", "call"])
def test_vectorisation_check_fails_on_scalar_loops(which):
    kernel = _scalar_kernels()[which]
    x = np.linspace(-1, 1, 64)
    kernel(x, np.empty_like(x))
    assert vectorisation.check(kernel.inspect_llvm(kernel.signatures[0]), "double", 1)


def test_import_compiles_nothing():
    """Importing builds no kernel set; a first call builds its own set and compiles (or
    loads) only the kernel it runs."""
    code = (
        "import numpy as np, fastgrad, fastgrad._kernels as k;"
        "assert not k._SETS, list(k._SETS);"
        "fastgrad.relu(np.ones(3));"
        "keys = list(k._SETS);"
        "assert keys == [('relu', None, 'accurate', np.dtype('float64'))], keys;"
        "slots = k._SETS[keys[0]].compiled.items();"
        "compiled = {n: s for n, s in slots if s != [None, None]};"
        "assert list(compiled) == ['forward'] and compiled['forward'][1] is None, compiled;"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_parameter_values_do_not_recompile():
    x = np.linspace(-3, 3, 100)
    fg.softplus(x, beta=1.5)
    ks = kernel_set(fg.TABLE[[a.name for a in fg.TABLE].index("softplus")], np.float64)
    kernel = ks.dispatcher("forward", False)
    before = len(kernel.signatures)
    for beta in (0.25, 2.0, 3.0):
        fg.softplus(x, beta=beta, threshold=10.0)
    assert len(kernel.signatures) == before == 1


@pytest.mark.parametrize("act", ACTS)
def test_read_only_and_unaligned_inputs_run_the_one_compiled_kernel(act):
    """Each kernel has one (512-bit, explicitly compiled) signature, and compiling stays
    closed: read-only and unaligned inputs run that same kernel, compile nothing, and
    give the same results. (Numba's dispatcher would compile a second signature for a
    read-only input.)"""
    x = np.linspace(-3, 3, 100)
    read_only = x.copy()
    read_only.flags.writeable = False
    raw = np.zeros(x.nbytes + 1, np.uint8)
    unaligned = raw[1:].view(np.float64)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    for name in ("", "_grad", "_fwd_grad"):
        fn = public(act, name)
        want, want_2d = fn(x), fn(x.reshape(10, 10))
        for arr in (read_only, unaligned):
            np.testing.assert_array_equal(fn(arr), want)
            np.testing.assert_array_equal(fn(arr.reshape(10, 10)), want_2d)
    backward = public(act, "_backward")
    want = backward(x, x)
    np.testing.assert_array_equal(backward(read_only, unaligned), want)
    np.testing.assert_array_equal(backward(read_only, read_only), want)
    np.testing.assert_array_equal(backward(unaligned, read_only, out=unaligned.copy()), want)
    ks = kernel_set(act, np.float64)
    for name in ks.names():
        kernel = ks.dispatcher(name, False)
        assert not kernel._can_compile, name
        assert len(kernel.signatures) == 1, (name, kernel.signatures)
        (sig,) = kernel.signatures
        assert all(t.layout == "C" and t.aligned and t.mutable for t in sig if hasattr(t, "layout"))


def test_read_only_inputs_need_nothing_beyond_compile_kernels(tmp_path):
    """After ``compile_kernels`` (``python -m fastgrad.compile``), a fresh process calling
    every kind on read-only inputs, serial and on threads, compiles no kernel: it writes
    no new kernel file into the cache (a compile would cache its result)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    compile_code = (
        "from fastgrad._compile import compile_kernels; compile_kernels(['elu'], processes=1)"
    )
    subprocess.run([sys.executable, "-c", compile_code], env=env, check=True)

    def cache_files():
        files = tmp_path.rglob("_templates.*")
        return {(p, p.stat().st_mtime_ns) for p in files if p.is_file()}

    before = cache_files()
    code = """
import numpy as np, fastgrad as fg
fg.set_num_threads(2)
for n in (1000, 1 << 17):
    for dtype in (np.float32, np.float64):
        x = np.linspace(-3, 3, n).astype(dtype)
        x.flags.writeable = False
        fg.elu(x), fg.elu_grad(x), fg.elu_backward(x, x), fg.elu_fwd_grad(x)
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert before and cache_files() == before


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 CPU names")
def test_native_ldexp_follows_the_compilation_target_not_the_host():
    """Compiling for another CPU (NUMBA_CPU_NAME, NUMBA_CPU_FEATURES, as test-portable
    does) decides the 2^k scaling: vscalef only where the target has AVX-512."""
    code = "from fastgrad import _jit; print(_jit.NATIVE_LDEXP)"
    for cpu, features, want in (
        ("haswell", "", "False"),
        ("x86-64", "", "False"),
        ("skylake-avx512", "", "True"),
        ("haswell", "+avx2,+fma,+avx512f", "True"),
        ("skylake-avx512", "-avx512f", "False"),
        ("znver4", "", "True"),
    ):
        env = {**os.environ, "NUMBA_CPU_NAME": cpu, "NUMBA_CPU_FEATURES": features}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        assert out.stdout.strip() == want, (cpu, features)
