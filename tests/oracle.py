"""The independent oracle: each activation and derivative in mpmath at 40 digits.

Written from the mathematical definitions (not from fastgrad's stable forms), with the
derivatives in closed forms checked against ``mpmath.diff`` in ``test_accuracy.py``.
Every activation in ``fastgrad.TABLE`` must have an entry (``test_table.py``).
"""

import mpmath as mp
import numpy as np

mp.mp.dps = 40


def _relu(x):
    return max(x, mp.mpf(0))


def _relu_grad(x):
    return mp.mpf(1) if x > 0 else mp.mpf(0)  # the kink convention: relu'(0) = 0


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _sigmoid_grad(x):
    return 1 / (4 * mp.cosh(x / 2) ** 2)


def _softplus(x, beta=1.0, threshold=None):
    if threshold is not None and beta * x > threshold:
        return x
    return mp.log1p(mp.exp(beta * x)) / beta


def _softplus_grad(x, beta=1.0, threshold=None):
    if threshold is not None and beta * x > threshold:
        return mp.mpf(1)
    return 1 / (1 + mp.exp(-beta * x))


def _tanh_grad(x):
    return mp.sech(x) ** 2


def _with_limits(at_minus_inf, at_plus_inf):
    """fn extended to +-inf by its limits (where mpmath would give inf*0 = NaN)."""

    def extend(fn):
        def extended(x):
            if mp.isinf(x):
                return mp.mpf(at_plus_inf if x > 0 else at_minus_inf)
            return fn(x)

        return extended

    return extend


@_with_limits(0, mp.inf)
def _silu(x):
    return x * _sigmoid(x)


@_with_limits(0, 1)
def _silu_grad(x):
    return _sigmoid(x) * (1 + x * _sigmoid(-x))


def _ncdf(x):
    """Phi(x); mpmath's ncdf overflows an internal float for x below about -1e150, where
    the asymptotic series phi(x)/|x| * (1 - 1/x^2 + 3/x^4) is exact to 40 digits."""
    if x < -1e6:
        return mp.npdf(x) / -x * (1 - 1 / x**2 + 3 / x**4)
    return mp.ncdf(x)


@_with_limits(0, mp.inf)
def _gelu(x):
    return x * _ncdf(x)


@_with_limits(0, 1)
def _gelu_grad(x):
    return _ncdf(x) + x * mp.npdf(x)


ORACLES = {
    "relu": (_relu, _relu_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "softplus": (_softplus, _softplus_grad),
    "tanh": (mp.tanh, _tanh_grad),
    "silu": (_silu, _silu_grad),
    "gelu": (_gelu, _gelu_grad),
}


def _limit(fn, x, params):
    """fn at x, with +-inf handled as the limit (mpmath evaluates most of them directly)."""
    return fn(mp.mpf(x), **params)


def truth(name, which, xs, params=None):
    """The oracle's values at the float inputs ``xs`` as a list of mpf (NaN for NaN)."""
    fn = ORACLES[name][which]
    params = params or {}
    out = []
    for x in np.asarray(xs, dtype=np.float64):
        if np.isnan(x):
            out.append(mp.nan)
        else:
            out.append(_limit(fn, float(x), params))
    return out


def ulp_errors(actual, truths, dtype):
    """|actual - truth| in ulps of the truth, as float64 (vectorised).

    The ulp is the dtype's true spacing at the truth, and never below the spacing at
    tiny * 2^mantissa_bits, i.e. that of the smallest normal numbers, so flushed or
    rounded subnormals are not counted. Matching infinities and NaNs score 0; a mismatch
    scores inf. Each truth is carried as a float64 pair hi + lo, which measures errors
    to ~1e-5 ulp.
    """
    info = np.finfo(dtype)
    n = len(truths)
    hi, lo = np.zeros(n), np.zeros(n)
    nan, inf = np.zeros(n, bool), np.zeros(n, np.int8)
    overflow = mp.mpf(float(info.max)) * (1 + mp.mpf(2) ** -(info.nmant + 1))
    for i, t in enumerate(truths):
        if mp.isnan(t):
            nan[i] = True
        elif mp.isinf(t) or abs(t) >= overflow:
            inf[i] = 1 if t > 0 else -1
        else:
            hi[i] = float(t)
            lo[i] = float(t - mp.mpf(hi[i]))
    a = np.asarray(actual, dtype=np.float64)
    floor = float(info.tiny) * 2.0**info.nmant
    _, exponent = np.frexp(np.maximum(np.abs(hi), floor))  # |t| = m * 2^exponent
    spacing = np.ldexp(1.0, exponent - 1 - info.nmant)
    with np.errstate(invalid="ignore", over="ignore"):
        errs = np.abs((a - hi) - lo) / spacing
    errs[np.isnan(a) != nan] = np.inf
    errs[nan & np.isnan(a)] = 0.0
    finite_a = np.isfinite(a)
    errs[(inf != 0) & (finite_a | (np.sign(a) != inf))] = np.inf
    errs[(inf != 0) & ~finite_a & (np.sign(a) == inf)] = 0.0
    errs[(inf == 0) & ~nan & np.isinf(a)] = np.inf
    return errs
