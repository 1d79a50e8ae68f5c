"""Every forward and derivative against the mpmath oracle, in ulps, in both tails."""

import mpmath as mp
import numpy as np
import pytest
from accuracy import measure
from conftest import DTYPES, cases
from oracle import ORACLES

# The bound the issue sets for every forward and derivative, float32 and float64. The
# measured maxima (``make accuracy``, full sweep) are in the README; relu is exact.
MAX_ULPS = 4.0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_forward_and_derivative_within_max_ulps(act, params, dtype):
    xs, errors = measure(act, params, dtype, "reduced", peers=False)
    for kind, errs in zip(("forward", "derivative"), errors["fastgrad"], strict=True):
        worst = int(np.argmax(errs))
        assert errs[worst] <= MAX_ULPS, (kind, xs[worst], errs[worst])


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_oracle_derivatives_agree_with_numerical_differentiation(name):
    forward, derivative = ORACLES[name]
    for x in (-7.25, -0.5, 0.3, 2.0, 11.0):
        assert mp.almosteq(derivative(mp.mpf(x)), mp.diff(forward, mp.mpf(x)), 1e-25)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_tails_where_the_textbook_formulas_fail(dtype):
    import fastgrad as fg

    # sigmoid' = y*(1-y) cancels to 0 here; the true value is ~2e-9 / ~1e-87
    x = np.array([20.0, -20.0, 100.0 if dtype == np.float32 else 200.0], dtype)
    assert np.all(fg.sigmoid_grad(x)[:2] > 0)
    assert fg.sigmoid(np.array([-1000.0], dtype))[0] == 0
    assert fg.sigmoid(np.array([1000.0], dtype))[0] == 1
    # log(1+exp(x)) overflows; softplus(1000) is 1000
    assert fg.softplus(np.array([1000.0], dtype))[0] == 1000
    assert fg.softplus(np.array([-1000.0], dtype))[0] == 0
