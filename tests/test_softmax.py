"""Softmax, log-softmax, softmin, logsumexp and their backward (``fastgrad._softmax``):
against mpmath on rows of 1 to 1e5 elements within the stated bounds, along the last
axis and another one; the limits (+inf, -inf, NaN, empty axes); PyTorch's values and
SciPy's accuracy; thread-count independence; out=, dtypes, errors."""

import doctest
import warnings

import mpmath
import numpy as np
import pytest

import fastgrad as fg
from fastgrad import _softmax
from fastgrad._softmax import (
    BACKWARD_ULPS,
    LOG_SOFTMAX_ULPS,
    LOGSUMEXP_ULPS,
    SOFTMAX_ULPS,
)
from harness.peers import torch_module

from .conftest import DTYPES

torch = torch_module()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
try:
    import scipy.special as scipy_special
except ImportError:  # pragma: no cover
    scipy_special = None

LENGTHS = (1, 2, 3, 17, 256, 1000, 4097, 100_000)


def _row(length, dtype, seed):
    """A row with a wide dynamic range: normal values at several scales, ties at the max,
    a dominant element (s - 1 tiny), values far below it (exp underflows)."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-3, 3, length)
    x = rng.standard_normal(length) * scale
    if length >= 8:
        x[rng.integers(0, length, 2)] = x.max()  # ties at the max
        x[rng.integers(0, length)] = x.max() + 30.0  # one dominant element
        x[rng.integers(0, length)] = x.min() - 200.0  # far below: exp underflows
    if length >= 3 and seed % 2:
        x += 1e4 if dtype == np.float32 else 1e9  # a large common offset
    return x.astype(dtype)


def _exact(row):
    """(softmax, log_softmax, logsumexp) of the row exactly (mpmath, 30 extra digits)."""
    mpmath.mp.prec = 160
    xs = [mpmath.mpf(float(v)) for v in row]
    m = max(xs)
    terms = [mpmath.exp(v - m) for v in xs]
    s = mpmath.fsum(terms)
    log_s = mpmath.log(s)
    return [t / s for t in terms], [(v - m) - log_s for v in xs], m + log_s, m


def _spacing(values, dtype):
    """The dtype's ulp at each value (the smallest subnormal at least), as float64."""
    at = np.abs(np.array([float(v) for v in values])).astype(dtype)
    spacing = np.spacing(at).astype(np.float64)
    return np.maximum(spacing, float(np.finfo(dtype).smallest_subnormal))


def _ulps(got, exact, dtype, scale=None):
    """|got - exact| in ulps of the dtype at exact (or at ``scale``, elementwise)."""
    got = np.asarray(got, np.float64).ravel()
    exact_f = np.array([float(e) for e in exact])
    at = np.abs(exact_f if scale is None else np.asarray(scale, np.float64))
    spacing = np.spacing(at.astype(dtype)).astype(np.float64)
    spacing = np.maximum(spacing, float(np.finfo(dtype).smallest_subnormal))
    return _absolute_errors(got, exact) / spacing


def _absolute_errors(got, exact):
    pairs = zip(np.ravel(got), exact, strict=True)
    return np.array([float(abs(mpmath.mpf(float(g)) - e)) for g, e in pairs])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("length", LENGTHS)
