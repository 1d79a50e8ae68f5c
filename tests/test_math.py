"""The elementary functions against mpmath, and their constants against their derivation."""

import pathlib

import mpmath as mp
import numba
import numpy as np
import pytest

from fastgrad._math import coefficients, elementary
from fastgrad._math._format import FORMATS
from fastgrad._math.exp import exp_min_arg, lift_bits, make_exp
from harness.oracle import ulp_errors
from tools import derive_coefficients as derive

from .conftest import DTYPES, magnitudes

mp.mp.dps = 40


def _kernel(fn):
    @numba.njit(error_model="numpy")
    def apply(x, out):
        for i in range(x.size):
            out[i] = fn(x[i])

    return apply


def _apply(name, dtype, xs):
    xs = np.asarray(xs, dtype)
    out = np.empty_like(xs)
    _kernel(getattr(elementary(dtype), name))(xs, out)
    return out


def _sweep(dtype, lo, hi, n=1500):
    """Uniform and random points in [lo, hi], and log-spaced magnitudes inside it."""
    mags = magnitudes(dtype, n)
    rng = np.random.default_rng(0)
    xs = np.concatenate([np.linspace(lo, hi, n), rng.uniform(lo, hi, n), mags, -mags])
    xs = xs[(xs >= lo) & (xs <= hi)]
    return xs.astype(dtype)


def _ncdf(x):
    return mp.ncdf(x)


