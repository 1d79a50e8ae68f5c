"""The NumPy baseline of the speed figures: what a NumPy user writes.

``fastgrad.reference`` everywhere, except where NumPy has no function for the math:
gelu's normal CDF, which a user takes from SciPy (``scipy.special.ndtr``) rather than
the reference's ``math.erf`` called once per element (exact, which the correctness tests
want, and about 100x slower than anyone would accept).
"""

import math

import numpy as np
from scipy.special import ndtr

import fastgrad.reference as reference

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def gelu(x, approximate="none"):
    if approximate == "tanh":
        return reference.gelu(x, approximate)
    return x * ndtr(x)


def gelu_grad(x, approximate="none"):
    """Phi(x) + x phi(x)."""
    if approximate == "tanh":
        return reference.gelu_grad(x, approximate)
    return ndtr(x) + x * np.exp(-0.5 * x * x) * x.dtype.type(_INV_SQRT_2PI)


def gelu_backward(grad_out, x, approximate="none"):
    return grad_out * gelu_grad(x, approximate)


def gelu_fwd_grad(x, approximate="none"):
    return gelu(x, approximate), gelu_grad(x, approximate)


def __getattr__(name):  # every other function: the reference's
    return getattr(reference, name)
