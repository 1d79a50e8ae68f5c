"""The tanh family: tanh, tanhshrink and mish, built on fastgrad's vectorised tanh."""

import math

import numpy as np

from .._jit import scalar
from .._math._format import FORMATS
from .._math.compensated import reciprocal_of_sum
from .._math.fma import fma
from .._math.polynomial import polynomial
from .._math.root import near_root


def tanh(F, m):
    """Hyperbolic tangent.

    Formula: tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)).
    Computed: with E = exp(-2|x|), 1 - 2E/(1 + E) for |x| > 0.55 and x + x^3*P(x^2)
    (a fitted polynomial) below, sign copied from x: no cancellation anywhere
    (tanh(1e-30) = 1e-30, tanh(-0.0) = -0.0, tanh(+-inf) = +-1).
    Derivative: 1 - tanh(x)^2, computed as 4E/(1 + E)^2; unlike 1 - y^2 it does not
    cancel to 0 where tanh rounds to 1 (tanh'(20) = 1.7e-17, float32 too).
    """
    tanh_, sech2 = m.tanh, m.sech2

    @scalar
    def forward(x, a, b):
        return tanh_(x)

    @scalar
    def derivative(x, a, b):
        return sech2(x)

    return forward, derivative


def tanh_fast(F, m):
    """tanh at the fast accuracy level (``fastgrad._accuracy``): within 2^-20 relative.

    Computed: as ``tanh`` (1 - 2E/(1 + E) with E = exp(-2|x|) for |x| > 0.55, the
    polynomial below, sign copied from x), with plain roundings: no correction for the
    rounding of 1 + E and of the division. Derivative: 4E/(1 + E)^2, the same way.
    """
    fmt = FORMATS[np.dtype(F)]
    one, two, four = F(1), F(2), F(4)
    small_poly = polynomial(fmt.const("TANH_SMALL"))
    small_max = fmt.const("TANH_SMALL_MAX")
    exp = m.exp

    @scalar
    def forward(x, a, b):
        t = abs(x)
        big = exp(-two * t)
        far = fma(-two * big, one / (one + big), one)
        near = fma(t * (t * t), small_poly(t * t), t)
        return math.copysign(near if t <= small_max else far, x)

    @scalar
    def derivative(x, a, b):
        big = exp(-two * abs(x))
        q = one / (one + big)
        return (four * big) * (q * q)

    return forward, derivative


def tanh_from_output(F, m):
    """tanh's derivative given its output y = tanh(x), as PyTorch's
    ``tanh_backward(grad, output)`` takes it (autograd saves y, not x).

    Formula: tanh'(x) = 1 - y^2.
    Computed: fma(-y, y, 1), the exact 1 - y^2 rounded once (no cancellation for the y
    given); the backward then multiplies by grad_out: within 1.5 ulps of grad_out*(1 - y^2).
    The trade: y has already lost what x knew. Where y rounds to +-1 (|x| > 9 in
    float32, |x| > 19.1 in float64) this gives 0, while ``tanh_backward(grad_out, x)``
    gives the true tanh'(x) (1.7e-17 at x = 20); near |y| = 1 the relative error is
    that of 1 - |y|, up to eps/(1 - |y|). NaN gives NaN.
    """
    one = F(1)

    @scalar
    def derivative(y, a, b):
        return fma(-y, y, one)

    return derivative


def tanhshrink(F, m):
    """x minus its tanh.

    Formula: tanhshrink(x) = x - tanh(x).
    Computed: with a = |x| and the sign of x: for a < 1, a^3*P(a^2), P a fitted polynomial
    of (x - tanh(x))/x^3 (x - tanh(x) itself loses every digit for |x| < 1e-4 and several
    below 1); for a >= 1, (a - 1) + 2E/(1 + E) with E = exp(-2a), a sum of two positive
    terms (a - 1 is exact up to 2).
    Derivative: tanh(x)^2.
    tanhshrink(+-inf) = +-inf; derivative 1 there. tanhshrink(+-0) = +0 (PyTorch's sign).
    """
    fmt = FORMATS[np.dtype(F)]
    zero, one, two = F(0), F(1), F(2)
    small_poly = polynomial(fmt.const("TANHSHRINK_SMALL"))
    exp, tanh_ = m.exp, m.tanh

    @scalar
    def forward(x, a, b):
        t = abs(x)
        big = exp(-two * t)
        q, c = reciprocal_of_sum(one, big, one)  # 1/(1 + E) = q*(1 + c)
        far = fma(two * big, fma(q, c, q), t - one)
        near = t * (t * t) * small_poly(t * t)
        # tanhshrink(+-0) = +0, as PyTorch's x - tanh(x)
        return zero if x == zero else math.copysign(near if t < one else far, x)

    @scalar
    def derivative(x, a, b):
        th = tanh_(x)
        return th * th

    return forward, derivative


