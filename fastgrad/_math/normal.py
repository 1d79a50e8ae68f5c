"""The standard normal distribution's tail, and erf/erfc, with full relative accuracy.

Everything is built on the upper tail Q(t) = P(Z > t) = exp(-t^2/2) * G(t), t >= 0:

- exp(-t^2/2) is computed from t^2 = h + l split exactly (an FMA gives l), as
  exp(-h/2) * (1 - l/2). Rounding t^2 instead would cost t^2 * 2^-p relative error,
  hundreds of ulps in the far tail.
- G(t) = T(w)/(t + K) with w = (t - K)/(t + K): one division (its rounding errors
  carried as a correction), one polynomial (``derive_coefficients``), no branch on the half-line.

Phi(x) (``ndtr``) is Q(-x) for x < 0 (the left tail keeps its relative accuracy down to
the subnormals, where 1 + erf(x/sqrt2) would give 0) and 1 - Q(x) for x >= 0.
erfc(u) = 2*Q(sqrt2*u), with sqrt2*u carried as a hi + lo pair so the square is exact
again; erfc(u < 0) = 2 - erfc(-u). erf(u) = u*E(u^2) for |u| <= 0.75 (there 1 - erfc
would cancel), else sign(u)*(1 - erfc(|u|)).

Results below the smallest normal: as for exp (gradual underflow, not flushed).
Special values: Q(inf) = 0, erfc(-inf) = 2, erf(+-inf) = +-1, NaN -> NaN.
Measured error: see ``tests/test_math.py``.
"""

import math

from .._jit import scalar
from .compensated import reciprocal_of_sum
from .fma import fma
from .polynomial import polynomial


def make_normal(fmt, exp, exp_lifted):
    """(exp_half_square, exp_half_square_lifted, tail_parts, upper_tail,
    scaled_upper_tail, ndtr, erfc, erf); ``exp_lifted`` is ``exp.make_exp``'s."""
    F = fmt.float
    zero, half, one, two = F(0), F(0.5), F(1), F(2)
    k = fmt.const("NORMAL_K")
    tail_poly, centre = polynomial(fmt.const("NORMAL_TAIL")), fmt.const("NORMAL_CENTRE")
    t_max = fmt.const("NORMAL_TAIL_MAX")
    sqrt2_hi, sqrt2_lo = fmt.const("SQRT2_HI"), fmt.const("SQRT2_LO")
    erf_small = polynomial(fmt.const("ERF_SMALL"))
    small_poly = polynomial(fmt.const("NORMAL_SMALL"))
    small_max = fmt.const("NORMAL_SMALL_MAX")
    erf_small_max = fmt.const("ERF_SMALL_MAX")

    @scalar
    def square_parts(t, t_lo):
        """(h, l): (t + t_lo)^2 = h + l, h = t*t rounded and l its exact error (+ the t_lo
        term); l = 0 where t*t is inf (inf - inf would be NaN; the result is 0 there)."""
        h = t * t
        lo = fma(t, t, -h) + two * t * t_lo
        return h, (lo if t < t_max else zero)

    @scalar
    def exp_half_square(t, t_lo):
        """exp(-(t + t_lo)^2 / 2) for t >= 0 (t_lo a small correction to t)."""
        h, lo = square_parts(t, t_lo)
        return exp(-half * h) * fma(-half, lo, one)

    @scalar
    def exp_half_square_lifted(t, t_lo):
        """exp_half_square(t, t_lo) * 2^lift_bits, never subnormal (``exp_lifted``): a
        product of it brought down once rounds a subnormal result once."""
        h, lo = square_parts(t, t_lo)
        return exp_lifted(-half * h) * fma(-half, lo, one)

    @scalar
    def tail_parts(t):
        """(T(w), q, c) with G(t) = T(w) * q * (1 + c), for t >= 0 (t beyond the fitted
        range is clamped: there exp(-t^2/2) is 0)."""
        tc = t if t < t_max else t_max
        big, small = (tc, k) if tc > k else (k, tc)
        q, c = reciprocal_of_sum(big, small, one)  # 1/(t + K) = q*(1 + c)
        return tail_poly((tc - k) * q - centre), q, c

    @scalar
    def upper_tail(t, t_lo):
        """Q(t + t_lo) for t >= 0: exp(-h/2) * T * q * (1 + c - l/2), the corrections
        folded into the last product's FMA, so it rounds once."""
        h, lo = square_parts(t, t_lo)
        poly, q, c = tail_parts(t)
        p = exp(-half * h) * poly
        far = fma(p, q, p * q * (c - half * lo))
        near = fma(-t, small_poly(h), half)  # t_lo is 0 wherever this is used
        return near if t <= small_max else far

    @scalar
    def scaled_upper_tail(t, s):
        """s * Q(t) for t >= 0, with s*q split exactly so the product rounds once more
        than Q alone, not twice."""
        h, lo = square_parts(t, zero)
        poly, q, c = tail_parts(t)
        p = exp(-half * h) * poly
        sq = s * q
        sq_err = fma(s, q, -sq)
        far = fma(p, sq, p * (sq * (c - half * lo) + sq_err))
        near = s * fma(-t, small_poly(h), half)
        return near if t <= small_max else far

    @scalar
    def ndtr(x):
        q = upper_tail(abs(x), zero)
        return q if x < zero else one - q

    @scalar
    def erfc_abs(u):
        """erfc(|u|) = 2*Q(sqrt2*|u|), sqrt2*|u| carried as hi + lo."""
        a = abs(u)
        t = a * sqrt2_hi
        return two * upper_tail(t, fma(a, sqrt2_hi, -t) + a * sqrt2_lo)

    @scalar
    def erfc(u):
        c = erfc_abs(u)
        return c if u >= zero else two - c

    @scalar
    def erf(u):
        small = u * erf_small(u * u)
        big = math.copysign(one - erfc_abs(u), u)
        return small if abs(u) <= erf_small_max else big

    return (
        exp_half_square,
        exp_half_square_lifted,
        tail_parts,
        upper_tail,
        scaled_upper_tail,
        ndtr,
        erfc,
        erf,
    )
