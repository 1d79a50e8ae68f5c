"""gelu, built on the standard normal tail Q(t) = P(Z > t) of ``fastgrad._math.normal``."""

import numpy as np

from .._jit import scalar
from .._math._format import FORMATS
from .._math.compensated import two_sum
from .._math.fma import fma
from .._math.polynomial import polynomial


def gelu(F, m):
    """Gaussian error linear unit (exact form, PyTorch's approximate='none').

    Formula: gelu(x) = x * Phi(x), Phi the standard normal cdf (= 0.5*x*(1 + erf(x/sqrt2))).
    Computed: with t = |x| and Q(t) = 1 - Phi(t) evaluated with full relative accuracy
    (``fastgrad._math.normal``), x*Q(t) for x < 0 and x - x*Q(t) for x >= 0. The left
    tail keeps its digits: gelu(-10) = -7.6e-23, where 0.5*x*(1 + erf(x/sqrt2)) gives 0.
    Derivative: Phi(x) + x*phi(x). For x >= 0, 1 - Q(t) + x*phi(x). For x < 0 it is
    exp(-t^2/2) * (G(t) - t/sqrt(2*pi)) with G(t) = Q(t)*exp(t^2/2); the bracket is 0 at
    x = -0.75179 (gelu's minimum), so for -2 <= x < 0 the derivative is computed as
    (0.75179... - t) * B(t), B a fitted polynomial, with the root in two parts.
    gelu(-inf) = -0.0, gelu(inf) = inf; gelu'(-inf) = 0, gelu'(inf) = 1.
    """
    fmt = FORMATS[np.dtype(F)]
    zero, neg_zero, one = F(0), F(-0.0), F(1)
    inv_sqrt_2pi = F(1 / np.sqrt(2 * np.pi))
    t_max = fmt.const("NORMAL_TAIL_MAX")
    root_hi, root_lo = fmt.const("GELU_ROOT_HI"), fmt.const("GELU_ROOT_LO")
    root_span, root_poly = fmt.const("GELU_ROOT_SPAN"), polynomial(fmt.const("GELU_ROOT_B"))
    root_center = fmt.const("GELU_ROOT_CENTER")
    scaled_upper_tail, upper_tail = m.scaled_upper_tail, m.upper_tail
    exp_half_square, tail_parts = m.exp_half_square, m.tail_parts

    @scalar
    def forward(x, a, b):
        t = abs(x)
        xq = scaled_upper_tail(t, x)
        y = xq if x < zero else x - xq
        y = neg_zero if x < -t_max else y
        return x if x > t_max else y

    @scalar
    def derivative(x, a, b):
        t = abs(x)
        gauss = exp_half_square(t, zero)
        right = (one - upper_tail(t, zero)) + x * (inv_sqrt_2pi * gauss)
        p = root_poly(t - root_center)
        dt, dt_err = two_sum(root_hi, -t)
        near_root = fma(p, dt, p * (dt_err + root_lo))
        poly, q, c = tail_parts(t)
        left = gauss * (fma(poly, q, poly * q * c) - t * inv_sqrt_2pi)
        d = right if x >= zero else (near_root if t <= root_span else left)
        d = zero if x < -t_max else d
        return one if x > t_max else d

    return forward, derivative
