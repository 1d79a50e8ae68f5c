"""Bit-level facts about float32 and float64 that the elementary functions build on."""

from dataclasses import dataclass

import numpy as np

from . import coefficients


@dataclass(frozen=True)
class FloatFormat:
    float: type  # the NumPy scalar type computed in
    int: type  # the signed integer type of the same width, for bit manipulation
    mantissa_bits: int
    exponent_bias: int
    name: str

    def const(self, name):
        """The generated constant ``NAME_FLOAT32``/``NAME_FLOAT64`` in this dtype: a number,
        a tuple of them, or a dict of those (a near-root form's parts)."""
        return self._in_dtype(getattr(coefficients, f"{name}_{self.name.upper()}"))

    def _in_dtype(self, value):
        if isinstance(value, dict):
            return {key: self._in_dtype(item) for key, item in value.items()}
        if isinstance(value, tuple):
            return tuple(self.float(c) for c in value)
        return self.float(value)

    @property
    def finfo(self):
        return np.finfo(self.float)


FLOAT32 = FloatFormat(np.float32, np.int32, 23, 127, "float32")
FLOAT64 = FloatFormat(np.float64, np.int64, 52, 1023, "float64")
FORMATS = {np.dtype(np.float32): FLOAT32, np.dtype(np.float64): FLOAT64}
