"""The logistic family: sigmoid, softplus and silu, built on exp and log1p."""

import math

import numpy as np

from .._jit import scalar
from .._math._format import FORMATS
from .._math.compensated import reciprocal_of_sum
from .._math.fma import fma
from .._math.polynomial import polynomial
from .._math.root import near_root
from ._params import real


def sigmoid(F, m):
    """Logistic sigmoid.

    Formula: sigmoid(x) = 1 / (1 + exp(-x)).
    Computed: with e = exp(-|x|) (never overflows), 1/(1+e) for x >= 0 and e/(1+e) for
    x < 0, so both tails keep full relative accuracy: sigmoid(-1000) = 0,
    sigmoid(1000) = 1, sigmoid(-50) = 1.9e-22. The rounding errors of 1 + e and of the
    division are carried as a correction (``fastgrad._math.compensated``).
    Derivative: sigmoid(x)*sigmoid(-x), computed as e/(1+e)^2; unlike y*(1-y) it does not
    cancel to 0 in the tails (sigmoid'(20) = 2.1e-9). sigmoid'(+-inf) = 0.
    """
    zero, one, two = F(0), F(1), F(2)
    exp = m.exp

    @scalar
    def forward(x, a, b):
        e = exp(-abs(x))
        q, c = reciprocal_of_sum(one, e, one)  # 1/(1 + e) = q*(1 + c)
        s = fma(q, c, q)
        return s if x >= zero else e * s

    @scalar
    def derivative(x, a, b):
        e = exp(-abs(x))
        q, c = reciprocal_of_sum(one, e, one)
        d = e * (q * q)
        return fma(d, two * c, d)

    return forward, derivative


def sigmoid_fast(F, m):
    """sigmoid at the fast accuracy level (``fastgrad._accuracy``): within 2^-20 relative.

    Computed: as ``sigmoid`` (e = exp(-|x|), 1/(1 + e) or e/(1 + e)), with plain
    roundings: no correction for the rounding of 1 + e and of the division (about 2
    ulps, where the correction gives 1). Derivative: e/(1 + e)^2, the same way.
    """
    zero, one = F(0), F(1)
    exp = m.exp

    @scalar
    def forward(x, a, b):
        e = exp(-abs(x))
        s = one / (one + e)
        return s if x >= zero else e * s

    @scalar
    def derivative(x, a, b):
        e = exp(-abs(x))
        s = one / (one + e)
        return e * (s * s)

    return forward, derivative


def sigmoid_from_output(F, m):
    """sigmoid's derivative given its output y = sigmoid(x), as PyTorch's
    ``sigmoid_backward(grad, output)`` takes it (autograd saves y, not x).

    Formula: sigmoid'(x) = y*(1 - y).
    Computed: fma(-y, y, y), the exact y - y^2 rounded once; the backward then multiplies
    by grad_out: within 1.5 ulps of grad_out*y*(1 - y) for the y given.
    The trade: y has already lost what x knew. Where y rounds to 1 (x > 17 in float32,
    x > 37 in float64) this gives 0, while ``sigmoid_backward(grad_out, x)`` gives the
    true sigmoid'(x) (2.1e-9 at x = 20); near y = 1 the relative error is that of 1 - y,
    up to eps/(1 - y). NaN gives NaN.
    """

    @scalar
    def derivative(y, a, b):
        return fma(-y, y, y)

    return derivative


def softplus_params(beta=1.0, threshold=None):
    """Validate softplus's parameters; return the kernel slots (beta, threshold)."""
    beta = real("softplus", "beta", beta, allow_inf=False)
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero")
    if threshold is None:
        return beta, math.inf
    return beta, real("softplus", "threshold", threshold)


def softplus(F, m):
    """Softplus, a smooth relu.

    Formula: softplus(x) = log(1 + exp(beta*x)) / beta.
    Computed: with z = beta*x, (x if z > 0 else 0) + log1p(exp(-|z|)) / beta, which never
    overflows and is accurate everywhere (softplus(1000) = 1000, softplus(-1000) = 0).
    The rounding error dz of z = beta*x (exact, by an FMA) is folded into exp(-|z|) to
    first order, since the left tail (~exp(z)) would magnify it |z| times.
    Derivative: sigmoid(beta*x), computed as in ``sigmoid`` (plus the dz correction).
    Parameters: beta (default 1.0, finite and non-zero); threshold (default None). With a
    number, x is returned unchanged (and the derivative is 1) where beta*x > threshold,
    reproducing PyTorch's ``softplus(x, beta, threshold=20)``. fastgrad's default None
    never switches: the stable form needs no switch, and PyTorch's costs float64 about
    1e-10 relative error just above the threshold.
    """
    zero, one = F(0), F(1)
    exp, log1p = m.exp, m.log1p

    @scalar
    def scaled(x, beta):
        """(z, dz): z = beta*x rounded and its exact error (0 where z is inf or NaN)."""
        z = beta * x
        dz = fma(beta, x, -z)
        return z, (dz if abs(dz) < abs(z) else zero)

    @scalar
    def forward(x, beta, threshold):
        z, dz = scaled(x, beta)
        e = exp(-abs(z))
        e = e - e * dz if z > zero else e + e * dz  # exp(-|z + dz|)
        y = (x if z > zero else zero) + log1p(e) / beta
        return x if z > threshold else y

    @scalar
    def derivative(x, beta, threshold):
        z, dz = scaled(x, beta)
        e = exp(-abs(z))
        s = one / (one + e)
        d = s if z >= zero else e * s
        d = d + e * s * s * dz  # sigmoid(z + dz) = sigmoid(z) + sigmoid'(z)*dz
        return one if z > threshold else d

    return forward, derivative


