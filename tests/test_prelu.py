"""PReLU (``fastgrad._prelu``): PyTorch's values bit for bit (zeros' signs, infinities,
NaN, the slope at 0), its channel convention, the weight gradient against an exact sum
within the stated bound whatever n, thread-count independence, out= and errors."""

import doctest
import math
import tracemalloc
from fractions import Fraction

import numpy as np
import pytest

import fastgrad as fg
from fastgrad._prelu import grad_weight_bound
from harness.cases import special_values
from harness.peers import torch_module

from .conftest import DTYPES

torch = torch_module()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# (x's shape, weight elements): one weight, per channel of a dense layer, of an image
# (long channel runs), of short runs, a 1-D x, a 0-d x
SHAPES = [
    ((1000,), 1),
    ((64, 32), 32),
    ((64, 32), 1),
    ((4, 16, 9, 11), 16),
    ((4, 16, 3), 16),
    ((5000, 3), 3),
    ((2, 8, 300), 8),
    ((), 1),
]


def _data(shape, weight_size, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape).astype(dtype))
    w = rng.uniform(-0.5, 0.5, weight_size).astype(dtype)
    g = np.asarray(rng.standard_normal(shape).astype(dtype))
    return x, w, g


def _channel_of(shape, weight_size):
    """Each element's channel index, in x's shape."""
    if weight_size == 1 or len(shape) < 2:
        return np.zeros(shape, int)
    index = np.arange(shape[1]).reshape((1, shape[1]) + (1,) * (len(shape) - 2))
    return np.broadcast_to(index, shape)


def _exact_grad_weight(x, g, weight_size):
    """sum of x * g over each channel's x <= 0 (and NaN) elements, exactly (Fractions)."""
    channel = _channel_of(x.shape, weight_size).ravel()
    sums = [Fraction(0)] * weight_size
    absolute = [Fraction(0)] * weight_size
    for xi, gi, c in zip(x.ravel().tolist(), g.ravel().tolist(), channel.tolist(), strict=True):
        if not xi > 0:
            term = Fraction(xi) * Fraction(gi)
            sums[c] += term
            absolute[c] += abs(term)
    return sums, absolute


def _within_bound(got, exact, absolute, dtype, n):
    for value, s, a in zip(np.atleast_1d(got).tolist(), exact, absolute, strict=True):
        rounded = float(np.asarray(float(s), dtype))  # the exact sum rounded once
        half_ulp = 0.5 * float(np.spacing(np.abs(np.asarray(rounded, dtype))))
        allowed = half_ulp + grad_weight_bound(n) * float(a)
        assert abs(Fraction(value) - s) <= Fraction(allowed), (value, float(s), allowed)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape, weight_size", SHAPES)
def test_forward_and_grad_x_are_torchs_bit_for_bit(shape, weight_size, dtype):
    x, w, g = _data(shape, weight_size, dtype)
    tx = torch.from_numpy(np.array(x)).requires_grad_(True)
    tw = torch.from_numpy(w.copy()).requires_grad_(True)
    ty = torch.nn.functional.prelu(tx, tw)
    ty.backward(torch.from_numpy(np.array(g)))
    grad_x, grad_w = fg.prelu_backward(g, x, w)
    assert np.array_equal(fg.prelu(x, w), ty.detach().numpy())
    assert np.array_equal(grad_x, tx.grad.numpy())
    assert grad_w.shape == w.shape
    exact, absolute = _exact_grad_weight(x, g, weight_size)
    _within_bound(grad_w, exact, absolute, dtype, x.size)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_hard_values_are_torchs_bit_for_bit(dtype):
    """Signed zeros (y = w * 0.0 takes the weight's sign), infinities, NaN, subnormals,
    against weights of both signs, zero, infinite and NaN."""
    x = special_values(dtype)
    weights = np.array([0.25, -0.25, 0.0, -0.0, np.inf, np.nan, 3.0], dtype)
    xs = np.repeat(x[None, :], weights.size, axis=0)[:, :, None]  # (N=7... one per weight)
    xs = np.ascontiguousarray(np.transpose(xs, (1, 0, 2)))  # (len(x), channels, 1)
    g = np.full(xs.shape, -1.5, dtype)
    tx = torch.from_numpy(xs.copy()).requires_grad_(True)
    tw = torch.from_numpy(weights.copy()).requires_grad_(True)
    ty = torch.nn.functional.prelu(tx, tw)
    ty.backward(torch.from_numpy(g.copy()))
    with np.errstate(all="raise"):
        y = fg.prelu(xs, weights)
        grad_x, grad_w = fg.prelu_backward(g, xs, weights)
    for ours, theirs in ((y, ty.detach().numpy()), (grad_x, tx.grad.numpy())):
        same = (ours == theirs) & (np.signbit(ours) == np.signbit(theirs))
        same |= np.isnan(ours) & np.isnan(theirs)
        assert same.all(), (xs[~same], ours[~same], theirs[~same])
    theirs_w = tw.grad.numpy()
    assert np.array_equal(np.isnan(grad_w), np.isnan(theirs_w))
    assert np.array_equal(grad_w[np.isinf(grad_w)], theirs_w[np.isinf(grad_w)])


