"""The exponential linear units: elu, selu and celu, built on expm1 and exp.

Each is the identity (times a scale) for x > 0 and a scaled expm1 below, so the negative
side keeps full relative accuracy next to 0 (expm1, not exp(x) - 1).
"""

import numpy as np

from .._jit import scalar
from .._math.fma import fma
from ._params import real

# SELU's constants (Klambauer et al. 2017), as PyTorch defines them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def elu_params(alpha=1.0):
    """Validate elu's parameter; return the kernel slots (alpha, 0)."""
    return real("elu", "alpha", alpha, allow_inf=False), 0.0


def elu(F, m):
    """Exponential linear unit.

    Formula: elu(x) = x if x > 0 else alpha*(exp(x) - 1).
    Computed: x if x > 0 else alpha*expm1(x) (no cancellation next to 0;
    elu(-inf) = -alpha).
    Derivative: 1 if x > 0 else alpha*exp(x); at the kink elu'(0) = alpha (PyTorch's
    elu_backward takes the exp branch for x <= 0).
    Parameters: alpha (default 1.0), any finite number.
    """
    zero, one = F(0), F(1)
    exp, expm1 = m.exp, m.expm1

    @scalar
    def forward(x, alpha, b):
        return x if x > zero else alpha * expm1(x)

    @scalar
    def derivative(x, alpha, b):
        return one if x > zero else alpha * exp(x)

    return forward, derivative


def selu(F, m):
    """Scaled exponential linear unit (self-normalising).

    Formula: selu(x) = scale*x if x > 0 else scale*alpha*(exp(x) - 1), with
    alpha = 1.6732632423543772848 and scale = 1.0507009873554804934 (PyTorch's).
    Computed: scale*x, or (scale*alpha)*expm1(x) with the product of the constants
    rounded once.
    Derivative: scale if x > 0 else scale*alpha*exp(x); at the kink selu'(0) =
    scale*alpha (PyTorch's elu_backward takes the exp branch for x <= 0).
    """
    zero = F(0)
    scale, scale_alpha = F(SELU_SCALE), F(np.float64(SELU_SCALE) * np.float64(SELU_ALPHA))
    exp, expm1 = m.exp, m.expm1

    @scalar
    def forward(x, a, b):
        return scale * x if x > zero else scale_alpha * expm1(x)

    @scalar
    def derivative(x, a, b):
        return scale if x > zero else scale_alpha * exp(x)

    return forward, derivative


def celu_params(alpha=1.0):
    """Validate celu's parameter (finite, non-zero: it divides x); return the slots."""
    alpha = real("celu", "alpha", alpha, allow_inf=False)
    if alpha == 0:
        raise ValueError("celu: alpha must be non-zero (celu divides x by alpha)")
    return alpha, 0.0


def celu(F, m):
    """Continuously differentiable exponential linear unit.

    Formula: celu(x) = max(0, x) + min(0, alpha*(exp(x/alpha) - 1)).
    Computed: x if x > 0 else alpha*expm1(u), u = x/alpha. The division's rounding error
    u_lo (exact, from an FMA residual) is carried to first order: expm1(u + u_lo) =
    expm1(u) + exp(u)*u_lo; without it exp(u) would be off |u| half-ulps (40 ulps at
    u = -80).
    Derivative: 1 if x > 0 else exp(x/alpha), with the same correction; celu'(0) = 1.
    Signed zeros as PyTorch: celu(-0) = -0.
    Parameters: alpha (default 1.0), finite and non-zero.
    """
    zero, one = F(0), F(1)
    big = F(np.finfo(F).max) / F(4)
    exp, expm1 = m.exp, m.expm1

    @scalar
    def scaled(x, alpha):
        """(u, u_lo): x/alpha rounded and the rest (0 where u is huge, inf or NaN)."""
        u = x / alpha
        u_lo = fma(-u, alpha, x) / alpha
        return u, (u_lo if abs(u) < big else zero)

    @scalar
    def forward(x, alpha, b):
        u, u_lo = scaled(x, alpha)
        e = expm1(u)
        return x if x >= zero else alpha * fma(e + one, u_lo, e)  # celu(-0) = -0

    @scalar
    def derivative(x, alpha, b):
        u, u_lo = scaled(x, alpha)
        e = exp(u)
        return one if x > zero else fma(e, u_lo, e)

    return forward, derivative
