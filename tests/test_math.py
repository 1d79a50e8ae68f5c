"""The elementary functions against mpmath, and their constants against their derivation."""

import pathlib

import mpmath as mp
import numba
import numpy as np
import pytest
from conftest import magnitudes
from oracle import ulp_errors

from fastgrad._math import derive, elementary


def _kernel(fn):
    @numba.njit(error_model="numpy")
    def apply(x, out):
        for i in range(x.size):
            out[i] = fn(x[i])

    return apply


def _sweep(dtype, lo, hi, n=1500):
    """Uniform points in [lo, hi] and log-spaced magnitudes out to the dtype's extremes."""
    mags = magnitudes(dtype, n)
    xs = np.concatenate([np.linspace(lo, hi, n), mags, -mags])
    return xs.astype(dtype)


MAX_ULPS = 1.0  # measured: exp <= 1.0 (0.997 at the flush threshold), log1p <= 0.67


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_is_within_one_ulp(dtype):
    xs = _sweep(dtype, -800, 800)
    out = np.empty_like(xs)
    _kernel(elementary(dtype).exp)(xs, out)
    truths = [mp.exp(mp.mpf(float(x))) for x in xs]
    assert ulp_errors(out, truths, dtype).max() <= MAX_ULPS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log1p_is_within_one_ulp(dtype):
    xs = _sweep(dtype, -1, 4)
    xs = xs[xs >= -1]
    out = np.empty_like(xs)
    _kernel(elementary(dtype).log1p)(xs, out)
    truths = [mp.log1p(mp.mpf(float(x))) if x > -1 else mp.ninf for x in xs]
    assert ulp_errors(out, truths, dtype).max() <= MAX_ULPS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    m = elementary(dtype)
    ex, lg = _kernel(m.exp), _kernel(m.log1p)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e6, -1e6], dtype)
    out = np.empty_like(x)
    ex(x, out)
    np.testing.assert_array_equal(out, np.array([np.nan, np.inf, 0, 1, 1, np.inf, 0], dtype))
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, -2.0], dtype)
    lg(x, out)
    np.testing.assert_array_equal(
        out, np.array([np.nan, np.inf, np.nan, 0, 0, -np.inf, np.nan], dtype)
    )
    assert np.signbit(out[4])  # log1p(-0.0) = -0.0


def test_flush_policy_exp_results_below_the_smallest_normal_are_zero():
    for dtype in (np.float32, np.float64):
        tiny = np.finfo(dtype).tiny
        x = np.array([np.log(float(tiny)) - 0.5, np.log(float(tiny)) + 0.5], dtype)
        out = np.empty_like(x)
        _kernel(elementary(dtype).exp)(x, out)
        assert out[0] == 0 and out[1] >= tiny


def test_committed_coefficients_match_their_derivation():
    committed = pathlib.Path(derive.__file__).with_name("coefficients.py").read_text()
    assert committed == derive.render()
