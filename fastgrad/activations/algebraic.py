"""softsign: a rational sigmoid-shaped activation, no elementary functions."""

import math

import numpy as np

from .._jit import scalar
from .._math.compensated import reciprocal
from .._math.fma import fma


def softsign(F, m):
    """Softsign.

    Formula: softsign(x) = x/(1 + |x|).
    Computed: y = x/s, s = 1 + |x| rounded, then corrected by the division's exact
    residual and the rounding error of s (kept by Fast2Sum), to ~1/2 ulp.
    softsign(+-inf) = +-1.
    Derivative: 1/(1 + |x|)^2, as q^2*(1 + 2c) from the compensated reciprocal
    1/(1 + |x|) = q*(1 + c); 0 at +-inf.
    """
    zero, one, two = F(0), F(1), F(2)
    inf = F(np.inf)

    @scalar
    def denominator(x):
        """(s, s_err): 1 + |x| = s + s_err, the larger term first (Fast2Sum)."""
        t = abs(x)
        big, small = (t, one) if t > one else (one, t)
        s = big + small
        return s, (big - s) + small

    @scalar
    def forward(x, a, b):
        s, s_err = denominator(x)
        y = x / s
        residual = fma(-y, s, x)  # x - y*s, exact
        y = y + (residual - y * s_err) / s
        y = x if x == zero else y  # softsign(-0) = -0
        return math.copysign(one, x) if abs(x) == inf else y

    @scalar
    def derivative(x, a, b):
        s, s_err = denominator(x)
        q, c = reciprocal(s, s_err, one)
        qq = q * q
        d = fma(qq, two * c, qq)
        return zero if abs(x) == inf else d

    return forward, derivative
