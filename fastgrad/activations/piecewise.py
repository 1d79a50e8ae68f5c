"""Piecewise activations: linear pieces (and hardswish's quadratic one), no elementary
functions. Results are correctly rounded: a piece that needs a rounding (a*x, x - l,
(x + 3)/6) rounds once, or carries the error of its first rounding into the second.

Kinks follow PyTorch: at a kink the derivative is the one-sided value PyTorch's backward
kernel uses (stated in each docstring). NaN in gives NaN out, for derivatives too.
"""

from .._jit import scalar
from .._math.compensated import two_sum
from .._math.fma import fma
from ._params import real


def relu(F, m):
    """Rectified linear unit.

    Formula: relu(x) = max(x, 0).
    Computed: x if x > 0 else 0 (NaN is passed through; relu(-0.0) = +0.0).
    Derivative: 1 if x > 0 else 0; at the kink relu'(0) = 0 (PyTorch's
    convention); NaN for NaN input.
    Exact: every result is the exact value.
    """
    zero, one = F(0), F(1)

    @scalar
    def forward(x, a, b):
        return zero if x < zero else x  # relu(-0) = -0, as PyTorch

    @scalar
    def derivative(x, a, b):
        d = one if x > zero else zero
        return x if x != x else d

    return forward, derivative


def relu_from_output(F, m):
    """relu's derivative given its output y = relu(x), as PyTorch's autograd computes it
    (``threshold_backward(grad, output, 0)``: it saves y, not x).

    Formula: relu'(x) = 1 if y > 0 else 0 (y > 0 exactly where x > 0).
    Computed: that comparison, so the same values as relu's derivative at x, the kink
    relu'(0) = 0 included: nothing is lost. NaN gives NaN (PyTorch: grad_out).
    """
    zero, one = F(0), F(1)

    @scalar
    def derivative(y, a, b):
        d = one if y > zero else zero
        return y if y != y else d

    return derivative


def relu6(F, m):
    """ReLU capped at 6.

    Formula: relu6(x) = min(max(x, 0), 6).
    Computed: 0 if x <= 0, 6 if x >= 6, else x (NaN passed through).
    Derivative: 1 if 0 < x < 6 else 0; at the kinks relu6'(0) = relu6'(6) = 0 (PyTorch's
    hardtanh_backward, which relu6 uses).
    Exact: every result is the exact value.
    """
    zero, one, six = F(0), F(1), F(6)

    @scalar
    def forward(x, a, b):
        return zero if x < zero else (six if x >= six else x)  # relu6(-0) = -0

    @scalar
    def derivative(x, a, b):
        d = one if (zero < x and x < six) else zero
        return x if x != x else d

    return forward, derivative


def leaky_relu_params(negative_slope=0.01):
    """Validate leaky_relu's parameter; return the kernel slots (negative_slope, 0)."""
    return real("leaky_relu", "negative_slope", negative_slope, allow_inf=False), 0.0


def leaky_relu(F, m):
    """Leaky ReLU.

    Formula: leaky_relu(x) = x if x > 0 else negative_slope*x.
    Computed: as written (one rounding: correctly rounded).
    Derivative: 1 if x > 0 else negative_slope; at the kink leaky_relu'(0) =
    negative_slope (PyTorch's convention).
    Parameters: negative_slope (default 0.01), any finite number.
    """
    zero, one = F(0), F(1)

    @scalar
    def forward(x, slope, b):
        return x if x > zero else slope * x

    @scalar
    def derivative(x, slope, b):
        d = one if x > zero else slope
        return x if x != x else d

    return forward, derivative


def hardtanh_params(min_val=-1.0, max_val=1.0):
    """Validate hardtanh's parameters; return the kernel slots (min_val, max_val)."""
    lo = real("hardtanh", "min_val", min_val)
    hi = real("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val ({lo}) must not be greater than max_val ({hi})")
    return lo, hi


def hardtanh(F, m):
    """Hard tanh: x clamped to [min_val, max_val].

    Formula: hardtanh(x) = min(max(x, min_val), max_val).
    Computed: min_val if x <= min_val, max_val if x >= max_val, else x (NaN passed through).
    Derivative: 1 if min_val < x < max_val else 0; 0 on both bounds (PyTorch's
    hardtanh_backward).
    Parameters: min_val (default -1.0) <= max_val (default 1.0).
    Exact: every result is the exact value.
    """
    zero, one = F(0), F(1)

    @scalar
    def forward(x, lo, hi):
        return lo if x <= lo else (hi if x >= hi else x)

    @scalar
    def derivative(x, lo, hi):
        d = one if (lo < x and x < hi) else zero
        return x if x != x else d

    return forward, derivative


def threshold_params(threshold, value):
    """Validate threshold's parameters (both required, as in PyTorch); return the slots."""
    return real("threshold", "threshold", threshold), real("threshold", "value", value)


def threshold(F, m):
    """Threshold: x where it exceeds the threshold, a constant elsewhere.

    Formula: threshold(x) = x if x > threshold else value.
    Computed: value if x <= threshold else x (NaN passed through).
    Derivative: 1 if x > threshold else 0; 0 at x = threshold (PyTorch's
    threshold_backward).
    Parameters: threshold and value, both required (PyTorch has no defaults either).
    Exact: every result is the exact value.
    """
    zero, one = F(0), F(1)

    @scalar
    def forward(x, th, value):
        return value if x <= th else x

    @scalar
    def derivative(x, th, value):
        d = zero if x <= th else one
        return x if x != x else d

    return forward, derivative