def test_forward_within_bounds_of_mpmath_along_either_axis(length, dtype):
    row = _row(length, dtype, seed=length)
    y_exact, log_exact, lse_exact, m = _exact(row)
    # the row as the last axis, and as the first of a (length, 3) array (tiles)
    column = np.ascontiguousarray(np.repeat(row[:, None], 3, axis=1))
    for x, dim, pick in ((row, -1, lambda a: a), (column, 0, lambda a: a[:, 1])):
        y = pick(fg.softmax(x, dim))
        assert _ulps(y, y_exact, dtype).max() <= SOFTMAX_ULPS
        log_y = pick(fg.log_softmax(x, dim))
        assert _ulps(log_y, log_exact, dtype).max() <= LOG_SOFTMAX_ULPS
        lse = np.atleast_1d(fg.logsumexp(x, dim))[:1]
        scale = max(abs(float(lse_exact)), abs(float(m)))
        assert _ulps(lse, [lse_exact], dtype, scale=[scale]).max() <= LOGSUMEXP_ULPS


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_softmin_is_softmax_of_minus_x_within_its_bound(dtype):
    row = _row(4097, dtype, seed=3)
    y_exact = _exact(-row)[0]
    assert _ulps(fg.softmin(row, 0), y_exact, dtype).max() <= SOFTMAX_ULPS
    column = np.ascontiguousarray(np.repeat(row[:, None], 2, axis=1))
    assert _ulps(fg.softmin(column, 0)[:, 0], y_exact, dtype).max() <= SOFTMAX_ULPS


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("length", (1, 5, 300, 20_000))
def test_backward_within_bounds_of_the_exact_contract(length, dtype):
    """grad = y * (g - sum(g*y)) and g - exp(y) * sum(g), for the float y and g given,
    evaluated exactly; error within BACKWARD_ULPS of the result, plus BACKWARD_ULPS of
    the cancelling term's size."""
    rng = np.random.default_rng(length)
    x = _row(length, dtype, seed=length + 1)
    g = (rng.standard_normal(length) * 3).astype(dtype)
    mpmath.mp.prec = 160
    for name, y, sign in (
        ("softmax", fg.softmax(x, 0), 1),
        ("softmin", fg.softmin(x, 0), -1),
        ("log_softmax", fg.log_softmax(x, 0), 1),
    ):
        gm = [mpmath.mpf(float(v)) for v in g]
        ym = [mpmath.mpf(float(v)) for v in y]
        if name == "log_softmax":
            total = mpmath.fsum(gm)
            abstotal = mpmath.fsum(abs(v) for v in gm)
            exact = [gi - mpmath.exp(yi) * total for gi, yi in zip(gm, ym, strict=True)]
            size = [float(mpmath.exp(yi) * abstotal) for yi in ym]
        else:
            dot = mpmath.fsum(gi * yi for gi, yi in zip(gm, ym, strict=True))
            exact = [sign * yi * (gi - dot) for gi, yi in zip(gm, ym, strict=True)]
            absdot = mpmath.fsum(abs(gi * yi) for gi, yi in zip(gm, ym, strict=True))
            size = [float(abs(yi) * (abs(gi) + absdot)) for gi, yi in zip(gm, ym, strict=True)]
        column = np.ascontiguousarray(np.repeat(y[:, None], 2, axis=1))
        g_column = np.ascontiguousarray(np.repeat(g[:, None], 2, axis=1))
        backward = getattr(fg, name + "_backward")
        for got in (backward(g, y, 0), backward(g_column, column, 0)[:, 1]):
            errors = _absolute_errors(got, exact)
            allowed = BACKWARD_ULPS * (_spacing(exact, dtype) + _spacing(size, dtype))
            worst = int(np.argmax(errors - allowed))
            assert errors[worst] <= allowed[worst], (name, worst, got[worst], errors[worst])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_logsumexp_backward_is_softmax_times_grad_out(dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((40, 300)) * 5).astype(dtype)
    g = rng.standard_normal(300).astype(dtype)
    for dim, gshape in ((1, (40, 1)), (0, (1, 300))):
        gr = g[: x.shape[1 - dim]].reshape(gshape)
        r = fg.logsumexp(x, dim, keepdim=True)
        got = fg.logsumexp_backward(gr, x, r, dim, keepdim=True)
        want = gr.astype(np.float64) * fg.softmax(x.astype(np.float64), dim)
        # r is rounded to the dtype: exp(x - r) carries its error, |r| ulps of 1 (the
        # contract's, PyTorch's too), besides the few ulps of the computation
        rtol = 4 * np.finfo(dtype).eps * (1 + np.abs(r).max())
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
        squeezed = fg.logsumexp_backward(gr.reshape(-1), x, r.reshape(-1), dim)
        np.testing.assert_array_equal(squeezed, got)


