"""tanh and its derivative sech^2 = 1 - tanh^2, built on expm1 (no cancellation anywhere).

Method: with E = exp(-2|x|) and e = expm1(-2|x|) = E - 1 from one range reduction,
tanh(|x|) = -e/(2 + e) for |x| < ln2/2 (e ~ -2|x| keeps full relative accuracy:
tanh(1e-30) = 1e-30) and 1 - 2E/(1 + E) beyond; nothing cancels in either. The rounding
errors of the denominator and of the division are carried as a correction
(``compensated.py``). The sign is copied from x, so tanh(-0.0) = -0.0.
sech^2(x) = 1 - tanh(x)^2 = 4E/(1 + E)^2: never 1 - y^2, which returns 0 once tanh rounds
to 1 (|x| > 9 in float32) although the truth is ~4*exp(-2|x|).

Special values: tanh(+-inf) = +-1, sech2(+-inf) = 0, NaN -> NaN.
Measured error: see ``tests/test_math.py``.
"""

import math

from .._jit import scalar
from .compensated import reciprocal_of_sum


def make_tanh(fmt, exp):
    F = fmt.float
    half, one, two, four = F(0.5), F(1), F(2), F(4)
    exp_and_expm1 = exp.exp_and_expm1  # bound here: Numba inlines what it sees directly

    @scalar
    def parts(x):
        """(E, e, q, c) for |x|: E = exp(-2|x|), e = expm1(-2|x|), and
        1/(1 + E) = q*(1 + c), the sum taken as 1 + E or 2 + e, whichever is exact-er."""
        big, e = exp_and_expm1(-two * abs(x))
        far = big < half
        q, c = reciprocal_of_sum(one if far else two, big if far else e, one)
        return big, e, q, c, far

    @scalar
    def tanh(x):
        big, e, q, c, far = parts(x)
        t = (one - two * big * (q + q * c)) if far else -e * (q + q * c)
        return math.copysign(t, x)

    @scalar
    def sech2(x):
        big, e, q, c, far = parts(x)
        return four * big * (q * q) * (one + two * c)

    return tanh, sech2
