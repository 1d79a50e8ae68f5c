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
        def extended(x, **params):
            if mp.isinf(x):
                return mp.mpf(at_plus_inf if x > 0 else at_minus_inf)
            return fn(x, **params)

        extended.__wrapped__ = fn  # its parameters, for inspect.signature
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


_GELU_C = mp.sqrt(2 / mp.pi)
_GELU_K = mp.mpf("0.044715")


@_with_limits(0, mp.inf)
def _gelu(x, approximate="none"):
    if approximate == "tanh":
        # 0.5*x*(1 + tanh(u)) = x/(1 + exp(-2u)): the same function, without the
        # cancellation 1 + tanh(u) would suffer at 40 digits for u << 0
        return x / (1 + mp.exp(-2 * _GELU_C * (x + _GELU_K * x**3)))
    return x * _ncdf(x)


@_with_limits(0, 1)
def _gelu_grad(x, approximate="none"):
    if approximate == "tanh":
        u = _GELU_C * (x + _GELU_K * x**3)
        du = _GELU_C * (1 + 3 * _GELU_K * x**2)
        # d/dx of x/(1 + exp(-2u))
        s = 1 / (1 + mp.exp(-2 * u))
        return s + x * 2 * du * s / (1 + mp.exp(2 * u))
    return _ncdf(x) + x * mp.npdf(x)


def _step(condition):
    return mp.mpf(1) if condition else mp.mpf(0)


def _relu6(x):
    return min(max(x, mp.mpf(0)), mp.mpf(6))


def _leaky_relu(x, negative_slope=0.01):
    return x if x > 0 else negative_slope * x


def _leaky_relu_grad(x, negative_slope=0.01):
    return mp.mpf(1) if x > 0 else mp.mpf(negative_slope)


def _hardtanh(x, min_val=-1.0, max_val=1.0):
    return min(max(x, mp.mpf(min_val)), mp.mpf(max_val))


def _threshold(x, threshold, value):
    return x if x > threshold else mp.mpf(value)


def _elu(x, alpha=1.0):
    if x == -mp.inf:
        return -mp.mpf(alpha)
    return x if x > 0 else alpha * mp.expm1(x)


def _elu_grad(x, alpha=1.0):
    return mp.mpf(1) if x > 0 else alpha * mp.exp(x)


# SELU's constants as PyTorch defines them (Klambauer et al. 2017)
_SELU_ALPHA = mp.mpf("1.6732632423543772848170429916717")
_SELU_SCALE = mp.mpf("1.0507009873554804934193349852946")


def _selu(x):
    if mp.isinf(x):
        return x if x > 0 else -_SELU_SCALE * _SELU_ALPHA
    return _SELU_SCALE * (x if x > 0 else _SELU_ALPHA * mp.expm1(x))


def _selu_grad(x):
    return _SELU_SCALE * (1 if x > 0 else _SELU_ALPHA * mp.exp(x))


def _celu(x, alpha=1.0):
    if x == -mp.inf:
        return -mp.mpf(alpha) if alpha > 0 else -mp.inf
    return max(mp.mpf(0), x) + min(mp.mpf(0), alpha * mp.expm1(x / alpha))


def _celu_grad(x, alpha=1.0):
    return mp.mpf(1) if x > 0 else mp.exp(x / alpha)


@_with_limits(0, mp.inf)
def _mish(x):
    return x * mp.tanh(mp.log1p(mp.exp(x)))


@_with_limits(0, 1)
def _mish_grad(x):
    t = mp.tanh(mp.log1p(mp.exp(x)))
    return t + x * _sigmoid(x) * (1 - t * t)


def _log_sigmoid(x):
    return -mp.log1p(mp.exp(-x))


def _log_sigmoid_grad(x):
    return 1 / (1 + mp.exp(x))


def _hardsigmoid(x):
    return min(max(x + 3, mp.mpf(0)), mp.mpf(6)) / 6


def _hardswish(x):
    if mp.isinf(x):
        return x if x > 0 else mp.mpf(0)
    return x * _hardsigmoid(x)


def _hardswish_grad(x):
    # the kinks take PyTorch's values: 0 at -3, 1 at 3
    if x <= -3:
        return mp.mpf(0)
    return x / 3 + mp.mpf(1) / 2 if x < 3 else mp.mpf(1)


