"""Error-free transformations: recover what one rounding lost, for a few flops.

Used where an activation's result is a quotient whose denominator is a rounded sum
(sigmoid's 1 + e, tanh's 2 + expm1): carrying the rounding errors of the sum and of the
division as a relative correction takes the result from ~2.5 ulps to ~1.
"""

from .._jit import scalar
from .fma import fma


@scalar
def reciprocal_of_sum(a, b, one):
    """(q, c) with 1/(a + b) = q*(1 + c) to second order, for |a| >= |b| or a + b exact
    (``one`` is 1 in the dtype of a and b).

    q = 1/(a+b) rounded. Fast2Sum gives the exact error of s = a + b, and an FMA the
    exact residual 1 - q*s of the division.
    """
    s = a + b
    return reciprocal(s, (a - s) + b, one)


@scalar
def reciprocal(s, s_err, one):
    """(q, c) with 1/(s + s_err) = q*(1 + c) to second order, s_err small next to s."""
    q = one / s
    residual = fma(-q, s, one)
    return q, residual - s_err * q


@scalar
def two_sum(a, b):
    """(s, err) with s = a + b rounded and a + b = s + err exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