# ------------------------------------------------------------------ limits and specials


def test_limits_of_infinite_and_nan_rows():
    inf, nan = np.inf, np.nan
    x = np.array(
        [
            [1.0, inf, 2.0],  # a lone +inf: the limit
            [inf, inf, 0.0],  # two: undefined
            [nan, 1.0, 0.0],  # NaN
            [nan, inf, 0.0],
            [-inf, -inf, -inf],  # only -inf: 0/0 (PyTorch's NaN)
            [-inf, 0.0, -inf],  # -inf elsewhere: exact zeros
        ]
    )
    for layout in ("rows", "columns"):
        xx = x if layout == "rows" else np.ascontiguousarray(x.T)
        dim = 1 if layout == "rows" else 0

        def back(a, layout=layout):
            return a if layout == "rows" else a.T

        y = back(fg.softmax(xx, dim))
        np.testing.assert_array_equal(y[0], [0.0, 1.0, 0.0])
        assert np.isnan(y[1:5]).all()
        np.testing.assert_array_equal(y[5], [0.0, 1.0, 0.0])
        log_y = back(fg.log_softmax(xx, dim))
        np.testing.assert_array_equal(log_y[0], [-inf, 0.0, -inf])
        assert np.isnan(log_y[1:5]).all()
        np.testing.assert_array_equal(log_y[5], [-inf, 0.0, -inf])
        lse = fg.logsumexp(xx, dim)
        np.testing.assert_array_equal(lse, [inf, inf, nan, nan, -inf, 0.0])
        grad = back(fg.logsumexp_backward(np.full(6, 2.0), xx, lse, dim))
        np.testing.assert_array_equal(grad[0], [0.0, 2.0, 0.0])
        np.testing.assert_array_equal(grad[5], [0.0, 2.0, 0.0])
        assert np.isnan(grad[1, :2]).all() and np.isnan(grad[2:5]).all()
        assert back(fg.softmin(-xx, dim))[0].tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_no_overflow_or_warning_for_any_finite_input(dtype):
    big = float(np.finfo(dtype).max)
    x = np.array([[big, big, -big], [-big, -big, -big], [big, 0.0, -0.0]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fg.softmax(x, -1)
        log_y = fg.log_softmax(x, -1)
        lse = fg.logsumexp(x, -1)
    np.testing.assert_array_equal(y[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(y[1], [1 / 3] * 3, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(y[2], [1.0, 0.0, 0.0])
    assert np.isfinite(log_y[:, :2]).all() and log_y[0, 2] == -np.inf
    assert lse[0] == np.inf or lse[0] == dtype(big) + dtype(np.log(2.0))  # rounds to inf
    assert np.isfinite(lse[1:]).all()


def test_empty_axes_and_zero_dimensional_input():
    assert fg.softmax(np.zeros((3, 0)), -1).shape == (3, 0)
    assert fg.softmax(np.zeros((0, 4)), 0).shape == (0, 4)
    np.testing.assert_array_equal(fg.logsumexp(np.zeros((3, 0)), 1), [-np.inf] * 3)
    np.testing.assert_array_equal(fg.logsumexp(np.zeros((0, 2)), 0), [-np.inf] * 2)
    assert fg.softmax(np.float64(3.0), 0) == 1.0
    assert fg.log_softmax(np.float32(3.0), -1) == 0.0
    assert fg.logsumexp(2.0, 0) == 2.0


def test_signed_zeros_and_subnormals():
    tiny = np.finfo(np.float32).smallest_subnormal
    x = np.array([-0.0, 0.0, tiny, -tiny], np.float32)
    y = fg.softmax(x, 0)
    np.testing.assert_array_equal(y, np.full(4, 0.25, np.float32))
    assert not np.signbit(y).any()
    # results far below the max are subnormal, rounded once (gradual underflow)
    x = np.array([0.0, -95.0, -100.0, -103.0], np.float32)
    got = fg.softmax(x, 0)
    exact = _exact(x)[0]
    assert _ulps(got, exact, np.float32).max() <= SOFTMAX_ULPS
    assert 0 < got[2] < np.finfo(np.float32).tiny


# ------------------------------------------------------------------- peers


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "shape, dim", [((64, 1000), -1), ((64, 1000), 0), ((3, 50, 7), 1), ((4, 5, 6), 2), ((9,), 0)]
)
def test_torch_parity(shape, dim, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 6).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    t = torch.from_numpy(x)
    # PyTorch rounds x - max before its exp (|x - max| * eps / 2 relative, ~15 ulps here)
    # and uses a 2-ulp exp; fastgrad is within its bounds (the mpmath tests): agreement
    # to PyTorch's error
    tol = dict(rtol=64 * np.finfo(dtype).eps, atol=8 * float(np.finfo(dtype).tiny))
    np.testing.assert_allclose(fg.softmax(x, dim), torch.softmax(t, dim).numpy(), **tol)
    np.testing.assert_allclose(
        fg.softmin(x, dim), torch.nn.functional.softmin(t, dim).numpy(), **tol
    )
    # PyTorch's log_softmax is x - (max + log s), rounded at max's magnitude; fastgrad's
    # (x - max) - log s is exact to the mpmath tests' bound (checked on these rows)
    log_tol = dict(rtol=0, atol=8 * np.finfo(dtype).eps * float(np.abs(x).max()))
    np.testing.assert_allclose(fg.log_softmax(x, dim), torch.log_softmax(t, dim).numpy(), **log_tol)
    np.testing.assert_allclose(fg.logsumexp(x, dim), torch.logsumexp(t, dim).numpy(), **tol)
    y = torch.softmax(t, dim)
    ly = torch.log_softmax(t, dim)
    tg = torch.from_numpy(g)
    want = torch._softmax_backward_data(tg, y, dim, t.dtype).numpy()
    got = fg.softmax_backward(g, y.numpy(), dim)
    np.testing.assert_allclose(
        got, want, rtol=64 * np.finfo(dtype).eps, atol=16 * np.finfo(dtype).eps
    )
    want = torch._log_softmax_backward_data(tg, ly, dim, t.dtype).numpy()
    got = fg.log_softmax_backward(g, ly.numpy(), dim)
    np.testing.assert_allclose(
        got, want, rtol=64 * np.finfo(dtype).eps, atol=16 * np.finfo(dtype).eps
    )


def _worst_ulps(fn, rows, dtype, which):
    worst = 0.0
    for row in rows:
        exact = _exact(row)
        got = fn(row)
        if which == 2:
            scale = max(abs(float(exact[2])), abs(float(exact[3])))
            worst = max(worst, _ulps([got], [exact[2]], dtype, scale=[scale]).max())
        else:
            worst = max(worst, _ulps(got, exact[which], dtype).max())
    return worst


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_at_least_as_accurate_as_torch_and_scipy_on_the_same_rows(dtype):
    rows = [_row(n, dtype, seed) for seed, n in enumerate((5, 64, 1000, 4097))]
    ours = [
        _worst_ulps(lambda r: fg.softmax(r, 0), rows, dtype, 0),
        _worst_ulps(lambda r: fg.log_softmax(r, 0), rows, dtype, 1),
        _worst_ulps(lambda r: fg.logsumexp(r, 0), rows, dtype, 2),
    ]
    peers = []
    if scipy_special is not None:
        peers.append(
            (
                lambda r: scipy_special.softmax(r, axis=0),
                lambda r: scipy_special.log_softmax(r, axis=0),
                lambda r: scipy_special.logsumexp(r, axis=0),
            )
        )
    if torch is not None:
        peers.append(
            (
                lambda r: torch.softmax(torch.from_numpy(r), 0).numpy(),
                lambda r: torch.log_softmax(torch.from_numpy(r), 0).numpy(),
                lambda r: torch.logsumexp(torch.from_numpy(r), 0).numpy(),
            )
        )
    if not peers:
        pytest.skip("neither SciPy nor PyTorch is installed")
    for peer in peers:
        for which, (fn, mine) in enumerate(zip(peer, ours, strict=True)):
            assert mine <= max(_worst_ulps(fn, rows, dtype, which), 1.0)


# --------------------------------------------------------------- threads and layouts


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape, dim", [((512, 1024), -1), ((2048, 300), 0), ((3, 300, 400), 1)])
def test_thread_count_changes_no_bit(shape, dim, dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    before = fg.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            fg.set_num_threads(threads)
            y = fg.softmax(x, dim)
            results.append(
                (y, fg.log_softmax(x, dim), fg.logsumexp(x, dim), fg.softmax_backward(g, y, dim))
            )
    finally:
        fg.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_out_in_place_strided_float16_and_dtypes():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((30, 40)).astype(np.float32)
    want = fg.softmax(x, 1)
    inplace = x.copy()
    assert fg.softmax(inplace, 1, out=inplace) is inplace
    np.testing.assert_array_equal(inplace, want)
    strided = np.empty((30, 80), np.float32)[:, ::2]
    fg.softmax(x, axis=1, out=strided)
    np.testing.assert_array_equal(strided, want)
    np.testing.assert_array_equal(fg.softmax(np.asfortranarray(x), 1), want)
    half = fg.softmax(x.astype(np.float16), 1)
    assert half.dtype == np.float16
    np.testing.assert_array_equal(
        half, fg.softmax(x.astype(np.float16).astype(np.float32), 1).astype(np.float16)
    )
    assert fg.softmax(np.arange(6).reshape(2, 3), 1).dtype == np.float64
    g = rng.standard_normal(x.shape).astype(np.float32)
    y = want.copy()
    expected = fg.softmax_backward(g, want, 1)
    assert fg.softmax_backward(g, y, 1, out=y) is y
    np.testing.assert_array_equal(y, expected)
    assert x.dtype == np.float32 and not np.shares_memory(want, x)


def test_logsumexp_tuple_dims_and_keepdim():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5, 6))
    want = np.log(np.exp(x).sum(axis=(0, 2)))
    np.testing.assert_allclose(fg.logsumexp(x, (0, 2)), want, rtol=1e-15)
    kept = fg.logsumexp(x, (2, 0), keepdim=True)
    assert kept.shape == (1, 5, 1)
    grad = fg.logsumexp_backward(np.ones((1, 5, 1)), x, kept, (0, 2), keepdim=True)
    np.testing.assert_allclose(grad.sum(axis=(0, 2)), np.ones(5), rtol=1e-14)
    np.testing.assert_allclose(grad, np.exp(x - want[None, :, None]), rtol=1e-14)


def test_errors_before_anything_is_written():
    x = np.ones((3, 4))
    out = np.full((3, 4), 7.0)
    with pytest.raises(TypeError, match="dim is required"):
        fg.softmax(x)
    with pytest.raises(TypeError, match="not both"):
        fg.softmax(x, 1, axis=1)
    with pytest.raises(np.exceptions.AxisError):
        fg.softmax(x, 2, out=out)
    with pytest.raises(TypeError, match="int"):
        fg.softmax(x, 1.0)
    with pytest.raises(ValueError, match="shape"):
        fg.softmax(x, 1, out=np.empty((4, 3)))
    with pytest.raises(TypeError, match="dtype"):
        fg.softmax(x, 1, out=np.empty((3, 4), np.float32))
    with pytest.raises(TypeError, match="dtype"):
        fg.softmax(np.ones(3, complex), 0)
    with pytest.raises(ValueError, match="grad_out"):
        fg.softmax_backward(np.ones(5), x, 1, out=out)
    with pytest.raises(ValueError, match="result"):
        fg.logsumexp_backward(np.ones(3), x, np.ones(4), 1)
    np.testing.assert_array_equal(out, 7.0)


def test_docstring_examples():
    for fn in (
        fg.softmax,
        fg.softmin,
        fg.log_softmax,
        fg.logsumexp,
        fg.softmax_backward,
        fg.softmin_backward,
        fg.log_softmax_backward,
        fg.logsumexp_backward,
    ):
        finder = doctest.DocTestFinder()
        runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
        for test in finder.find(fn, fn.__name__, globs={}):
            result = runner.run(test)
            assert result.failed == 0, fn.__name__
    assert _softmax.__doc__


def test_matches_the_numpy_references():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 9, 5)) * 3
    g = rng.standard_normal(x.shape)
    ref = fg.reference
    for dim in (0, 1, 2):
        y, log_y = fg.softmax(x, dim), fg.log_softmax(x, dim)
        pairs = [
            (y, ref.softmax(x, dim)),
            (fg.softmin(x, dim), ref.softmin(x, dim)),
            (log_y, ref.log_softmax(x, dim)),
            (fg.logsumexp(x, dim), ref.logsumexp(x, dim)),
            (fg.softmax_backward(g, y, dim), ref.softmax_backward(g, y, dim)),
            (fg.log_softmax_backward(g, log_y, dim), ref.log_softmax_backward(g, log_y, dim)),
        ]
        r = fg.logsumexp(x, dim)
        gr = g.sum(axis=dim)
        pairs.append((fg.logsumexp_backward(gr, x, r, dim), ref.logsumexp_backward(gr, x, r, dim)))
        for got, want in pairs:
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_njit_calls_are_the_python_calls_bit_for_bit():
    # float32 runs the same code with other constants; compiling the user's function
    # links the kernels' code into it (~15 s a dtype): one dtype here
    import numba

    dtype = np.float32

    @numba.njit
    def forward(x, dim):
        y = fg.softmax(x, dim)
        return y, fg.softmin(x, dim), fg.log_softmax(x, dim), fg.logsumexp(x, dim)

    @numba.njit
    def backward(g, x, y, log_y, r, gr, dim):
        return (
            fg.softmax_backward(g, y, dim),
            fg.softmin_backward(g, y, dim),
            fg.log_softmax_backward(g, log_y, dim),
            fg.logsumexp_backward(gr, x, r, dim),
        )

    rng = np.random.default_rng(6)
    x = (rng.standard_normal((20, 30, 40)) * 4).astype(dtype)
    x[0, 0, :3] = [np.inf, -np.inf, np.nan]
    g = rng.standard_normal(x.shape).astype(dtype)
    for dim in (0, 1, -1):
        got = forward(x, dim)
        want = (fg.softmax(x, dim), fg.softmin(x, dim), fg.log_softmax(x, dim))
        for a, b in zip(got[:3], want, strict=True):
            np.testing.assert_array_equal(a, b)
        r = fg.logsumexp(x, dim)
        np.testing.assert_array_equal(got[3], r.reshape(-1))
        gr = g.sum(axis=dim)
        got_b = backward(g, x, want[0], want[2], r, gr, dim)
        want_b = (
            fg.softmax_backward(g, want[0], dim),
            fg.softmin_backward(g, want[0], dim),
            fg.log_softmax_backward(g, want[2], dim),
            fg.logsumexp_backward(gr, x, r, dim),
        )
        for a, b in zip(got_b, want_b, strict=True):
            np.testing.assert_array_equal(a, b)
