"""tanh and its derivative sech^2 = 1 - tanh^2, with one exp and no cancellation.

Method: with E = exp(-2|x|) in (0, 1], tanh(|x|) = (1 - E)/(1 + E) = 1 - 2E/(1 + E) for
|x| > 0.55 (the subtraction loses nothing: 2E/(1 + E) < 1/2 there), and
x + x^3*P(x^2) below, P a Chebyshev fit (``derive_coefficients``), which keeps full relative
accuracy for small |x| (tanh(1e-30) = 1e-30). The rounding errors of 1 + E and of the
division are carried as a correction (``compensated.py``). The sign is copied from x,
so tanh(-0.0) = -0.0.
sech^2(x) = 1 - tanh(x)^2 = 4E/(1 + E)^2: never 1 - y^2, which returns 0 once tanh rounds
to 1 (|x| > 9 in float32) although the truth is ~4*exp(-2|x|).

Special values: tanh(+-inf) = +-1, sech2(+-inf) = 0, NaN -> NaN.
Measured error: see ``tests/test_math.py``.
"""

import math

from .._jit import scalar
from .compensated import reciprocal_of_sum
from .fma import fma
from .polynomial import polynomial


def make_tanh(fmt, exp):
    F = fmt.float
    one, two, four = F(1), F(2), F(4)
    small_poly = polynomial(fmt.const("TANH_SMALL"))
    small_max = fmt.const("TANH_SMALL_MAX")

    @scalar
    def tanh(x):
        a = abs(x)
        big = exp(-two * a)
        q, c = reciprocal_of_sum(one, big, one)  # 1/(1 + E) = q*(1 + c)
        far = fma(-two * big, fma(q, c, q), one)
        near = fma(a * (a * a), small_poly(a * a), a)
        return math.copysign(near if a <= small_max else far, x)

    @scalar
    def sech2(x):
        big = exp(-two * abs(x))
        q, c = reciprocal_of_sum(one, big, one)
        return four * big * (q * q) * (one + two * c)

    return tanh, sech2
