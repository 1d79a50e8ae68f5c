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


ORACLES = {
    "relu": (_relu, _relu_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "softplus": (_softplus, _softplus_grad),
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
    """|actual - truth| in ulps of the truth, as float64.

    Near underflow the ulp is taken at max(|t|, tiny * 2^mantissa_bits), i.e. never below
    the spacing of the smallest normal number, so flushed subnormals are not counted.
    Matching infinities and NaNs score 0; a mismatch scores inf.
    """
    info = np.finfo(dtype)
    floor = mp.mpf(float(info.tiny)) * mp.mpf(2) ** info.nmant
    errs = []
    for a, t in zip(np.asarray(actual, dtype=np.float64), truths, strict=True):
        if mp.isnan(t) or np.isnan(a):
            errs.append(0.0 if (mp.isnan(t) and np.isnan(a)) else np.inf)
            continue
        if mp.isinf(t) or abs(t) > mp.mpf(float(info.max)) * (1 + mp.mpf(2) ** -(info.nmant + 1)):
            errs.append(0.0 if np.isinf(a) and (a > 0) == (t > 0) else np.inf)
            continue
        ulp = max(abs(t), floor) * mp.mpf(2) ** -info.nmant
        errs.append(float(abs(mp.mpf(float(a)) - t) / ulp))
    return np.array(errs)
