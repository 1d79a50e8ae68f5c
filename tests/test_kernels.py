"""The generated kernels: serial and parallel agree bit for bit, every loop vectorised,
and importing fastgrad compiles nothing."""

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import DTYPES, default_slots, public, special_values, variants

import fastgrad as fg
from fastgrad._jit import PARALLEL_MIN_SIZE
from fastgrad._kernels import KERNEL_NAMES, KernelSet, kernel_set
from fastgrad._table import TABLE

ACTS = [pytest.param(a, id=a.name) for a in TABLE]
DTYPE_IDS = [np.dtype(d).name for d in DTYPES]


def _args(name, x, rng, alias="none"):
    """Fresh arguments for a kernel; ``alias`` makes the output the input ("same") or
    the input shifted by one element ("partial")."""
    g = rng.standard_normal(x.size).astype(x.dtype)
    buf = np.concatenate([x, x[-1:]])
    src, out = (buf[1:], buf[:-1]) if alias == "partial" else (x.copy(), np.empty_like(x))
    if alias == "same":
        out = src
    return {
        "forward": (src, out),
        "grad": (src, out),
        "backward": (g, src, out),
        "fwd_grad": (src, out, np.empty_like(x)),
    }[name]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("act, variant", variants())
def test_serial_and_parallel_kernels_agree_bitwise_whatever_the_aliasing(act, variant, dtype):
    rng = np.random.default_rng(4)
    n = PARALLEL_MIN_SIZE + 1001
    x = (rng.standard_normal(n) * 20).astype(dtype)
    x[: special_values(dtype).size] = special_values(dtype)
    ks = kernel_set(act, dtype, variant)
    a, b = default_slots(act)
    for name in KERNEL_NAMES:
        for alias in ("none", "same", "partial"):
            for parallel in (False, True):
                args = _args(name, x, np.random.default_rng(5), alias)
                separate = [arg.copy() for arg in args]  # no aliasing: the plain serial loop
                ks.get(name, False)(*separate, a, b)
                ks.get(name, parallel)(*args, a, b)
                k = 2 if name == "fwd_grad" else 1
                for got, want in zip(args[-k:], separate[-k:], strict=True):
                    np.testing.assert_array_equal(got, want, err_msg=f"{name} {alias} {parallel}")


def _has_avx2():
    try:
        with open("/proc/cpuinfo") as f:
            return "avx2" in f.read()
    except OSError:
        return False


def _packed_vector_ops(asm, dtype):
    suffix = "ps" if dtype == np.float32 else "pd"
    return re.findall(rf"\bv\w+{suffix}\s+[^\n]*%[yz]mm", asm)


def _scalar_ops(asm, dtype):
    suffix = "ss" if dtype == np.float32 else "sd"
    return re.findall(rf"\bv\w+{suffix}\s", asm)


@pytest.mark.skipif(not _has_avx2(), reason="looks for ymm/zmm registers (AVX2 or AVX-512)")
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("act, variant", variants())
def test_every_kernel_loop_is_vectorised(act, variant, dtype):
    """Packed (ymm/zmm) instructions in the kernel's machine code: no scalar fallback.

    Each loop is a vectorised body plus scalar copies (the remainder, and the fallback
    of LLVM's runtime alias check), so packed operations are a good fraction of the
    scalar ones (0.23 for elu's and selu's backward, whose three short exp-only bodies
    face nine scalar copies, up to 0.77 measured); a loop left scalar, e.g. by a
    call to an un-inlined function in its body, has almost none, and leaves a call
    (to fastgrad's own function, or to libm's ldexp where LLVM cannot vectorise it)."""
    # Numba cannot show the code of cached kernels
    ks = KernelSet(act, dtype, cache=False, variant=variant)
    rng = np.random.default_rng(6)
    x = rng.standard_normal(64).astype(dtype)
    a, b = default_slots(act)
    for name in KERNEL_NAMES:
        kernel = ks.get(name, False)
        kernel(*_args(name, x, rng), a, b)
        asm = kernel.inspect_asm(kernel.signatures[0])
        packed, scalar = len(_packed_vector_ops(asm, dtype)), len(_scalar_ops(asm, dtype))
        assert packed >= 8 and packed >= 0.2 * scalar, (act.name, name, packed, scalar)
        assert not re.search(r"call\w*\s+[^\n]*(fastgrad|ldexp)", asm), (act.name, name)


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


@pytest.mark.parametrize("act", ACTS)
def test_read_only_and_unaligned_inputs_run_explicitly_compiled_kernels(act):
    """Compiling is closed after each explicit (512-bit) compile, so a read-only or
    unaligned input cannot make Numba compile a 256-bit specialisation on the spot:
    read-only inputs get their own explicitly compiled signature (writable ones keep
    the exact match, whose dispatch is cheaper than a conversion), and results agree."""
    x = np.linspace(-3, 3, 100)
    read_only = x.copy()
    read_only.flags.writeable = False
    raw = np.zeros(x.nbytes + 1, np.uint8)
    unaligned = raw[1:].view(np.float64)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    for name in ("", "_grad", "_fwd_grad"):
        fn = public(act, name)
        want = fn(x)
        for arr in (read_only, unaligned):
            np.testing.assert_array_equal(fn(arr), want)
    backward = public(act, "_backward")
    want = backward(x, x)
    np.testing.assert_array_equal(backward(read_only, unaligned), want)
    np.testing.assert_array_equal(backward(unaligned, read_only, out=unaligned.copy()), want)
    ks = kernel_set(act, np.float64)
    for name in KERNEL_NAMES:
        kernel = ks.compiled[name][False]
        assert kernel is not None and not kernel._can_compile, name
        for sig in kernel.signatures:  # every one writable or read-only, C, aligned
            assert all(t.layout == "C" and t.aligned for t in sig if hasattr(t, "layout"))
        # the writable signature, plus the read-only ones these calls needed
        assert 1 <= len(kernel.signatures) <= {"backward": 3}.get(name, 2), kernel.signatures
