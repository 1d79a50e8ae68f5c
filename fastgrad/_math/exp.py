"""exp and expm1 in plain arithmetic, so that loops calling them vectorise (no libm call).

Method: x = k*ln2 + r with k = round(x/ln2) and |r| <= ln2/2 (Cody-Waite: ln2 split in a
short LN2_HI, for which k*LN2_HI is exact, and a correction LN2_LO, applied by one FMA);
then exp(r) = 1 + r + r^2*Q(r), Q a Chebyshev fit (degree 4 for float32, 9 for float64,
see ``derive_coefficients``). (Carrying r's rounding error as well took float64's exp from 0.92 to
0.90 ulps for three more operations per element; not worth it.)
exp(x) = (1 + p)*2^k, 2^k applied with one rounding: by ``ldexp`` (one vscalef
instruction) with AVX-512, else by two multiplications by 2^(k - k//2) and 2^(k//2),
each a normal number, so every k from the subnormal range up to overflow works without
a branch. expm1(x) = (2^k*r + (2^k - 1)) + 2^k*r^2*Q(r) (the first part in one
FMA; for k = 0, where expm1 is small, r = x exactly), and exp(x) - 1 once 2^k dwarfs
the 1. k is read from the low bits of the rounding sum, not converted from a float.
No argument clamping: outside [exp_min_arg, largest_finite_exp_arg] the reduction's
value is discarded by the final selects (``with_limits``), which cost less than clamps.

Special values: NaN -> NaN, exp(+inf) = +inf, exp(-inf) = 0, expm1(-inf) = -1; results
above the largest finite value are +inf.
Results below the smallest normal number: computed, not flushed. The scaling by 2^k
rounds them to the nearest subnormal (gradual underflow), so the absolute error stays
below the smallest subnormal; arguments below ``exp_min_arg`` return +0. (Producing a
subnormal costs the CPU a microcode assist, only on the elements that produce one.)
Measured error: see ``tests/test_math.py``.
"""

import numpy as np

from .._jit import NATIVE_LDEXP, scalar
from .fma import fma
from .ldexp import ldexp
from .polynomial import polynomial


def largest_finite_exp_arg(fmt):
    """The largest x in the dtype with exp(x) finite (ln of the largest finite value)."""
    bound = fmt.float(np.log(np.float64(fmt.finfo.max)))
    if np.float64(bound) > np.log(np.float64(fmt.finfo.max)):
        bound = np.nextafter(bound, fmt.float(-np.inf))
    return bound


def exp_min_arg(fmt):
    """Below this, exp(x) is 0: exp(x) * 2^(mantissa_bits) is below the smallest
    subnormal's half, so even callers that multiply it by a few hundred get 0."""
    smallest_log2 = -(fmt.exponent_bias - 1 + fmt.mantissa_bits)
    return fmt.float((smallest_log2 - fmt.mantissa_bits - 2) * np.log(2.0))


def lift_bits(fmt):
    """How many binades ``exp_lifted`` lifts exp by: enough that exp(x) * 2^lift_bits is a
    normal number for every x down to ``exp_min_arg`` (whose exp is 2^-(bias + 2p + 1)
    with p mantissa bits), with two binades to spare."""
    return 2 * fmt.mantissa_bits + 4