# name: (oracle, domain, max ulps measured by this sweep, rounded up; float32, float64).
# Ulps are the result's own, down to the smallest subnormal's spacing: float64's sech2
# reaches its maximum at a subnormal result (4E/(1 + E)^2 rounds, then E's scaling by 2^k).
FUNCTIONS = {
    "exp": (mp.exp, (-800, 800), (0.9, 0.95)),
    "expm1": (mp.expm1, (-60, 800), (1.3, 1.3)),
    "log1p": (mp.log1p, (-1, 60), (0.8, 0.8)),
    "tanh": (mp.tanh, (-40, 40), (1.0, 1.0)),
    "sech2": (lambda x: mp.sech(x) ** 2, (-400, 400), (2.5, 2.6)),
    "ndtr": (_ncdf, (-40, 10), (3.5, 4.0)),
    "erfc": (mp.erfc, (-10, 30), (3.8, 5.0)),
    "erf": (mp.erf, (-8, 8), (2.3, 1.7)),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_elementary_function_within_its_measured_bound(name, dtype):
    oracle, (lo, hi), bounds = FUNCTIONS[name]
    xs = _sweep(dtype, lo, hi)
    got = _apply(name, dtype, xs)
    truths = [oracle(mp.mpf(float(x))) for x in xs]
    errs = ulp_errors(got, truths, dtype)
    worst = int(np.argmax(errs))
    assert errs[worst] <= bounds[DTYPES.index(dtype)], (xs[worst], errs[worst])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_special_values(dtype):
    nan, inf = np.nan, np.inf
    x = np.array([nan, inf, -inf, 0.0, -0.0, 1e6, -1e6], dtype)
    expected = {
        "exp": [nan, inf, 0, 1, 1, inf, 0],
        "expm1": [nan, inf, -1, 0, -0.0, inf, -1],
        "tanh": [nan, 1, -1, 0, -0.0, 1, -1],
        "sech2": [nan, 0, 0, 1, 1, 0, 0],
        "ndtr": [nan, 1, 0, 0.5, 0.5, 1, 0],
        "erfc": [nan, 0, 2, 1, 1, 0, 2],
        "erf": [nan, 1, -1, 0, -0.0, 1, -1],
    }
    for name, want in expected.items():
        got = _apply(name, dtype, x)
        np.testing.assert_array_equal(got, np.array(want, dtype), err_msg=name)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(np.array(want, dtype)), name)
    x = np.array([nan, inf, -inf, 0.0, -0.0, -1.0, -2.0], dtype)
    got = _apply("log1p", dtype, x)
    np.testing.assert_array_equal(got, np.array([nan, inf, nan, 0, 0, -inf, nan], dtype))
    assert np.signbit(got[4])  # log1p(-0.0) = -0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_results_below_the_smallest_normal_underflow_gradually(dtype):
    """exp is not flushed: results in the subnormal range are within one subnormal
    spacing of the truth, and exp(x) is 0 only below ``exp_min_arg``."""
    info = np.finfo(dtype)
    x = np.linspace(np.log(float(info.smallest_subnormal)) + 0.5, np.log(float(info.tiny)), 50)
    got = _apply("exp", dtype, x.astype(dtype)).astype(np.float64)
    truth = np.array([float(mp.exp(mp.mpf(float(v)))) for v in x.astype(dtype)])
    assert np.all(got > 0)
    assert np.max(np.abs(got - truth)) <= float(info.smallest_subnormal)
    assert _apply("exp", dtype, [exp_min_arg(FORMATS[np.dtype(dtype)])])[0] == 0


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_both_ways_of_scaling_by_two_to_the_k_give_the_same_bits(dtype):
    """ldexp (vscalef, used with AVX-512) and the two-multiplication fallback both round
    once, so exp and expm1 agree bit for bit, subnormal and overflowing results included;
    this checks the fallback that machines without AVX-512 run."""
    fmt = FORMATS[np.dtype(dtype)]
    info = np.finfo(dtype)
    lo, hi = np.log(float(info.smallest_subnormal)) - 2, np.log(float(info.max)) + 2
    xs = np.concatenate([np.linspace(lo, hi, 200001), [np.nan, np.inf, -np.inf, 0.0, -0.0]])
    xs = xs.astype(dtype)
    for name, by_ldexp, by_products in zip(
        ("exp", "expm1", "exp_lifted"),
        make_exp(fmt, use_ldexp=True)[:3],
        make_exp(fmt, use_ldexp=False)[:3],
        strict=True,
    ):
        got, fallback = np.empty_like(xs), np.empty_like(xs)
        _kernel(by_ldexp)(xs, got)
        _kernel(by_products)(xs, fallback)
        np.testing.assert_array_equal(got.view(fmt.int), fallback.view(fmt.int), err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_exp_lifted_is_exp_times_a_power_of_two_and_never_subnormal(dtype):
    """exp_lifted(x) * unlift is exp(x) bit for bit, and exp_lifted stays normal (and
    within 1 ulp of mpmath) down to exp's smallest nonzero argument."""
    fmt = FORMATS[np.dtype(dtype)]
    info = np.finfo(dtype)
    exp, _, exp_lifted, unlift = make_exp(fmt)[:4]
    xs = np.linspace(float(exp_min_arg(fmt)), 0.0, 20001).astype(dtype)
    want, lifted = np.empty_like(xs), np.empty_like(xs)
    _kernel(exp)(xs, want)
    _kernel(exp_lifted)(xs, lifted)
    np.testing.assert_array_equal(lifted * unlift, want)
    assert np.all(lifted >= info.tiny)
    scale = mp.mpf(2) ** lift_bits(fmt)
    sample = xs[::400]
    errs = ulp_errors(lifted[::400], [mp.exp(mp.mpf(float(v))) * scale for v in sample], dtype)
    assert errs.max() <= 1


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_tails_keep_relative_accuracy(dtype):
    """Where the textbook forms return 0: 1 - tanh^2 and 1 - erf."""
    cases = (
        ("sech2", lambda v: mp.sech(v) ** 2, [12.0, 30.0]),  # 1.5e-10, 3.5e-26
        ("erfc", mp.erfc, [5.0, 9.0]),  # 1.5e-12, 4.1e-37
    )
    for name, oracle, points in cases:
        x = np.array(points, dtype)
        got = _apply(name, dtype, x)
        assert np.all(got > 0)
        errs = ulp_errors(got, [oracle(mp.mpf(float(v))) for v in x], dtype)
        assert errs.max() <= 5


def test_normal_tail_range_covers_every_nonzero_result():
    """Beyond NORMAL_TAIL_MAX, |t|*Q(t) is below half the smallest subnormal, so
    clamping the tail polynomial there changes nothing."""
    for dtype, t_max in derive.NORMAL_TAIL_MAX.items():
        smallest = np.finfo(dtype).smallest_subnormal
        q = mp.ncdf(-mp.mpf(t_max))
        assert t_max * q < mp.mpf(float(smallest)) / 2


def test_committed_coefficients_match_their_derivation():
    committed = pathlib.Path(coefficients.__file__).read_text()
    assert committed == derive.render()


# The fit aims at a quarter ulp of P's smallest value on the span: up to 0.7 ulps of the
# derivative (measured; float32 mish' at -1.49).
FORM_ULPS = 1.0


@pytest.mark.parametrize("name, grad, find_root, span, center", derive.NEAR_ROOT_FORMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_near_root_forms_hold_their_root_and_match_the_derivative(
    name, grad, find_root, span, center, dtype
):
    """A ``*_ROOT_FORM`` in the dtype: its span holds its centre and its root, the root's
    two parts sum to the derivative's zero (mpmath's), and (x - root)*poly(x - center),
    evaluated exactly with the generated coefficients, is the derivative across the span
    to within FORM_ULPS: the fit's own error, before the roundings of the kernel's
    evaluation (test_accuracy bounds the whole)."""
    fmt = FORMATS[np.dtype(dtype)]
    form = fmt.const(name)
    lo, hi = form["span"]
    root = mp.mpf(float(form["root"][0])) + mp.mpf(float(form["root"][1]))
    assert lo < form["center"] < hi and lo < root < hi
    assert abs(grad(root)) < mp.mpf(2) ** -(2 * np.finfo(dtype).nmant)
    xs = np.linspace(lo, hi, 101, dtype=dtype)
    generated = getattr(coefficients, f"{name}_{np.dtype(dtype).name.upper()}")
    poly = [mp.mpf(c) for c in generated["poly"]]
    for x in map(mp.mpf, xs.astype(float)):
        truth = grad(x)
        form_value = (x - root) * mp.polyval(poly, x - mp.mpf(float(form["center"])))
        ulp = mp.mpf(float(np.spacing(abs(dtype(float(truth))))))
        assert abs(form_value - truth) < FORM_ULPS * ulp, float(x)