def mish(F, m):
    """Mish: x * tanh(softplus(x)).

    Formula: mish(x) = x*tanh(log(1 + exp(x))).
    Computed: with e = exp(-|x|), tanh(softplus(x)) is the rational function
    t = (1 + 2e)/(1 + 2e + 2e^2) for x >= 0 and t = N/(N + 2), N = e*(e + 2), for x < 0
    (no overflow, no log, no cancellation), the rounding of the denominator and of the
    division carried; mish = x*t. mish(-inf) = -0.0, mish(inf) = inf.
    Derivative: t + x*sigmoid(x)*(1 - t^2). For x >= 0 it is summed as written, with
    1 - t = 2e^2/(1 + 2e + 2e^2); for x < 0 it is e*B/(N + 2)^2 with
    B = 4(x + 1) + e*(4x + 6 + e*(4 + e)). B is 0 at x = -1.19243 (the minimum); near it the
    derivative is computed as (x - root)*M(x), M a fitted polynomial, the root in two
    parts. mish'(-inf) = 0, mish'(inf) = 1.
    """
    fmt = FORMATS[np.dtype(F)]
    zero, neg_zero, one, two, four = F(0), F(-0.0), F(1), F(2), F(4)
    quarter, three_halves, inf = F(0.25), F(1.5), F(np.inf)
    exp_lifted, unlift = m.exp_lifted, m.unlift
    replace_near_root = near_root(fmt.const("MISH_ROOT_FORM"))

    @scalar
    def tanh_softplus(x):
        """(t, e, lifted, q, c): t = tanh(softplus(x)), e = exp(-|x|) and ``lifted`` =
        e * 2^lift_bits (``exp_lifted``), 1/denominator = q*(1 + c). For x < 0, where t is
        about e, t is returned lifted too: products of it are brought down once, at the
        end, so subnormal results round once."""
        lifted = exp_lifted(-abs(x))
        e = lifted * unlift
        two_e = two * e
        right = x >= zero
        n = one + two_e
        n_lifted = fma(lifted, e, two * lifted)  # e*(e + 2), lifted
        # denominator n + 2e^2 (x >= 0) or 2 + n (x < 0): larger term first for Fast2Sum
        if right:
            q, c = reciprocal_of_sum(n, two_e * e, one)
        else:
            q, c = reciprocal_of_sum(two, n_lifted * unlift, one)
        t = (n if right else n_lifted) * q
        return fma(t, c, t), e, lifted, q, c

    @scalar
    def forward(x, a, b):
        t, e, lifted, q, c = tanh_softplus(x)
        y = x * t if x >= zero else (x * t) * unlift
        return neg_zero if x == -inf else y

    @scalar
    def derivative(x, a, b):
        t, e, lifted, q, c = tanh_softplus(x)
        # x >= 0: t + x*sigmoid(x)*(1 - t)*(1 + t), all terms positive
        sig = one / (one + e)
        one_minus_t = (two * e * e) * fma(q, c, q)
        right = fma(x * sig, one_minus_t * (one + t), t)
        # x < 0: e*B*q^2, B = 4(x + 1) + e*(4x + 6 + e*(4 + e)): summed from the term
        # that dominates away from the root, as (4e)*(B/4) so that nothing overflows
        inner = fma(e, fma(e, quarter, one), x + three_halves)  # x + 1.5 + e(1 + e/4)
        quarter_bracket = fma(e, inner, x + one)
        eq = (four * lifted) * q
        w = eq * quarter_bracket * q
        left = fma(w, two * c, w) * unlift
        d = right if x >= zero else left
        d = replace_near_root(x, d)
        d = one if x == inf else d
        return zero if x == -inf else d

    return forward, derivative
