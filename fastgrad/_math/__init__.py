"""Vectorisable elementary functions, one flavour per dtype.

Numba 0.62+ has no SVML, so ``math.exp`` in a loop is a scalar libm call per element.
These are written in plain arithmetic (range reduction, a polynomial, exponent bits) so
LLVM vectorises the loops that call them. ``elementary(dtype)`` gives the set for a dtype;
activation math takes it as an argument, so it is written once for both dtypes.
"""

from typing import NamedTuple

import numpy as np

from ._format import FLOAT32, FLOAT64
from .exp import make_exp
from .log1p import make_log1p
from .normal import make_normal
from .tanh import make_tanh


class Elementary(NamedTuple):
    exp: object
    expm1: object
    # x -> exp(x) * 2^lift_bits, never subnormal for x <= 0 (``exp.make_exp``), and the
    # factor 2^-lift_bits that brings a product of it back with one rounding
    exp_lifted: object
    unlift: object
    # (x, x_lo) -> exp_lifted(x + x_lo) for x in [exp_min_arg, 0] only, no limits checked
    # (``exp.make_exp``): for callers that select their own results outside
    exp_lifted_in_range: object
    log1p: object
    tanh: object
    sech2: object  # 1 - tanh(x)^2
    exp_half_square: object  # (t, t_lo) -> exp(-(t + t_lo)^2 / 2), t >= 0
    exp_half_square_lifted: object  # the same times 2^lift_bits (as exp_lifted)
    # t -> (T, q, c): Q(t) * exp(t^2/2) = T*q*(1 + c), Q the standard normal's upper tail
    tail_parts: object
    upper_tail: object  # (t, t_lo) -> Q(t + t_lo), t >= 0
    scaled_upper_tail: object  # (t, s) -> s * Q(t), t >= 0, one rounding fewer
    ndtr: object  # the standard normal cdf Phi
    erfc: object
    erf: object


def _build(fmt):
    exp, expm1, exp_lifted, unlift, exp_lifted_in_range = make_exp(fmt)
    return Elementary(
        exp,
        expm1,
        exp_lifted,
        unlift,
        exp_lifted_in_range,
        make_log1p(fmt),
        *make_tanh(fmt, exp),
        *make_normal(fmt, exp, exp_lifted),
    )


_BY_DTYPE = {np.dtype(np.float32): _build(FLOAT32), np.dtype(np.float64): _build(FLOAT64)}


def elementary(dtype):
    """The elementary functions computing in ``dtype`` (float32 or float64)."""
    return _BY_DTYPE[np.dtype(dtype)]
