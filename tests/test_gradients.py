"""Derivatives against central finite differences; backward and fwd_grad against grad."""

import numpy as np
import pytest

from .conftest import DTYPES, cases, public, special_values


def away_from_kinks(act, params, xs, margin):
    keep = np.ones(xs.shape, bool)
    for k in act.kinks_at(params):
        keep &= np.abs(xs - k) > margin
    return xs[keep]


@pytest.mark.parametrize("act, params", cases())
def test_grad_matches_central_differences(act, params):
    rng = np.random.default_rng(1)
    h = 1e-6
    xs = away_from_kinks(act, params, rng.uniform(-12, 12, 2000), 10 * h)
    f = public(act)
    fd = (f(xs + h, **params) - f(xs - h, **params)) / (2 * h)
    np.testing.assert_allclose(public(act, "_grad")(xs, **params), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_backward_is_grad_out_times_grad(act, params, dtype):
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-30, 30, 1000).astype(dtype), special_values(dtype)])
    g = rng.standard_normal(x.size).astype(dtype)
    expected = g * public(act, "_grad")(x, **params)
    np.testing.assert_array_equal(public(act, "_backward")(g, x, **params), expected)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_fwd_grad_is_forward_and_grad(act, params, dtype):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-30, 30, 1000).astype(dtype), special_values(dtype)])
    y, d = public(act, "_fwd_grad")(x, **params)
    np.testing.assert_array_equal(y, public(act)(x, **params))
    np.testing.assert_array_equal(d, public(act, "_grad")(x, **params))


@pytest.mark.parametrize("act, params", cases())
def test_nan_stays_nan_in_place_everywhere(act, params):
    for dtype in DTYPES:
        x = np.array([1.0, np.nan, -1.0, np.nan, 0.0], dtype)
        g = np.ones_like(x)
        for out in (
            public(act)(x, **params),
            public(act, "_grad")(x, **params),
            public(act, "_backward")(g, x, **params),
            *public(act, "_fwd_grad")(x, **params),
        ):
            np.testing.assert_array_equal(np.isnan(out), np.isnan(x))
