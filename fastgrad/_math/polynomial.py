"""Polynomial evaluation shared by the elementary functions."""

from .._jit import scalar


@scalar
def horner(x, coeffs):
    """coeffs[0]*x^(n-1) + ... + coeffs[n-1], coefficients highest degree first.

    The loop runs over a constant tuple, so LLVM unrolls it into a chain of FMAs.
    """
    acc = coeffs[0]
    for c in coeffs[1:]:
        acc = acc * x + c
    return acc
