"""exp(x) in plain arithmetic, so that loops calling it vectorise (no libm call).

Method: x = k*ln2 + r with k = round(x/ln2) and |r| <= ln2/2 (Cody-Waite: ln2 split in a
short LN2_HI, for which k*LN2_HI is exact, and a correction LN2_LO); then
exp(r) = 1 + r + r^2*Q(r) with Q a Chebyshev fit (degree 4 for float32, 9 for float64,
see ``derive.py``), and 2^k is built from exponent bits in two halves, so every k from the
smallest normal result up to overflow is representable without a branch.

Special values: exp(NaN) = NaN, exp(+inf) = +inf, exp(-inf) = 0, results above the largest
finite value are +inf.
Subnormal policy: results below the smallest normal number (x < ln(tiny), about -87.3 in
float32 and -708.4 in float64) are flushed to +0. Computing them costs 10-100x per element
in subnormal arithmetic; every caller in fastgrad uses exp(-|x|)-style terms whose
contribution there is below the rounding of the result they are added to, or returns a
result that is itself below the smallest normal.
Measured error: see ``tests/test_math.py`` (within 1 ulp in both dtypes).
"""

import numpy as np

from .._jit import scalar
from ._format import FLOAT32, FLOAT64
from .polynomial import horner


def largest_finite_exp_arg(fmt):
    """The largest x in the dtype with exp(x) finite (ln of the largest finite value)."""
    bound = fmt.float(np.log(np.float64(fmt.finfo.max)))
    if np.float64(bound) > np.log(np.float64(fmt.finfo.max)):
        bound = np.nextafter(bound, fmt.float(-np.inf))
    return bound


def make_exp(fmt):
    F, Bits = fmt.float, fmt.int
    one, zero, inf = F(1), F(0), F(np.inf)
    log2e = F(1 / np.log(2))
    ln2_hi, ln2_lo = fmt.const("LN2_HI"), fmt.const("LN2_LO")
    q = fmt.const("EXP_Q")
    # Adding and subtracting 1.5*2^mantissa_bits rounds to the nearest integer (ties to
    # even) in the default rounding mode; it needs no 'reassoc' fast-math, which we avoid.
    round_shift = F(1.5 * 2.0**fmt.mantissa_bits)
    x_max = largest_finite_exp_arg(fmt)
    x_min_normal = F(np.log(np.float64(fmt.finfo.tiny)))
    bias, mbits = fmt.exponent_bias, fmt.mantissa_bits

    @scalar
    def two_pow(k):
        return Bits((k + bias) << mbits).view(F)

    @scalar
    def exp(x):
        xc = x if x > x_min_normal else x_min_normal  # NaN -> x_min_normal, fixed below
        xc = xc if xc < x_max else x_max
        kf = (xc * log2e + round_shift) - round_shift
        r = (xc - kf * ln2_hi) - kf * ln2_lo
        p = one + (r + r * r * horner(r, q))
        k = Bits(kf)
        half = k >> 1
        y = p * two_pow(k - half) * two_pow(half)
        y = y if x >= x_min_normal else zero
        y = inf if x > x_max else y
        return x if x != x else y

    return exp


exp32 = make_exp(FLOAT32)
exp64 = make_exp(FLOAT64)
