"""gelu, built on the standard normal tail Q(t) = P(Z > t) of ``fastgrad._math.normal``."""

import numpy as np

from .._jit import scalar
from .._math._format import FORMATS
from .._math.compensated import reciprocal_of_sum, two_sum
from .._math.fma import fma
from .._math.polynomial import polynomial
from .._math.root import near_root


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
    root_span, root_poly = fmt.const("GELU_ROOT_SPAN"), polynomial(fmt.const("GELU_ROOT_POLY"))
    root_center = fmt.const("GELU_ROOT_CENTER")
    scaled_upper_tail, upper_tail = m.scaled_upper_tail, m.upper_tail
    exp_half_square_lifted, tail_parts, unlift = m.exp_half_square_lifted, m.tail_parts, m.unlift

    @scalar
    def forward(x, a, b):
        t = abs(x)
        xq = scaled_upper_tail(t, x)
        # x*Q(t) for x <= 0, a zero with x's sign where it underflows (the rounding
        # corrections can add +0.0 to a -0.0 product)
        y = (xq if xq != zero else x * zero) if x <= zero else x - xq
        y = neg_zero if x < -t_max else y
        return x if x > t_max else y

    @scalar
    def derivative(x, a, b):
        t = abs(x)
        # the left tail's Gaussian lifted and the product brought down once (below)
        gauss_lifted = exp_half_square_lifted(t, zero)
        gauss = gauss_lifted * unlift
        right = fma(x, inv_sqrt_2pi * gauss, one - upper_tail(t, zero))
        p = root_poly(t - root_center)
        dt, dt_err = two_sum(root_hi, -t)
        near_root = fma(p, dt, p * (dt_err + root_lo))
        poly, q, c = tail_parts(t)
        left = (gauss_lifted * fma(-t, inv_sqrt_2pi, fma(poly, q, poly * q * c))) * unlift
        d = right if x >= zero else (near_root if t <= root_span else left)
        d = zero if x < -t_max else d
        return one if x > t_max else d

    return forward, derivative


def gelu_fast(F, m):
    """gelu at the fast accuracy level (``fastgrad._accuracy``): within 2^-20 relative.

    Computed: as ``gelu``, x*Q(t) with t = |x| and Q(t) = exp(-t^2/2) * T(w)/(t + K) (the
    same fitted T, ``fastgrad._math.normal``), evaluated with plain roundings: no
    correction terms for the division and the products, and no separate polynomial
    for small t. t^2 is still split exactly (an FMA) and exp lifted, so the left tail
    keeps its relative accuracy down to the subnormal results (gelu(-10) = -7.6e-23).
    Derivative: 1 + E*(t/sqrt(2*pi) - G) for x >= 0 (E = exp(-t^2/2), G = Q(t)/E: no
    cancellation, the sum is near 1); for x < 0, E*(G - t/sqrt(2*pi)), which cancels
    towards the root at x = -0.75179: there (t <= 1.5) (root - t)*B(t), ``gelu``'s form.
    """
    fmt = FORMATS[np.dtype(F)]
    zero, neg_zero, half, one = F(0), F(-0.0), F(0.5), F(1)
    inv_sqrt_2pi = F(1 / np.sqrt(2 * np.pi))
    t_max = fmt.const("NORMAL_TAIL_MAX")
    k, centre = fmt.const("NORMAL_K"), fmt.const("NORMAL_CENTRE")
    tail_poly = polynomial(fmt.const("NORMAL_TAIL"))
    root_hi, root_lo = fmt.const("GELU_ROOT_HI"), fmt.const("GELU_ROOT_LO")
    root_span, root_poly = fmt.const("GELU_ROOT_SPAN"), polynomial(fmt.const("GELU_ROOT_POLY"))
    root_center = fmt.const("GELU_ROOT_CENTER")
    exp_lifted_in_range, unlift = m.exp_lifted_in_range, m.unlift

    @scalar
    def gauss_and_ratio(t):
        """(E, G) for t >= 0: E = exp(-t^2/2) * 2^lift_bits (never subnormal up to t_max),
        G = Q(t)/exp(-t^2/2) = T(w)/(t + K). Meaningless beyond t_max (callers select)."""
        h = t * t
        e = exp_lifted_in_range(-half * h, -half * fma(t, t, -h))  # t^2 = h + its error
        q = one / (t + k)
        return e, tail_poly(fma(t - k, q, -centre)) * q

    @scalar
    def forward(x, a, b):
        t = abs(x)
        e, g = gauss_and_ratio(t)
        xq = ((x * e) * g) * unlift  # x*Q(t), a zero with x's sign where it underflows
        y = xq if x <= zero else x - xq
        y = neg_zero if x < -t_max else y
        return x if x > t_max else y

    @scalar
    def derivative(x, a, b):
        t = abs(x)
        e, g = gauss_and_ratio(t)
        right = fma(e * unlift, fma(t, inv_sqrt_2pi, -g), one)
        left = (e * fma(-t, inv_sqrt_2pi, g)) * unlift
        near_root = root_poly(t - root_center) * ((root_hi - t) + root_lo)
        d = right if x >= zero else (near_root if t <= root_span else left)
        d = zero if x < -t_max else d
        return one if x > t_max else d

    return forward, derivative


