"""float16 calls (``fastgrad/_half.py``): the conversions against NumPy's, the results
against the float32 call rounded to float16, on threads and in blocks, and the memory."""

import tracemalloc

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import _half, _run
from fastgrad._kernels import kernel_set
from fastgrad._kinds import BY_KIND_NAME

from .conftest import default_slots, kernel_arguments, public, special_values, variants


def _same_bits_or_both_nan(got, want):
    """Bitwise equal where ``want`` is a number; NaN of the same sign where it is NaN."""
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(np.signbit(got[nan]), np.signbit(want[nan]))
    assert np.array_equal(got[~nan].view(f"u{got.itemsize}"), want[~nan].view(f"u{want.itemsize}"))


def test_widening_is_exact_for_every_float16():
    halves = np.arange(1 << 16, dtype=np.uint16)
    got = np.empty(halves.size, np.float32)
    _half.to_float32(halves, got)
    _same_bits_or_both_nan(got, halves.view(np.float16).astype(np.float32))


def test_narrowing_rounds_to_nearest_even_like_numpy():
    """Every float32 exponent and top mantissa bits, with the low 13 bits (those dropped)
    just below, at and just above half an ulp, at the ends, plus random bit patterns:
    ties, subnormal results, overflow to inf, NaN."""
    top = np.arange(1 << 19, dtype=np.uint32) << np.uint32(13)
    low = np.array([0, 1, 0x7FF, 0xFFF, 0x1000, 0x1001, 0x17FF, 0x1FFF], np.uint32)
    rng = np.random.default_rng(0)
    random = rng.integers(0, 1 << 32, 1 << 20, dtype=np.uint64).astype(np.uint32)
    bits = np.concatenate([(top[:, None] | low[None, :]).ravel(), random])
    values = bits.view(np.float32)
    got = np.empty(values.size, np.uint16)
    _half.to_float16(values, got)
    with np.errstate(over="ignore"):
        want = values.astype(np.float16)
    _same_bits_or_both_nan(got.view(np.float16), want)


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("act, variant", variants())
def test_float16_blocks_give_the_float32_result_rounded(act, variant, threads, monkeypatch):
    """Small blocks (a ragged last one) on 1 and 3 threads, also in place and with a
    partly overlapping input: bit for bit the float32 kernel's result rounded to float16
    by NumPy."""
    monkeypatch.setattr(_run, "BLOCK", 1000)
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(5 * 1000 + 37) * 8).astype(np.float16)
    x[: special_values(np.float16).size] = special_values(np.float16)
    g = np.linspace(-2, 2, x.size).astype(np.float16)
    ks = kernel_set(act, np.float32, variant)
    a, b = default_slots(act)
    for name in ks.names():
        for alias in ("none", "same", "partial", "grad_out"):
            if alias == "grad_out" and "grad_out" not in BY_KIND_NAME[name].inputs:
                continue
            args = kernel_arguments(name, x, g, alias)
            k = BY_KIND_NAME[name].outputs
            wide = [arg.astype(np.float32) for arg in args]
            ks.get(name, False)(*wide, a, b)
            assert _run.run_half(ks.get(name, False), k, threads, *args, a, b)
            for got, want in zip(args[-k:], wide[-k:], strict=True):
                with np.errstate(over="ignore", under="ignore"):
                    _same_bits_or_both_nan(got, want.astype(np.float16))


def test_float16_pair_with_overlapping_outputs_is_refused():
    x = np.linspace(-3, 3, 100).astype(np.float16)
    out = np.zeros(101, np.float16)
    with pytest.raises(ValueError, match="overlap"):
        fg.gelu_fwd_grad(x, out=(out[:100], out[1:]))
    assert not out.any()


def test_a_large_float16_call_on_two_threads_matches_one_thread():
    x = np.linspace(-10, 10, (1 << 17) + 5).astype(np.float16)
    threads = fg.get_num_threads()
    try:
        fg.set_num_threads(1)
        want = fg.gelu_fwd_grad(x), fg.gelu_backward(x, x)
        fg.set_num_threads(2)
        got = fg.gelu_fwd_grad(x), fg.gelu_backward(x, x)
    finally:
        fg.set_num_threads(threads)
    for g, w in zip((*got[0], got[1]), (*want[0], want[1]), strict=True):
        assert g.dtype == np.float16
        np.testing.assert_array_equal(g, w)


def test_float16_needs_no_float32_copies_of_whole_arrays():
    """The issue's bound: at most the float32 call's memory plus the float16 outputs.
    (Converting whole arrays took 16 bytes per element for fwd_grad; the float32 call
    takes 8, its float16 outputs 4.)"""
    n = 1 << 22
    x32 = np.linspace(-5, 5, n, dtype=np.float32)
    x16 = x32.astype(np.float16)
    peaks = {}
    for x in (x32, x16):
        fg.gelu_fwd_grad(x[:10])
        tracemalloc.start()
        try:
            fg.gelu_fwd_grad(x)
            peaks[x.dtype.name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks["float32"] >= 2 * 4 * n
    assert peaks["float16"] <= peaks["float32"] + 2 * 2 * n, peaks


@pytest.mark.parametrize("act, variant", variants())
def test_float16_public_calls_keep_float16_and_match(act, variant):
    """A float16 call is the float32 call at the fast level rounded to float16, at either
    level (``fastgrad._accuracy``: the rounding hides the difference)."""
    x = np.linspace(-6, 6, 301).astype(np.float16)
    params = {act.variant.param: variant} if act.variant else {}
    for suffix in ("", "_grad"):
        fn = public(act, suffix)
        with np.errstate(over="ignore", under="ignore"):
            want = fn(x.astype(np.float32), accuracy="fast", **params).astype(np.float16)
        for level in ("accurate", "fast"):
            got = fn(x, accuracy=level, **params)
            assert got.dtype == np.float16
            _same_bits_or_both_nan(got, want)
