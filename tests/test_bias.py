"""The dense-layer epilogue (``fastgrad._bias``): f_bias, f_bias_fwd_grad and
f_bias_backward against the unfused sequence (bit for bit: h + b rounded first, then
fastgrad's element-wise functions, themselves tested against mpmath and PyTorch), and the
bias gradient against the exact sum of the grad_h returned (``math.fsum``)."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

import fastgrad as fg
from fastgrad._bias import grad_bias_bound
from fastgrad._table import TABLE
from tests.conftest import DTYPES, cases, special_values

DTYPE_IDS = {"ids": lambda d: np.dtype(d).name}
# long rows (bias as given), short ones (the bias repeated along longer kernel rows),
# 3-D, a single row
SHAPES = [(7, 300), (50, 5), (3, 4, 257), (1, 1000)]


def _call(act, suffix, *args, **params):
    return getattr(fg, act.name + suffix)(*args, **params)


def _data(act, params, shape, dtype, seed):
    """h with the hard places of the dtype and the activation's kinks among normal
    values, b, grad_out (with a -0.0 and a negative value where the derivative is 0)."""
    rng = np.random.default_rng(seed)
    h = (rng.standard_normal(shape) * 3).astype(dtype)
    flat = h.reshape(-1)
    kinks = np.array(act.kinks_at(params), dtype)
    hard = np.concatenate([special_values(dtype), kinks]).astype(dtype)
    places = rng.choice(flat.size, min(flat.size // 2, hard.size), replace=False)
    flat[places] = hard[: places.size]
    b = rng.standard_normal(shape[-1]).astype(dtype)
    b[0] = 0.0  # the column with b = 0: h + b is h, hard values unchanged
    g = rng.standard_normal(shape).astype(dtype)
    g.reshape(-1)[::7] = -0.0
    return h, b, g


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize("act, params", cases())
def test_same_bits_as_the_unfused_sequence(act, params, dtype):
    """y, d and grad_h are f(h + b), f_grad(h + b) and f_backward(grad_out, h + b), bit
    for bit (NaN where NaN), with the hard values and the kinks in h; nothing is written
    into the inputs; no floating-point warning."""
    for seed, shape in enumerate(SHAPES):
        h, b, g = _data(act, params, shape, dtype, seed)
        copies = [v.copy() for v in (h, b, g)]
        hb = h + b
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = _call(act, "_bias", h, b, **params)
            y2, d = _call(act, "_bias_fwd_grad", h, b, **params)
            grad_h, grad_b = _call(act, "_bias_backward", g, h, b, **params)
            from_d = _call(act, "_bias_backward_from_grad", g, d)
            # the general paths (out=, a list for b) give the fast paths' bits
            outs = (np.empty_like(h), np.empty_like(b))
            general = _call(act, "_bias_backward", g, h, list(b), out=outs, **params)
        np.testing.assert_array_equal(y, _call(act, "", hb, **params), strict=True)
        np.testing.assert_array_equal(y2, y, strict=True)
        np.testing.assert_array_equal(d, _call(act, "_grad", hb, **params), strict=True)
        want = _call(act, "_backward", g, hb, **params)
        np.testing.assert_array_equal(grad_h, want, strict=True)
        # the signs of zeros too (assert_array_equal takes -0.0 == 0.0)
        assert np.array_equal(np.signbit(grad_h), np.signbit(want))
        assert np.array_equal(np.signbit(y), np.signbit(_call(act, "", hb, **params)))
        assert grad_b.shape == b.shape and grad_b.dtype == b.dtype
        for other in (from_d, general):  # the same bits, grad_b's included
            np.testing.assert_array_equal(other[0], grad_h, strict=True)
            np.testing.assert_array_equal(other[1], grad_b, strict=True)
            assert np.array_equal(np.signbit(other[0]), np.signbit(grad_h))
        with np.errstate(invalid="ignore", over="ignore"):
            naive = grad_h.astype(np.float64).reshape(-1, shape[-1]).sum(axis=0)
        finite = np.isfinite(naive)
        np.testing.assert_array_equal(np.isnan(grad_b), np.isnan(naive))
        assert np.array_equal(grad_b[~finite & ~np.isnan(naive)], naive[~finite & ~np.isnan(naive)])
        for v, copy in zip((h, b, g), copies, strict=True):
            np.testing.assert_array_equal(v, copy, strict=True)


def _exact_column_sums(grad_h, cols):
    rows = grad_h.astype(np.float64).reshape(-1, cols)
    exact = [Fraction(math.fsum(rows[:, j])) for j in range(cols)]
    absolute = [Fraction(math.fsum(np.abs(rows[:, j]))) for j in range(cols)]
    return exact, absolute


def _assert_within_bound(grad_b, grad_h, shape, dtype):
    """|grad_b - exact| <= 0.5 ulp (float32) + grad_bias_bound * sum |grad_h|, the exact
    sum of the grad_h returned (Fractions: no rounding in the check)."""
    exact, absolute = _exact_column_sums(grad_h, shape[-1])
    bound = Fraction(grad_bias_bound(shape))
    for got, want, size in zip(grad_b, exact, absolute, strict=True):
        half_ulp = Fraction(float(np.spacing(np.abs(dtype(float(want)))))) / 2
        allowed = (half_ulp if dtype == np.float32 else 0) + bound * size
        assert abs(Fraction(float(got)) - want) <= allowed, (float(got), float(want))


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
@pytest.mark.parametrize("shape", [(1 << 18, 3), (4096, 64), (3, 1 << 17)])
def test_grad_b_within_its_bound_of_the_exact_sum_whatever_the_batch(shape, dtype):
    """Columns of many terms that cancel to a small sum (where float32 accumulation in
    order is off by many ulps): grad_b within the stated bound of the exact sum; a float32
    grad_b closer to it than a float32 running sum."""
    rng = np.random.default_rng(5)
    g = rng.standard_normal(shape).astype(dtype)
    rows = shape[0]
    g[rows // 2 : 2 * (rows // 2)] = -g[: rows // 2] * dtype(0.999)  # cancels
    h = np.zeros(shape, dtype)  # relu's derivative at 1.0 is 1: grad_h is grad_out
    grad_h, grad_b = fg.relu_bias_backward(g, h, np.ones(shape[-1], dtype))
    np.testing.assert_array_equal(grad_h, g)
    _assert_within_bound(grad_b, grad_h, shape, dtype)
    if dtype == np.float32 and rows > 1:
        exact, _ = _exact_column_sums(grad_h, shape[-1])
        running = np.cumsum(grad_h.reshape(-1, shape[-1]), axis=0, dtype=np.float32)[-1]
        ours = sum(abs(Fraction(float(v)) - e) for v, e in zip(grad_b, exact, strict=True))
        theirs = sum(abs(Fraction(float(v)) - e) for v, e in zip(running, exact, strict=True))
        assert ours <= theirs


def test_grad_b_of_every_activation_within_its_bound():
    for act in TABLE:
        for dtype in DTYPES:
            h, b, g = (
                np.random.default_rng(3).standard_normal(s).astype(dtype)
                for s in ((513, 40), 40, (513, 40))
            )
            grad_h, grad_b = _call(act, "_bias_backward", g, h, b, **act.default_params)
            _assert_within_bound(grad_b, grad_h, h.shape, dtype)


def test_thread_count_changes_no_bit():
    """Above the size from which calls run on threads: 1 and 2 threads give the same bits,
    the bias gradient included (compute-bound gelu, memory-bound relu; long and short
    rows)."""
    rng = np.random.default_rng(12)
    arrays = [
        (rng.standard_normal((1100, 1024)).astype(np.float32), 1024),
        (rng.standard_normal((300_000, 5)), 5),
    ]
    previous = fg.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            fg.set_num_threads(threads)
            run = []
            for h, cols in arrays:
                b = np.linspace(-1, 1, cols).astype(h.dtype)
                g = h[::-1].copy()
                for name in ("gelu", "relu"):
                    run += [getattr(fg, name + "_bias")(h, b)]
                    run += list(getattr(fg, name + "_bias_fwd_grad")(h, b))
                    run += list(getattr(fg, name + "_bias_backward")(g, h, b))
                    d = run[-3]
                    run += list(getattr(fg, name + "_bias_backward_from_grad")(g, d))
            results.append(run)
    finally:
        fg.set_num_threads(previous)
    for want, got in zip(*results, strict=True):
        np.testing.assert_array_equal(want, got, strict=True)


@pytest.mark.parametrize("dtype", DTYPES, **DTYPE_IDS)
def test_out_in_place_and_overlapping(dtype):
    """out= may be h itself (forward, y of the pair) and grad_h may be grad_out or h; an
    out that partly overlaps an input gives what a temporary would."""
    rng = np.random.default_rng(4)
    h, b, g = (rng.standard_normal(s).astype(dtype) for s in ((64, 300), 300, (64, 300)))
    want = fg.silu_bias(h, b)
    want_pair = fg.silu_bias_fwd_grad(h, b)
    want_grad = fg.silu_bias_backward(g, h, b)
    x = h.copy()
    assert fg.silu_bias(x, b, out=x) is x
    np.testing.assert_array_equal(x, want)
    x, d = h.copy(), np.empty_like(h)
    fg.silu_bias_fwd_grad(x, b, out=(x, d))
    np.testing.assert_array_equal(x, want_pair[0])
    np.testing.assert_array_equal(d, want_pair[1])
    want_d = want_pair[1]
    for into in ("grad_out", "d"):
        gg, dd, gb = g.copy(), want_d.copy(), np.empty(300, dtype)
        target = gg if into == "grad_out" else dd
        fg.silu_bias_backward_from_grad(gg, dd, out=(target, gb))
        np.testing.assert_array_equal(target, want_grad[0])
        np.testing.assert_array_equal(gb, want_grad[1])
    for into in ("grad_out", "h"):
        gg, x, gb = g.copy(), h.copy(), np.empty(300, dtype)
        target = gg if into == "grad_out" else x
        result = fg.silu_bias_backward(gg, x, b, out=(target, gb))
        assert result[0] is target and result[1] is gb
        np.testing.assert_array_equal(target, want_grad[0])
        np.testing.assert_array_equal(gb, want_grad[1])
    # separate out= arrays (the fast paths write them directly)
    y, d, gh, gb = np.empty_like(h), np.empty_like(h), np.empty_like(h), np.empty_like(b)
    assert fg.silu_bias(h, b, out=y) is y
    assert fg.silu_bias_fwd_grad(h, b, out=(y, d)) == (y, d)
    np.testing.assert_array_equal(y, want_pair[0])
    np.testing.assert_array_equal(d, want_pair[1])
    for call in (
        lambda: fg.silu_bias_backward(g, h, b, out=(gh, gb)),
        lambda: fg.silu_bias_backward_from_grad(g, want_pair[1], out=(gh, gb)),
    ):
        gh[...], gb[...] = 0, 0
        result = call()
        assert result[0] is gh and result[1] is gb
        np.testing.assert_array_equal(gh, want_grad[0])
        np.testing.assert_array_equal(gb, want_grad[1])
    # partial overlap: out starts one element into h's buffer
    buf = np.concatenate([h.reshape(-1), h.reshape(-1)[:1]])
    x, out = buf[1:].reshape(h.shape), buf[:-1].reshape(h.shape)
    expected = fg.silu_bias(x.copy(), b)
    fg.silu_bias(x, b, out=out)
    np.testing.assert_array_equal(out, expected)
    # a strided out is written through a temporary
    wide = np.zeros((64, 600), dtype)
    fg.silu_bias(h, b, out=wide[:, ::2])
    np.testing.assert_array_equal(wide[:, ::2], want)


def test_dtypes_follow_numpy_for_h_plus_b():
    h32 = np.linspace(-3, 3, 60, dtype=np.float32).reshape(6, 10)
    b64 = np.linspace(-1, 1, 10)
    y = fg.tanh_bias(h32, b64)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, fg.tanh(h32 + b64))
    h16, b16 = h32.astype(np.float16), b64.astype(np.float16)
    y16 = fg.tanh_bias(h16, b16)
    assert y16.dtype == np.float16
    np.testing.assert_array_equal(y16, fg.tanh(h16 + b16))
    grad_h, grad_b = fg.tanh_bias_backward(np.ones_like(h16), h16, b16)
    assert grad_h.dtype == grad_b.dtype == np.float16
    np.testing.assert_array_equal(grad_h, fg.tanh_backward(np.ones_like(h16), h16 + b16))
    want = grad_h.astype(np.float64).sum(axis=0).astype(np.float16)
    np.testing.assert_array_equal(grad_b, want)
    ints = fg.relu_bias(np.arange(-5, 5, dtype=np.int32).reshape(2, 5), np.zeros(5))
    assert ints.dtype == np.float64
    # a Python number as grad_out takes h's dtype
    grad_h, grad_b = fg.relu_bias_backward(2.0, h32, np.zeros(10, np.float32))
    assert grad_h.dtype == grad_b.dtype == np.float32
    np.testing.assert_array_equal(grad_b, np.where(h32 > 0, 2.0, 0.0).sum(0).astype(np.float32))


def test_parameters_variants_and_accuracy_levels():
    rng = np.random.default_rng(8)
    h, b = rng.standard_normal((20, 300)).astype(np.float32), rng.standard_normal(300)
    h, b = h.astype(np.float32), b.astype(np.float32)
    hb = h + b
    for name, kw in [
        ("leaky_relu", {"negative_slope": 0.2}),
        ("gelu", {"approximate": "tanh"}),
        ("gelu", {"accuracy": "fast"}),
        ("threshold", {"threshold": 0.5, "value": -1.0}),
        ("elu", {"alpha": 0.5}),
    ]:
        np.testing.assert_array_equal(
            getattr(fg, name + "_bias")(h, b, **kw), getattr(fg, name)(hb, **kw)
        )
        g = np.ones_like(h)
        grad_h, _ = getattr(fg, name + "_bias_backward")(g, h, b, **kw)
        np.testing.assert_array_equal(grad_h, getattr(fg, name + "_backward")(g, hb, **kw))
    # aliases are the same functions
    assert fg.swish_bias is fg.silu_bias
    assert fg.swish_bias_backward is fg.silu_bias_backward


def test_empty_arrays():
    h, b = np.zeros((0, 7), np.float32), np.ones(7, np.float32)
    assert fg.gelu_bias(h, b).shape == (0, 7)
    grad_h, grad_b = fg.gelu_bias_backward(h, h, b)
    assert grad_h.shape == (0, 7)
    np.testing.assert_array_equal(grad_b, np.zeros(7, np.float32))
    grad_h, grad_b = fg.gelu_bias_backward(np.zeros((3, 0)), np.zeros((3, 0)), np.zeros(0))
    assert grad_h.shape == (3, 0) and grad_b.shape == (0,)


def test_bad_arguments_raise_before_anything_is_written():
    h, b, g = np.ones((4, 3)), np.ones(3), np.ones((4, 3))
    out = np.full((4, 3), 7.0)
    bad = [
        (ValueError, "b must be 1-D", lambda: fg.gelu_bias(h, np.ones(4), out=out)),
        (ValueError, "b must be 1-D", lambda: fg.gelu_bias(h, np.ones((1, 3)), out=out)),
        (ValueError, "at least one dimension", lambda: fg.gelu_bias(1.0, np.ones(1))),
        (TypeError, "dtype complex128", lambda: fg.gelu_bias(h.astype(complex), b, out=out)),
        (TypeError, "b has dtype", lambda: fg.gelu_bias(h, b.astype("U3"), out=out)),
        (ValueError, "out has shape", lambda: fg.gelu_bias(h, b, out=np.ones((3, 4)))),
        (TypeError, "out must be a numpy.ndarray", lambda: fg.gelu_bias(h, b, out=[1.0])),
        (TypeError, "unexpected parameter", lambda: fg.gelu_bias(h, b, out=out, alpha=1.0)),
        (TypeError, "missing required", lambda: fg.threshold_bias(h, b, out=out)),
        (ValueError, "approximate must be", lambda: fg.gelu_bias(h, b, approximate="x", out=out)),
        (TypeError, "out must be a pair", lambda: fg.gelu_bias_fwd_grad(h, b, out=out)),
        (ValueError, "must not overlap", lambda: fg.gelu_bias_fwd_grad(h, b, out=(out, out))),
        (ValueError, "grad_out has shape", lambda: fg.gelu_bias_backward(np.ones(4), h, b)),
        (TypeError, "out must be a pair", lambda: fg.gelu_bias_backward(g, h, b, out=out)),
        (ValueError, "d must have at least", lambda: fg.gelu_bias_backward_from_grad(1.0, 1.0)),
        (ValueError, "grad_out has shape", lambda: fg.gelu_bias_backward_from_grad(h[0], h.T)),
        (TypeError, "unexpected keyword", lambda: fg.gelu_bias_backward_from_grad(g, h, alpha=1)),
        (
            ValueError,
            "out\\[1\\] has shape",
            lambda: fg.gelu_bias_backward(g, h, b, out=(out, out)),
        ),
        (
            ValueError,
            "grad_b. must not overlap",
            lambda: fg.gelu_bias_backward(g, h, b, out=(out, out[0])),
        ),
        (
            ValueError,
            "out\\[0\\] is read-only",
            lambda: fg.gelu_bias_backward(
                g, h, b, out=(np.broadcast_to(out, out.shape), np.ones(3))
            ),
        ),
    ]
    for error, message, call in bad:
        with pytest.raises(error, match=message):
            call()
        assert (out == 7.0).all()


def test_signatures_and_docstrings():
    import inspect

    sig = inspect.signature(fg.gelu_bias_backward)
    assert list(sig.parameters)[:4] == ["grad_out", "h", "b", "out"]
    assert "approximate" in sig.parameters and "accuracy" in sig.parameters
    assert "grad_bias_bound" in fg.sigmoid_bias.__doc__
    assert fg.sigmoid_bias.__name__ == "sigmoid_bias"


def test_njit_forms_are_the_python_calls():
    """Inside @njit: the four functions with parameters and out=, y, d and grad_h bit for
    bit the Python-level call's, grad_b too for rows of SHORT_ROW or more (shorter rows,
    float64: within the bound)."""
    import numba

    @numba.njit
    def epilogue(h, b, g, y, d, gh, gb):
        out = fg.silu_bias(h, b)
        fg.gelu_bias_fwd_grad(h, b, approximate="tanh", out=(y, d))
        pair = fg.gelu_bias_backward(g, h, b, approximate="tanh")
        fg.gelu_bias_backward_from_grad(g, d, out=(gh, gb))
        leaky = fg.leaky_relu_bias_backward(g, h, b, negative_slope=0.3)
        return out, pair, leaky

    @numba.njit
    def short_rows(g, h, b):
        return fg.gelu_bias_backward(g, h, b)

    rng = np.random.default_rng(9)
    shape = (70, 300)
    h, g = (
        rng.standard_normal(shape).astype(np.float32),
        rng.standard_normal(shape).astype(np.float32),
    )
    b = rng.standard_normal(shape[-1]).astype(np.float32)
    y, d, gh, gb = np.empty_like(h), np.empty_like(h), np.empty_like(h), np.empty_like(b)
    out, pair, leaky = epilogue(h, b, g, y, d, gh, gb)
    np.testing.assert_array_equal(out, fg.silu_bias(h, b), strict=True)
    want_y, want_d = fg.gelu_bias_fwd_grad(h, b, approximate="tanh")
    np.testing.assert_array_equal(y, want_y, strict=True)
    np.testing.assert_array_equal(d, want_d, strict=True)
    want = fg.gelu_bias_backward(g, h, b, approximate="tanh")
    want_leaky = fg.leaky_relu_bias_backward(g, h, b, negative_slope=0.3)
    for got, expected in ((pair, want), ((gh, gb), want), (leaky, want_leaky)):
        np.testing.assert_array_equal(got[0], expected[0], strict=True)
        np.testing.assert_array_equal(got[1], expected[1], strict=True)
    shape = (600, 7)
    h, g, b = (rng.standard_normal(s) for s in (shape, shape, shape[-1]))
    grad_h, grad_b = short_rows(g, h, b)
    np.testing.assert_array_equal(grad_h, fg.gelu_bias_backward(g, h, b)[0], strict=True)
    _assert_within_bound(grad_b, grad_h, shape, np.float64)

    @numba.njit
    def bad(h, b):
        return fg.gelu_bias(h, b)

    with pytest.raises(ValueError, match="h.shape"):
        bad(np.ones((2, 3)), np.ones(4))
    with pytest.raises(numba.core.errors.TypingError, match="arrays"):
        bad(np.ones((2, 3), np.int64), np.ones(3))