def gelu_tanh(F, m):
    """Gaussian error linear unit, tanh approximation (PyTorch's approximate='tanh').

    Formula: gelu(x) = 0.5*x*(1 + tanh(u)), u = sqrt(2/pi)*(x + 0.044715*x^3).
    Computed: as x*sigmoid(z) with z = 2u (the same function: 1 + tanh(u) =
    2*sigmoid(2u)), e = exp(-|z|), x/(1 + e) for z >= 0 and x*e/(1 + e) below. z is
    computed in double-word arithmetic (constants in two parts, every product's error kept
    by FMAs) and its low part folded into e, since in the left tail e's relative error is
    |z| times z's: gelu(-10) = -1.204e-37 in float32 to the last digit, where
    0.5*x*(1 + tanh(u)) gives 0.
    Derivative: sigmoid(z)*(1 + x*sigmoid(-z)*dz/dx), dz/dx = sqrt(8/pi)*(1 +
    0.134145*x^2). The bracket is 0 at x = -0.75246 (the minimum); near it the derivative is
    computed as (x - root)*D(x), D a fitted polynomial, with the root in two parts.
    Beyond |x| = 30 the results are their limits: x and 1 above, -0.0 and 0 below.
    """
    fmt = FORMATS[np.dtype(F)]
    zero, neg_zero, one, two, three = F(0), F(-0.0), F(1), F(2), F(3)
    c_hi, c_lo = fmt.const("GELU_TANH_C_HI"), fmt.const("GELU_TANH_C_LO")
    k_hi, k_lo = fmt.const("GELU_TANH_K_HI"), fmt.const("GELU_TANH_K_LO")
    x_max = F(30)
    exp_lifted, unlift = m.exp_lifted, m.unlift
    replace_near_root = near_root(fmt.const("GELU_TANH_ROOT_FORM"))

    @scalar
    def scaled_cubic(x):
        """z + z_lo = c*x*(1 + k*x^2) to ~eps^2 (c = sqrt(8/pi), k = 0.044715), and the
        pieces the derivative reuses: c*x = cx + cx_lo, k*x^2 = p + p_lo."""
        xx = x * x
        xx_lo = fma(x, x, -xx)
        p = k_hi * xx
        p_lo = fma(k_hi, xx, -p) + (k_hi * xx_lo + k_lo * xx)
        s, s_lo = two_sum(one, p)
        s_lo = s_lo + p_lo
        cx = c_hi * x
        cx_lo = fma(c_hi, x, -cx) + c_lo * x
        z = cx * s
        z_lo = fma(cx, s, -z) + (cx * s_lo + cx_lo * s)
        return z, z_lo, cx, cx_lo, p, p_lo

    @scalar
    def exp_neg_abs(z, z_lo):
        """e = exp(-|z + z_lo|) lifted by 2^lift_bits (``exp_lifted``: in the left tail
        products of it are brought down once, so subnormal results round once), e itself,
        and the pair (q, c) with 1/(1 + e) = q*(1 + c)."""
        lifted = exp_lifted(-abs(z))
        lifted = lifted - lifted * z_lo if z >= zero else lifted + lifted * z_lo
        e = lifted * unlift
        q, c = reciprocal_of_sum(one, e, one)
        return lifted, e, q, c

    @scalar
    def forward(x, a, b):
        z, z_lo, cx, cx_lo, p, p_lo = scaled_cubic(x)
        lifted, e, q, c = exp_neg_abs(z, z_lo)
        s = fma(q, c, q)  # sigmoid(|z|)
        y = x * s if z >= zero else ((x * lifted) * s) * unlift
        y = neg_zero if x < -x_max else y
        return x if x > x_max else y

    @scalar
    def derivative(x, a, b):
        z, z_lo, cx, cx_lo, p, p_lo = scaled_cubic(x)
        lifted, e, q, c = exp_neg_abs(z, z_lo)
        # x*dz/dx = c*x*(1 + 3k*x^2) = (cx + cx_lo)*(u + u_lo), in double-word: in the
        # bracket below it is the larger term of a sum that cancels towards the root
        p3 = three * p
        u, u_err = two_sum(one, p3)
        u_lo = u_err + (fma(three, p, -p3) + three * p_lo)
        xslope_lo = cx * u_lo + cx_lo * u
        qq = q * q
        s2 = fma(qq, two * c, qq)  # 1/(1 + e)^2
        # x >= 0 (z >= 0): sigmoid(z)*(1 + x*e*slope/(1 + e)), no cancellation;
        # x < 0: e*((1 + e) + x*slope)/(1 + e)^2
        s = fma(q, c, q)
        right = s * fma(fma(cx, u, xslope_lo) * e, s, one)
        left = (lifted * fma(cx, u, (one + e) + xslope_lo) * s2) * unlift
        d = right if x >= zero else left
        d = replace_near_root(x, d)
        d = zero if x < -x_max else d
        return one if x > x_max else d

    return forward, derivative
