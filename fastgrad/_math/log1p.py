"""log1p(u) = log(1 + u) in plain arithmetic, so that loops calling it vectorise.

Method: m = 1 + u rounded, with its exact rounding error e recovered by Fast2Sum, so
log1p(u) = log(m) + e/m to first order. m = 2^k * f with f in [sqrt(1/2), sqrt(2)) read
from the exponent bits; with f1 = f - 1 (exact), s = f1/(2 + f1) and z = s^2,
log(f) = 2*atanh(s) = f1 - (f1^2/2 - s*(f1^2/2 + z*P(z))), P a Chebyshev fit (degree 2
for float32, 6 for float64; see ``derive_coefficients``), and k*ln2 is added in two parts.

Special values: log1p(-1) = -inf, log1p(u < -1) = NaN, log1p(+inf) = +inf, NaN -> NaN,
log1p(-0.0) = -0.0; subnormal u returns u (exact: log1p(u) = u - u^2/2 rounds to u).
Measured error: see ``tests/test_math.py`` (within 1 ulp in both dtypes).
"""

import numpy as np

from .._jit import scalar
from .polynomial import polynomial


def make_log1p(fmt):
    F, Bits = fmt.float, fmt.int
    one, two, half = F(1), F(2), F(0.5)
    inf, nan = F(np.inf), F(np.nan)
    ln2_hi, ln2_lo = fmt.const("LN2_HI"), fmt.const("LN2_LO")
    p = polynomial(fmt.const("LOG1P_P"))
    mbits, bias = fmt.mantissa_bits, fmt.exponent_bias
    one_bits = int(np.array(1, F).view(Bits))
    # Bits of the largest float below sqrt(1/2): adding (one_bits - sqrt_half_bits) moves
    # [sqrt(1/2), sqrt(2)) onto one binade, so the exponent field gives k directly.
    sqrt_half_bits = int(np.array(np.sqrt(0.5), F).view(Bits))
    mantissa_mask = (1 << mbits) - 1

    @scalar
    def log1p(u):
        m = one + u
        err = ((one - m) + u) if u < one else ((u - m) + one)
        ix = Bits(F(m).view(Bits) + (one_bits - sqrt_half_bits))
        k = (ix >> mbits) - bias
        f = Bits((ix & mantissa_mask) + sqrt_half_bits).view(F)
        f1 = f - one
        hfsq = half * f1 * f1
        s = f1 / (two + f1)
        z = s * s
        r = z * p(z)
        kf = F(k)
        y = kf * ln2_hi - ((hfsq - (s * (hfsq + r) + (kf * ln2_lo + err / m))) - f1)
        y = u if u == 0 else y
        y = inf if u == inf else y
        y = -inf if u == -one else y
        y = nan if u < -one else y
        return u if u != u else y

    return log1p
