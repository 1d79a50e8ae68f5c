"""RReLU (``fastgrad._rrelu``): eval mode is PyTorch's (leaky_relu with the mean slope)
bit for bit; training draws one uniform slope per element, reproducibly from a Generator
or seed, whatever x's values and the thread count; the backward from the kept slopes is
PyTorch's ``rrelu_with_noise_backward`` given the same slopes."""

import numpy as np
import pytest

import fastgrad as fg
from harness.cases import special_values
from harness.peers import torch_module

from .conftest import DTYPES

torch = torch_module()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _x(dtype, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([special_values(dtype), rng.uniform(-5, 5, n)]).astype(dtype)


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    same = (a == b) & (np.signbit(a) == np.signbit(b))
    return bool((same | (np.isnan(a) & np.isnan(b))).all())


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("lower, upper", [(1 / 8, 1 / 3), (0.05, 0.05), (0.2, 0.9)])
def test_eval_is_torchs_bit_for_bit(lower, upper, dtype):
    x = _x(dtype)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    ty = torch.nn.functional.rrelu(tx, lower, upper, training=False)
    g = np.linspace(-2, 2, x.size).astype(dtype)
    ty.backward(torch.from_numpy(g.copy()))
    with np.errstate(all="raise"):
        y = fg.rrelu(x, lower, upper)
        grad = fg.rrelu_backward(g, x, lower, upper)
    assert _same_bits(y, ty.detach().numpy())
    assert _same_bits(grad, tx.grad.numpy())
    assert _same_bits(y, fg.leaky_relu(x, negative_slope=(lower + upper) / 2))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_training_slopes_are_uniform_and_each_output_one_rounded_product(dtype):
    x = _x(dtype, 200_000)
    lower, upper = 0.1, 0.3
    with np.errstate(all="raise"):
        y, slopes = fg.rrelu_fwd_grad(x, lower, upper, training=True, generator=5)
    drawn = x <= 0
    assert (slopes[~drawn] == 1).all()  # positive and NaN: slope 1, as PyTorch
    r = slopes[drawn].astype(np.float64)
    assert (r >= np.float64(dtype(lower))).all() and (r <= np.float64(dtype(upper))).all()
    # uniform: the mean and the quartiles within 6 standard errors
    n = r.size
    assert abs(r.mean() - 0.2) < 6 * (0.2 / np.sqrt(12)) / np.sqrt(n)
    for q in (0.25, 0.5, 0.75):
        assert abs(np.mean(r < lower + q * (upper - lower)) - q) < 6 * np.sqrt(q * (1 - q) / n)
    exact = (x.astype(np.float64) * slopes.astype(np.float64)).astype(dtype)
    assert _same_bits(y, exact)
    assert _same_bits(fg.rrelu_backward(np.ones_like(x), x, training=True, slopes=slopes), slopes)


def test_training_is_reproducible_from_a_seed_or_generator_whatever_threads_and_values():
    rng = np.random.default_rng(1)
    x1 = rng.standard_normal((1000, 1024)).astype(np.float32)
    x2 = -np.abs(x1)
    previous = fg.get_num_threads()
    try:
        fg.set_num_threads(1)
        y1, s1 = fg.rrelu_fwd_grad(x1, training=True, generator=np.random.default_rng(7))
        fg.set_num_threads(2)
        y2, s2 = fg.rrelu_fwd_grad(x1, training=True, generator=7)
        _, s3 = fg.rrelu_fwd_grad(x2, training=True, generator=7)
    finally:
        fg.set_num_threads(previous)
    assert np.array_equal(y1, y2) and np.array_equal(s1, s2)
    both = x1 <= 0
    assert np.array_equal(s1[both], s3[both])  # a slope per element, whatever x's sign
    a = fg.rrelu(x1, training=True, generator=8)
    b = fg.rrelu(x1, training=True, generator=8)
    c = fg.rrelu(x1, training=True, generator=9)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_backward_from_kept_slopes_is_torchs(dtype):
    x = _x(dtype)
    _, slopes = fg.rrelu_fwd_grad(x, training=True, generator=3)
    g = np.linspace(-2, 2, x.size).astype(dtype)
    theirs = torch.ops.aten.rrelu_with_noise_backward(
        torch.from_numpy(g),
        torch.from_numpy(x),
        torch.from_numpy(slopes.copy()),
        1 / 8,
        1 / 3,
        True,
        False,
    )
    assert _same_bits(fg.rrelu_backward(g, x, training=True, slopes=slopes), theirs.numpy())


def test_dtypes_out_and_errors():
    x = _x(np.float32)
    h = fg.rrelu(_x(np.float16), training=True, generator=0)
    assert h.dtype == np.float16
    out = np.full_like(x, 7.0)
    assert fg.rrelu(x, out=out) is out and _same_bits(out, fg.rrelu(x))
    out[...] = 7.0
    cases = [
        (ValueError, "lower <= upper", lambda: fg.rrelu(x, 0.5, 0.1, out=out)),
        (TypeError, "lower must be a real number", lambda: fg.rrelu(x, "0.1", out=out)),
        (ValueError, "needs the slopes", lambda: fg.rrelu_backward(x, x, training=True, out=out)),
        (
            ValueError,
            "slopes has shape",
            lambda: fg.rrelu_backward(x, x, training=True, slopes=x[:4], out=out),
        ),
        (ValueError, "only used with training", lambda: fg.rrelu_backward(x, x, slopes=x, out=out)),
        (
            TypeError,
            "generator must be",
            lambda: fg.rrelu(x, training=True, generator="seed", out=out),
        ),
        (ValueError, "shape", lambda: fg.rrelu(x, out=out[:3])),
        (TypeError, "pair", lambda: fg.rrelu_fwd_grad(x, out=out)),
    ]
    for error, words, call in cases:
        with pytest.raises(error, match=words):
            call()
        assert (out == 7.0).all()


def test_njit_forms_are_the_python_calls_bit_for_bit():
    numba = pytest.importorskip("numba")

    @numba.njit
    def jitted(x, g, generator):
        y, slopes = fg.rrelu_fwd_grad(x, 0.1, 0.3, True, generator)
        return (
            y,
            slopes,
            fg.rrelu_backward(g, x, 0.1, 0.3, True, slopes),
            fg.rrelu(x),
            fg.rrelu_backward(g, x),
        )

    x = _x(np.float32, 1000)
    g = np.linspace(-2, 2, x.size).astype(np.float32)
    y, slopes, grad, y_eval, grad_eval = jitted(x, g, np.random.default_rng(4))
    want_y, want_slopes = fg.rrelu_fwd_grad(x, 0.1, 0.3, True, generator=np.random.default_rng(4))
    assert _same_bits(y, want_y) and _same_bits(slopes, want_slopes)
    assert _same_bits(grad, fg.rrelu_backward(g, x, 0.1, 0.3, True, slopes=want_slopes))
    assert _same_bits(y_eval, fg.rrelu(x)) and _same_bits(grad_eval, fg.rrelu_backward(g, x))