def make_exp(fmt, use_ldexp=NATIVE_LDEXP):
    """(exp, expm1, exp_lifted, unlift, exp_lifted_in_range) for the dtype ``fmt``;
    ``use_ldexp`` picks how 2^k is applied (the two ways give the same bits: both round
    once).

    ``exp_lifted(x)`` is exp(x) * 2^lift_bits computed with the same single rounding at
    a higher exponent, so it never underflows for x <= 0: a product such as x * exp(x),
    whose true value is subnormal or barely normal, keeps all its digits until one
    final multiplication by ``unlift`` = 2^-lift_bits rounds it once (where exp(x) is
    already subnormal, x * exp(x) rounded twice: up to hundreds of subnormal ulps off).
    ``exp_lifted(x) * unlift`` is exp(x), bit for bit.

    ``exp_lifted_in_range(x, x_lo)`` is ``exp_lifted(x + x_lo)`` (x_lo a small
    correction, folded into the reduced argument) for x in [exp_min_arg, 0], with fewer
    operations, for callers that select their own results outside it: no limits are
    checked, and since 2^(k + lift_bits) is a normal number for every such x, one
    multiplication applies it (exact), its bits made from the rounding sum's by one
    integer subtraction and a shift. Elsewhere its value is meaningless (NaN stays NaN)."""
    F, Bits = fmt.float, fmt.int
    one, zero, inf = F(1), F(0), F(np.inf)
    log2e = F(1 / np.log(2))
    ln2_hi, ln2_lo = fmt.const("LN2_HI"), fmt.const("LN2_LO")
    q = polynomial(fmt.const("EXP_Q"))
    # Adding and subtracting 1.5*2^mantissa_bits rounds to the nearest integer (ties to
    # even) in the default rounding mode; it needs no 'reassoc' fast-math, which we avoid.
    round_shift = F(1.5 * 2.0**fmt.mantissa_bits)
    x_max = largest_finite_exp_arg(fmt)
    x_min = exp_min_arg(fmt)
    # Below this expm1(x) rounds to -1: exp(x) is under half an ulp of 1.
    expm1_min = F(-(fmt.mantissa_bits + 3) * np.log(2.0))
    # Above this many binades 2^k - 1 rounds to 2^k, so expm1 = exp - 1 loses nothing.
    expm1_big_k = fmt.mantissa_bits + 2
    bias, mbits = fmt.exponent_bias, fmt.mantissa_bits
    # The rounding sum's low mantissa bits hold k (two's complement, |k| < 2^(mbits-2)):
    # shifting them to the top and back sign-extends them.
    k_shift = 8 * np.dtype(F).itemsize - mbits + 1

    @scalar
    def two_pow(k):
        return Bits((k + bias) << mbits).view(F)

    @scalar
    def reduce(x):
        """(k, r) with exp(x) = 2^k * exp(r). Meaningful for x in [exp_min_arg, x_max];
        callers discard the rest."""
        shifted = fma(x, log2e, round_shift)
        kf = shifted - round_shift
        k = Bits(Bits(F(shifted).view(Bits) << k_shift) >> k_shift)
        # kf*ln2_hi is exact (LN2_HI's low bits are zero), so one FMA rounds x - kf*ln2_hi
        # as the subtraction would, one instruction fewer
        return k, fma(-kf, ln2_lo, fma(-kf, ln2_hi, x))

    if use_ldexp:

        @scalar
        def scale(v, k):
            return ldexp(v, k)

    else:

        @scalar
        def scale(v, k):
            """v * 2^k in two halves: each half is a normal number for every k in range."""
            half = k >> 1
            return v * two_pow(k - half) * two_pow(half)

    @scalar
    def exp_of_reduced_minus_one(r):
        """exp(r) - 1 = r + r^2*Q(r), in one FMA."""
        return fma(r * r, q(r), r)

    @scalar
    def with_limits(x, y, lo, below):
        """y, except ``below`` under ``lo`` and +inf past overflow. A NaN x fails both
        comparisons and keeps y, which the arithmetic has made NaN."""
        y = below if x < lo else y
        return inf if x > x_max else y

    @scalar
    def exp(x):
        k, r = reduce(x)
        y = scale(one + exp_of_reduced_minus_one(r), k)
        return with_limits(x, y, x_min, zero)

    lift = lift_bits(fmt)
    unlift = F(2.0**-lift)

    @scalar
    def exp_lifted(x):
        k, r = reduce(x)
        y = scale(one + exp_of_reduced_minus_one(r), k + lift)
        return with_limits(x, y, x_min, zero)

    @scalar
    def expm1(x):
        k, r = reduce(x)
        if k > expm1_big_k:
            y = scale(one + exp_of_reduced_minus_one(r), k) - one
        else:
            s = two_pow(k)
            # s*r + (s - 1) in one rounding, then + s*r^2*Q(r)
            y = fma(s, (r * r) * q(r), fma(s, r, s - one))
        y = x if x == zero else y  # expm1(-0.0) = -0.0
        return with_limits(x, y, expm1_min, -one)

    # the bits of 2^(k + lift) are ((shifted's bits) - in_range_offset) << mbits, where
    # shifted's bits are round_shift's plus k (``reduce``)
    in_range_offset = Bits(np.array(round_shift, F).view(Bits) - (lift + bias))

    @scalar
    def exp_lifted_in_range(x, x_lo):
        shifted = fma(x, log2e, round_shift)
        kf = shifted - round_shift
        r = fma(-kf, ln2_lo, fma(-kf, ln2_hi, x)) + x_lo
        power = Bits((F(shifted).view(Bits) - in_range_offset) << mbits).view(F)
        return (one + exp_of_reduced_minus_one(r)) * power

    return exp, expm1, exp_lifted, unlift, exp_lifted_in_range