def silu(F, m):
    """Sigmoid linear unit (swish): x * sigmoid(x).

    Formula: silu(x) = x / (1 + exp(-x)).
    Computed: with e = exp(-|x|) and s = 1/(1 + e), x*s for x >= 0 and x*e*s for x < 0
    (never overflows; the left tail keeps its digits: silu(-100) = -3.7e-42, with e
    taken 2^k larger and the product scaled back once, so a subnormal result is
    rounded once).
    Derivative: sigmoid(x) * (1 + x*sigmoid(-x)), with s*(1 + x*e*s) for x >= 0 and
    e*s*(1 + x*s) for x < 0 (1 + x*s in one FMA). The bracket is 0 at x = -1.27846
    (silu's minimum), so for -1.6 <= x <= -0.95 the derivative is computed as
    (x + 1.27846...)*C(x), C a fitted polynomial, with the root in two parts.
    silu(-inf) = -0.0, silu(inf) = inf; silu'(-inf) = 0, silu'(inf) = 1.
    """
    fmt = FORMATS[np.dtype(F)]
    zero, neg_zero, one, inf = F(0), F(-0.0), F(1), F(np.inf)
    exp_lifted, unlift = m.exp_lifted, m.unlift
    replace_near_root = near_root(fmt.const("SILU_ROOT_FORM"))

    @scalar
    def forward(x, a, b):
        # the left tail's e is lifted (exp_lifted) and the product brought down once at
        # the end: x*e*s is subnormal (or barely normal) where e is far below it
        lifted = exp_lifted(-abs(x))
        e = lifted * unlift
        s = one / (one + e)
        y = x * s if x >= zero else ((x * lifted) * s) * unlift
        return neg_zero if x == -inf else y

    @scalar
    def derivative(x, a, b):
        lifted = exp_lifted(-abs(x))
        e = lifted * unlift
        q, c = reciprocal_of_sum(one, e, one)  # sigmoid(|x|) = q*(1 + c)
        # sigmoid(x) * (1 + x*sigmoid(-x)), each sigmoid as q or e*q, times (1 + c); the
        # left tail's e*q lifted, and the result brought down once
        right = fma(x, e * q, one)
        left = fma(x, q, one) + x * q * c
        s, bracket = (q, right) if x >= zero else (lifted * q, left)
        d = fma(s, bracket, s * bracket * c)
        d = d if x >= zero else d * unlift
        d = replace_near_root(x, d)
        d = one if x == inf else d
        return zero if x == -inf else d

    return forward, derivative


def silu_fast(F, m):
    """silu at the fast accuracy level (``fastgrad._accuracy``): within 2^-20 relative.

    Computed: as ``silu`` (the left tail's e lifted, so subnormal results round once),
    with plain roundings in the derivative: sigmoid(|x|) = 1/(1 + e) without the
    correction for the rounding of 1 + e and of the division. Near the derivative's
    root the same (x - x0)*C(x) form, x - x0 exact there (x and x0 within a factor 2).
    """
    fmt = FORMATS[np.dtype(F)]
    zero, one, inf = F(0), F(1), F(np.inf)
    exp_lifted, unlift = m.exp_lifted, m.unlift
    form = fmt.const("SILU_ROOT_FORM")
    root_hi, root_lo = form["root"]
    span_lo, span_hi = form["span"]
    center, root_poly = form["center"], polynomial(form["poly"])
    accurate_forward, _ = silu(F, m)

    @scalar
    def derivative(x, a, b):
        lifted = exp_lifted(-abs(x))
        e = lifted * unlift
        q = one / (one + e)
        right = q * fma(x, e * q, one)
        left = ((lifted * q) * fma(x, q, one)) * unlift
        d = right if x >= zero else left
        near_root = root_poly(x - center) * ((x - root_hi) - root_lo)
        d = near_root if (span_lo <= x and x <= span_hi) else d
        d = one if x == inf else d
        return zero if x == -inf else d

    return accurate_forward, derivative


def log_sigmoid(F, m):
    """Log of the sigmoid (PyTorch's logsigmoid).

    Formula: log_sigmoid(x) = log(1/(1 + exp(-x))) = -softplus(-x).
    Computed: with e = exp(-|x|), min(x, 0) - log1p(e): never overflows, and no
    cancellation (for x < 0 both terms are negative): log_sigmoid(-1000) = -1000,
    log_sigmoid(40) = -4.2e-18.
    Derivative: sigmoid(-x), computed as in ``sigmoid``: e/(1+e) for x >= 0 and 1/(1+e)
    below, the rounding errors of 1 + e and the division carried.
    log_sigmoid(-inf) = -inf, log_sigmoid(inf) = -0.0; derivative 1 and 0 there.
    """
    zero, one = F(0), F(1)
    exp, log1p = m.exp, m.log1p

    @scalar
    def forward(x, a, b):
        softplus_tail = log1p(exp(-abs(x)))
        return x - softplus_tail if x < zero else -softplus_tail

    @scalar
    def derivative(x, a, b):
        e = exp(-abs(x))
        q, c = reciprocal_of_sum(one, e, one)
        s = fma(q, c, q)
        return e * s if x >= zero else s

    return forward, derivative
