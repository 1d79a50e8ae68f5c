"""Every forward and derivative against the mpmath oracle, in ulps, in both tails."""

import mpmath as mp
import numpy as np
import pytest

from fastgrad._table import BY_NAME
from harness.accuracy import measure
from harness.oracle import ORACLES

from .conftest import DTYPES, cases

# Each row's bound (``max_ulps``) for its forward and derivative, float32 and float64, up
# to the oracle's resolution (~1e-5 ulp); the measured maxima (``make accuracy``, full
# sweep) are in the README.
ORACLE_RESOLUTION = 1e-4


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_forward_and_derivative_within_max_ulps(act, params, dtype):
    xs, errors = measure(act, params, dtype, "reduced", peers=False)
    bound = act.max_ulps + ORACLE_RESOLUTION
    for kind, errs in zip(("forward", "derivative"), errors["fastgrad"], strict=True):
        worst = int(np.argmax(errs))
        assert errs[worst] <= bound, (kind, xs[worst], errs[worst])


@pytest.mark.parametrize("act, params", cases())
def test_oracle_derivatives_agree_with_numerical_differentiation(act, params):
    forward, derivative = ORACLES[act.name]
    kinks = act.kinks_at(params)
    for x in (-7.25, -0.55, 0.3, 2.0, 11.0):
        assert all(abs(x - k) > 0.01 for k in kinks)  # mp.diff needs smoothness around x
        exact = derivative(mp.mpf(x), **params)
        numerical = mp.diff(lambda v: forward(v, **params), mp.mpf(x))
        assert mp.almosteq(exact, numerical, 1e-25), (x, exact, numerical)


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


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_hardswish_subnormal_results_are_correctly_rounded(dtype):
    """hardswish(x) = x/2 + x^2/6 below 2*tiny: where x/2 is halfway between two
    subnormals, the x^2/6 term (far below a subnormal) decides the rounding: a random
    sample of such x, both signs, odd and even last bits, against mpmath (in float64 the
    oracle measures these in mpmath: a float64 pair cannot hold such a truth)."""
    import fastgrad as fg
    from harness.oracle import truth, ulp_errors

    info = np.finfo(dtype)
    bits = np.dtype(dtype).itemsize * 8
    uint = np.dtype(f"u{bits // 8}")
    top = np.array(2 * info.tiny, dtype).view(uint)
    rng = np.random.default_rng(5)
    mags = rng.integers(1, int(top), 400, dtype=np.uint64).astype(uint).view(dtype)
    xs = np.concatenate([mags, -mags, [info.smallest_subnormal, -info.smallest_subnormal]])
    xs = xs.astype(dtype)
    errs = ulp_errors(fg.hardswish(xs), truth("hardswish", 0, xs), dtype)
    assert errs.max() <= BY_NAME["hardswish"].max_ulps + ORACLE_RESOLUTION, (
        xs[np.argmax(errs)],
        errs.max(),
    )
