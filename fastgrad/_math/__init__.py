"""Vectorisable elementary functions, one flavour per dtype.

Numba 0.62+ has no SVML, so ``math.exp`` in a loop is a scalar libm call per element.
These are written in plain arithmetic (range reduction, a polynomial, exponent bits) so
LLVM vectorises the loops that call them. ``elementary(dtype)`` gives the set for a dtype;
activation math takes it as an argument, so it is written once for both dtypes.
"""

from typing import NamedTuple

import numpy as np

from .exp import exp32, exp64
from .log1p import log1p32, log1p64


class Elementary(NamedTuple):
    exp: object
    log1p: object


_BY_DTYPE = {
    np.dtype(np.float32): Elementary(exp=exp32, log1p=log1p32),
    np.dtype(np.float64): Elementary(exp=exp64, log1p=log1p64),
}


def elementary(dtype):
    """The elementary functions computing in ``dtype`` (float32 or float64)."""
    return _BY_DTYPE[np.dtype(dtype)]