def _sixth(F):
    """(s, s_err) -> (s + s_err)/6 correctly rounded (to O(eps^2)): the division's exact
    residual and s_err corrected by one more step."""
    six, sixth = F(6), F(1 / 6)

    @scalar
    def sixth_of(s, s_err):
        q = s / six
        residual = fma(-q, six, s) + s_err  # s - 6q is exact
        return fma(residual, sixth, q)

    return sixth_of


def hardsigmoid(F, m):
    """Hard sigmoid, a piecewise-linear sigmoid.

    Formula: hardsigmoid(x) = relu6(x + 3)/6.
    Computed: 0 if x <= -3, 1 if x >= 3, else (x + 3)/6 with the rounding error of x + 3
    carried into the division (correctly rounded).
    Derivative: 1/6 if -3 < x < 3 else 0; 0 at both kinks (PyTorch's
    hardsigmoid_backward).
    """
    zero, one, three = F(0), F(1), F(3)
    sixth = F(1 / 6)
    sixth_of = _sixth(F)

    @scalar
    def forward(x, a, b):
        s, s_err = two_sum(x, three)
        y = sixth_of(s, s_err)
        return zero if x <= -three else (one if x >= three else y)

    @scalar
    def derivative(x, a, b):
        d = sixth if (-three < x and x < three) else zero
        return x if x != x else d

    return forward, derivative


def hardswish(F, m):
    """Hard swish, a piecewise-quadratic silu.

    Formula: hardswish(x) = x*relu6(x + 3)/6.
    Computed: -0 if x <= -3 (PyTorch's sign), x if x >= 3 or x = +-0, else x*(x + 3)/6
    with the rounding errors of x + 3 and of the product carried into the division
    (correctly rounded).
    Derivative: 0 if x <= -3, (2x + 3)/6 if -3 < x < 3, 1 if x >= 3; at the kinks
    hardswish'(-3) = 0 and hardswish'(3) = 1 (PyTorch's hardswish_backward).
    """
    zero, one, two, three = F(0), F(1), F(2), F(3)
    neg_zero = F(-0.0)
    sixth_of = _sixth(F)

    @scalar
    def forward(x, a, b):
        s, s_err = two_sum(x, three)
        p = x * s
        p_err = fma(x, s, -p) + x * s_err
        y = sixth_of(p, p_err)
        # -0 for x <= -3 (PyTorch's x*0); x itself at +-0 and from 3 on
        return neg_zero if x <= -three else (x if x >= three or x == zero else y)

    @scalar
    def derivative(x, a, b):
        s, s_err = two_sum(two * x, three)
        d = sixth_of(s, s_err)
        d = zero if x <= -three else (one if x >= three else d)
        return x if x != x else d

    return forward, derivative


def softshrink_params(lambd=0.5):
    """Validate softshrink's parameter (lambd >= 0, as PyTorch requires); the slots."""
    lambd = real("softshrink", "lambd", lambd, allow_inf=False)
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be >= 0, got {lambd}")
    return lambd, 0.0


def softshrink(F, m):
    """Soft shrinkage: x moved towards 0 by lambd, 0 within lambd of 0.

    Formula: softshrink(x) = x - lambd if x > lambd; x + lambd if x < -lambd; else 0.
    Computed: as written (one rounding: correctly rounded; NaN passed through); the 0
    within [-lambd, lambd] is +0.0, as PyTorch's vectorised kernel gives it (its loop
    for tensors under 16 elements gives x's sign).
    Derivative: 1 if |x| > lambd else 0; 0 at x = +-lambd (PyTorch's softshrink_backward).
    Parameters: lambd (default 0.5), finite and >= 0.
    """
    zero, one = F(0), F(1)

    @scalar
    def forward(x, lambd, b):
        y = x - lambd if x > lambd else (x + lambd if x < -lambd else zero)
        return x if x != x else y

    @scalar
    def derivative(x, lambd, b):
        d = zero if (-lambd <= x and x <= lambd) else one
        return x if x != x else d

    return forward, derivative


def hardshrink_params(lambd=0.5):
    """Validate hardshrink's parameter; return the slots (lambd, 0)."""
    return real("hardshrink", "lambd", lambd), 0.0


def hardshrink(F, m):
    """Hard shrinkage: 0 within lambd of 0, x elsewhere.

    Formula: hardshrink(x) = x if |x| > lambd else 0.
    Computed: 0 if -lambd <= x <= lambd else x (NaN passed through).
    Derivative: 1 if |x| > lambd else 0; 0 at x = +-lambd (PyTorch's hardshrink_backward).
    Parameters: lambd (default 0.5); a negative lambd makes it the identity, as in PyTorch.
    Exact: every result is the exact value.
    """
    zero, one = F(0), F(1)

    @scalar
    def forward(x, lambd, b):
        return zero if (-lambd <= x and x <= lambd) else x

    @scalar
    def derivative(x, lambd, b):
        d = zero if (-lambd <= x and x <= lambd) else one
        return x if x != x else d

    return forward, derivative
