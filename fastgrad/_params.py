"""Keyword parameters -> the variant and accuracy level (which kernels) and the kernel
slots (a, b).

Each activation's ``params`` function (its table row) turns its keyword parameters into
two floats, the kernels' slots, validating them; the variant parameter (gelu's
``approximate``) and every function's ``accuracy`` (``_accuracy``) select a kernel set
instead. ``Params`` does that per call, with the
errors a Python function would raise for unknown or missing keywords; ``params_key``
keys the validated sets a function remembers.
"""

import inspect
import math

import numpy as np

from ._accuracy import checked
from ._arrays import F32

# Every function's keyword choosing the accuracy level; None: the process-wide level
ACCURACY = inspect.Parameter("accuracy", inspect.Parameter.KEYWORD_ONLY, default=None)

_F32_MAX = float(np.finfo(np.float32).max)
_F32_SMALLEST = float(np.finfo(np.float32).smallest_subnormal)


class Params:
    """Turns keyword parameters into the variant and the accuracy level (which kernels)
    and the kernel slots (a, b), as Python floats."""

    def __init__(self, activation):
        self.to_slots = activation.params
        self.variant = activation.variant
        self.signature = []
        if self.to_slots is not None:
            self.signature = [
                inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
                for p in inspect.signature(self.to_slots).parameters.values()
            ]
        self.required = [p.name for p in self.signature if p.default is p.empty]
        self.values = list(activation.maths())
        if self.variant is not None:
            self.signature.append(
                inspect.Parameter(
                    self.variant.param, inspect.Parameter.KEYWORD_ONLY, default=self.values[0]
                )
            )
        self.signature.append(ACCURACY)
        self.names = [p.name for p in self.signature]
        # (variant value, level, a, b) of a call without keywords (level None: the
        # process-wide one); with a required parameter no call goes without them (the
        # slots are then placeholders, never used)
        self.default_slots = (0.0, 0.0)
        if not self.required and self.to_slots:
            self.default_slots = tuple(self.to_slots())
        self.default = (self.values[0], None, *self.default_slots)

    def resolve(self, params, compute, fn):
        """(variant value, level, a, b) for keyword ``params``, validated: the level None
        where ``accuracy`` is not given (or is None); the slots representable in the
        ``compute`` dtype."""
        level = None
        if ACCURACY.name in params:
            params = dict(params)
            level = params.pop(ACCURACY.name)
            if level is not None:
                checked(level, fn)
        unknown = [k for k in params if k not in self.names]
        if unknown and self.names == [ACCURACY.name]:
            raise TypeError(
                f"{fn}() takes no parameters (besides accuracy=), got {', '.join(unknown)}"
            )
        if unknown:
            raise TypeError(
                f"{fn}() got unexpected parameter(s) {', '.join(unknown)}; "
                f"its parameters are {', '.join(self.names)}"
            )
        missing = [k for k in self.required if k not in params]
        if missing:
            raise TypeError(f"{fn}() missing required parameter(s): {', '.join(missing)}")
        value = self.values[0]
        if self.variant is not None and self.variant.param in params:
            params = dict(params)
            value = params.pop(self.variant.param)
            if not isinstance(value, str) or value not in self.values:
                choices = ", ".join(repr(v) for v in self.values)
                raise ValueError(
                    f"{fn}: {self.variant.param} must be one of {choices}, got {value!r}"
                )
        try:
            slots = self.to_slots(**params) if self.to_slots else (0.0, 0.0)
        except OverflowError:  # an int too large for a float: a value out of range
            big = ", ".join(f"{k}={v!r:.40}" for k, v in params.items())
            raise ValueError(f"{fn}: a parameter is too large for a float ({big})") from None
        if compute is F32:
            for slot in slots:
                magnitude = abs(slot)
                if math.isfinite(slot) and (
                    magnitude > _F32_MAX or 0 < magnitude < _F32_SMALLEST / 2
                ):
                    raise ValueError(
                        f"{fn}: the parameter value {slot!r} is not representable in "
                        "float32, the dtype this call computes in"
                    )
        return (value, level, *slots)


def params_key(dtype, kw):
    """The ``resolved`` key of a call's keyword parameters. Equal keys must mean the same
    parameters, and Python's equality does not tell 1, 1.0 and True apart, nor 0.0 and
    -0.0: for those the key carries each value's ``_identity``. When every value is a
    nonzero float (the usual call) equality is identity and the names and values suffice,
    which halves the key's cost (0.37 vs 0.68 us for two parameters, AMD EPYC). So do
    strings (``approximate``, ``accuracy``): equal strings are the same choice, and no
    other type's value equals a string. The two forms never compare equal: their lengths
    differ for the same names."""
    for value in kw.values():
        kind = type(value)
        if kind is not str and (kind is not float or value == 0.0):
            return (dtype, *kw.items(), *map(_identity, kw.values()))
    return (dtype, *kw.items())


def _identity(value):
    """What tells apart parameter values that compare equal: the type, and a float's
    sign (0.0 == -0.0, but threshold's value=-0.0 must give -0.0)."""
    return (type(value), math.copysign(1.0, value)) if type(value) is float else type(value)
