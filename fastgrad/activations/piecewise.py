"""Piecewise-linear activations: exact in every dtype, no elementary functions needed."""

from .._jit import scalar


def relu(F, m):
    """Rectified linear unit.

    Formula: relu(x) = max(x, 0).
    Computed: x if x > 0 else 0 (NaN is passed through; relu(-0.0) = +0.0).
    Derivative: 1 if x > 0 else 0; at the kink relu'(0) = 0 (PyTorch's and the seed's
    convention); NaN for NaN input.
    Exact: every result is the exact value.
    """
    zero, one = F(0), F(1)

    @scalar
    def forward(x, a, b):
        return zero if x <= zero else x

    @scalar
    def derivative(x, a, b):
        d = one if x > zero else zero
        return x if x != x else d

    return forward, derivative
