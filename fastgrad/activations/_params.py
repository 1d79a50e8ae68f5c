"""Validation of activation parameters (shared by the activation modules)."""

import math
import numbers


def real(activation, name, value, *, allow_inf=True):
    """``value`` as a float, or a TypeError/ValueError naming the activation and parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{activation}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value) or (not allow_inf and math.isinf(value)):
        raise ValueError(f"{activation}: {name} must be a finite number, got {value!r}")
    return value