def _softsign(x):
    return mp.sign(x) if mp.isinf(x) else x / (1 + abs(x))


def _softsign_grad(x):
    return 1 / (1 + abs(x)) ** 2


def _tanhshrink(x):
    if mp.isinf(x) or x == 0:
        return x
    # x - tanh(x) ~ x^3/3 loses 2*log10(1/|x|) digits to cancellation: work with more
    extra = max(0, int(-2 * mp.log10(abs(x)))) + 10
    with mp.workdps(mp.mp.dps + extra):
        return +(x - mp.tanh(x))


def _tanhshrink_grad(x):
    return mp.tanh(x) ** 2


def _softshrink(x, lambd=0.5):
    if x > lambd:
        return x - lambd
    return x + lambd if x < -lambd else mp.mpf(0)


def _hardshrink(x, lambd=0.5):
    return mp.mpf(0) if -lambd <= x <= lambd else x


def _shrink_grad(x, lambd=0.5):
    return _step(abs(x) > lambd)


ORACLES = {
    "relu": (_relu, _relu_grad),
    "relu6": (_relu6, lambda x: _step(0 < x < 6)),
    "leaky_relu": (_leaky_relu, _leaky_relu_grad),
    "hardtanh": (_hardtanh, lambda x, min_val=-1.0, max_val=1.0: _step(min_val < x < max_val)),
    "threshold": (_threshold, lambda x, threshold, value: _step(x > threshold)),
    "elu": (_elu, _elu_grad),
    "selu": (_selu, _selu_grad),
    "celu": (_celu, _celu_grad),
    "gelu": (_gelu, _gelu_grad),
    "silu": (_silu, _silu_grad),
    "mish": (_mish, _mish_grad),
    "softplus": (_softplus, _softplus_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "log_sigmoid": (_log_sigmoid, _log_sigmoid_grad),
    "tanh": (lambda x: mp.tanh(x), _tanh_grad),
    "hardsigmoid": (_hardsigmoid, lambda x: mp.mpf(1) / 6 if -3 < x < 3 else mp.mpf(0)),
    "hardswish": (_hardswish, _hardswish_grad),
    "softsign": (_softsign, _softsign_grad),
    "tanhshrink": (_tanhshrink, _tanhshrink_grad),
    "softshrink": (_softshrink, _shrink_grad),
    "hardshrink": (_hardshrink, _shrink_grad),
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

    The ulp is the dtype's true spacing at the truth: below the smallest normal number,
    the smallest subnormal (2^-149 for float32, 2^-1074 for float64), so a flushed or
    twice-rounded subnormal result counts. Matching infinities and NaNs score 0; a mismatch
    scores inf. Each truth is carried as a float64 pair hi + lo, which measures errors
    to ~1e-5 ulp; float64 truths too small for the pair are measured in mpmath.
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
    floor = float(info.tiny)  # below it the spacing is the smallest subnormal's
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
    # Below float64's smallest normal number times 2^53, a float64 pair hi + lo cannot
    # hold the truth (lo underflows: a tie between two subnormals read as exact): for
    # float64 results there, the error is computed in mpmath.
    if np.dtype(dtype) == np.float64:
        near = np.flatnonzero((np.abs(hi) < 2.0**-969) & (inf == 0) & ~nan & np.isfinite(a))
        for i in near:
            errs[i] = float(abs(mp.mpf(float(a[i])) - truths[i]) / mp.mpf(float(spacing[i])))
    return errs


def relative_bound_ulps(truths, dtype, relative, at_least):
    """Per truth, the ulps (as ``ulp_errors`` counts them) that an error of ``relative``
    times |truth| makes, and never fewer than ``at_least`` (what a bound stated as a
    relative error allows below the smallest normal number, where the ulp is the smallest
    subnormal). inf where the truth is infinite or NaN (``ulp_errors`` scores those 0 or
    inf itself)."""
    info = np.finfo(dtype)
    hi = np.array([float(t) if mp.isfinite(t) else np.inf for t in truths])
    finite = np.isfinite(hi)
    _, exponent = np.frexp(np.maximum(np.abs(np.where(finite, hi, 1.0)), float(info.tiny)))
    spacing = np.ldexp(1.0, exponent - 1 - info.nmant)
    allowed = np.maximum(relative * np.abs(np.where(finite, hi, 0.0)) / spacing, at_least)
    return np.where(finite, allowed, np.inf)