# float32 products x * g are exact in float64, so math.fsum of them is the exact sum
# rounded once to float64, 2^29 times finer than float32's ulp; float64 products are
# not, so float64 is summed exactly (Fractions), on fewer terms
_CANCELLING_TERMS = {np.float32: 1 << 21, np.float64: 1 << 16}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_grad_weight_error_does_not_grow_with_n(dtype):
    """Many terms of one channel that cancel to a small sum: float32 accumulation in
    order would be off by many ulps; fastgrad's is within the stated bound of the exact
    sum (and float32's is the exact sum rounded once)."""
    rng = np.random.default_rng(11)
    n = _CANCELLING_TERMS[dtype]
    x = -rng.uniform(0.5, 1.5, n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    g[n // 2 :] = -g[: n // 2] * (x[: n // 2] / x[n // 2 :])  # cancels, up to rounding
    w = np.array([0.1], dtype)
    _, grad_w = fg.prelu_backward(g, x, w)
    if dtype == np.float32:
        terms = x.astype(np.float64) * g.astype(np.float64)  # exact
        exact, absolute = [Fraction(math.fsum(terms))], [Fraction(math.fsum(np.abs(terms)))]
    else:
        exact, absolute = _exact_grad_weight(x, g, 1)
    _within_bound(grad_w, exact, absolute, dtype, n)
    naive = np.zeros((), dtype)
    for chunk in np.split((x * g).astype(dtype), 64):  # in order, in the dtype
        naive = naive + np.cumsum(chunk, dtype=dtype)[-1]
    assert abs(Fraction(float(grad_w[0])) - exact[0]) <= abs(Fraction(float(naive)) - exact[0])


def test_thread_count_changes_no_bit():
    results = []
    previous = fg.get_num_threads()
    rng = np.random.default_rng(12)
    cases = [
        (rng.standard_normal((2048, 1031)).astype(np.float32), 1031),
        (rng.standard_normal((8, 16, 129, 67)).astype(np.float32), 16),
        (rng.standard_normal(3_000_001).astype(np.float32), 1),
        (rng.standard_normal((300_000, 5)).astype(np.float32), 5),
    ]
    try:
        for threads in (1, 2):
            fg.set_num_threads(threads)
            run = []
            for x, c in cases:
                w = np.linspace(-0.3, 0.3, c).astype(np.float32)
                run += [fg.prelu(x, w), *fg.prelu_backward(x[::-1].copy(), x, w)]
            results.append(run)
    finally:
        fg.set_num_threads(previous)
    for want, got in zip(*results, strict=True):
        assert np.array_equal(want, got)


def test_out_in_place_float16_strided_and_dtypes():
    x, w, g = _data((64, 32), 32, np.float32)
    want_y = fg.prelu(x, w)
    want_gx, want_gw = fg.prelu_backward(g, x, w)
    x2, g2 = x.copy(), g.copy()
    assert fg.prelu(x2, w, out=x2) is x2 and np.array_equal(x2, want_y)
    gw = np.empty_like(w)
    got = fg.prelu_backward(g2, x, w, out=(g2, gw))
    assert got[0] is g2 and got[1] is gw
    assert np.array_equal(g2, want_gx) and np.array_equal(gw, want_gw)
    strided = np.zeros((64, 64), np.float32)[:, ::2]
    fg.prelu(x, w, out=strided)
    assert np.array_equal(strided, want_y)
    assert np.array_equal(fg.prelu(x[:, ::-1].copy()[:, ::-1], w), want_y)
    h = fg.prelu(x.astype(np.float16), w.astype(np.float16))
    assert h.dtype == np.float16
    assert fg.prelu(x.astype(np.int16), w).dtype == np.float32
    assert fg.prelu(np.float32(-2.0), np.float32(0.25)) == np.float32(-0.5)
    assert fg.prelu_backward(1.0, x, w)[0].dtype == np.float32


def test_inputs_are_never_written():
    x, w, g = _data((64, 32), 32, np.float32)
    copies = [x.copy(), w.copy(), g.copy()]
    fg.prelu(x, w)
    fg.prelu_backward(g, x, w)
    for arr, copy in zip((x, w, g), copies, strict=True):
        assert np.array_equal(arr, copy)


def test_bad_arguments_raise_before_anything_is_written():
    x, w, g = _data((64, 32), 32, np.float32)
    out = np.full_like(x, 7.0)
    gw = np.full_like(w, 7.0)
    cases = [
        (ValueError, "1 or one per channel", lambda: fg.prelu(x, w[:5], out=out)),
        (ValueError, "scalar or 1-D", lambda: fg.prelu(x, w.reshape(4, 8), out=out)),
        (ValueError, "1 or one per channel", lambda: fg.prelu(x[0], w, out=out[0])),
        (TypeError, "pair", lambda: fg.prelu_backward(g, x, w, out=out)),
        (
            ValueError,
            "out\\[1\\] must not overlap",
            lambda: fg.prelu_backward(g, x, w, out=(out, out[0])),
        ),
        (ValueError, "shape", lambda: fg.prelu(x, w, out=out[:3])),
        (TypeError, "dtype", lambda: fg.prelu(x.astype(complex), w)),
        (ValueError, "grad_out", lambda: fg.prelu_backward(g[:3, :3], x, w, out=(out, gw))),
    ]
    for error, words, call in cases:
        with pytest.raises(error, match=words):
            call()
        assert (out == 7.0).all() and (gw == 7.0).all()


def test_backward_allocates_its_outputs_and_one_partial_sum_per_block_and_channel():
    x, w, g = _data((4096, 256), 256, np.float32)
    fg.prelu_backward(g, x, w)
    blocks = math.ceil(x.size / (1 << 18))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        held, _ = tracemalloc.get_traced_memory()
        fg.prelu_backward(g, x, w)
        peak = tracemalloc.get_traced_memory()[1] - held
    finally:
        tracemalloc.stop()
    outputs = x.nbytes + w.nbytes
    assert outputs <= peak < outputs + blocks * 256 * 8 + 64 * 1024


def test_docstrings_run_and_the_reference_agrees():
    for fn in (fg.prelu, fg.prelu_backward):
        test = doctest.DocTestParser().get_doctest(fn.__doc__, {}, fn.__name__, None, 0)
        assert test.examples and doctest.DocTestRunner().run(test).failed == 0
    for shape, weight_size in SHAPES:
        x, w, g = _data(shape, weight_size, np.float64)
        assert np.array_equal(fg.reference.prelu(x, w), fg.prelu(x, w))
        want_x, want_w = fg.reference.prelu_backward(g, x, w)
        got_x, got_w = fg.prelu_backward(g, x, w)
        assert np.array_equal(want_x, got_x) and np.allclose(want_w, got_w, rtol=1e-12)


def test_njit_forms():
    numba = pytest.importorskip("numba")

    @numba.njit
    def jitted(g, x, w):
        return fg.prelu(x, w), fg.prelu_backward(g, x, w)

    for shape, weight_size in [((64, 32), 32), ((4, 16, 9, 11), 16), ((1000,), 1)]:
        x, w, g = _data(shape, weight_size, np.float32)
        y, (grad_x, grad_w) = jitted(g, x, w)
        assert np.array_equal(y, fg.prelu(x, w))
        assert np.array_equal(grad_x, fg.prelu_backward(g, x, w)[0])
        exact, absolute = _exact_grad_weight(x, g, weight_size)
        _within_bound(grad_w, exact, absolute, np.float32, x.size)
