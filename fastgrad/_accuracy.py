"""The accuracy levels a user chooses between, per call, per process or by environment.

- ``"accurate"`` (the default): every result within 4 ulps of the true value (the
  piecewise activations correctly rounded), tails included; the table's ``max_ulps``.
- ``"fast"``: float32 results within ``FAST_MAX_RELATIVE`` = 2^-20 (about 8 float32
  ulps) of the true value relative to it, tails included (no result is flushed to 0 or
  loses its sign where the truth is a normal number); results below the smallest normal
  number within the accurate level's bound (its ulps there are the smallest subnormal's,
  ``harness.accuracy.fast_bound_ulps``). Activations with fast math in the
  table (``Activation.fast``) compute with fewer operations; the others, and every
  float64 call, use their accurate kernels, which are within the bound already.
  float16 calls compute in float32 with the fast kernels at either level: rounding to
  float16's 11 bits hides the difference (the float16 result is within
  0.5 + 2^-9 float16 ulps of the truth either way; ``FLOAT16_MAX_ULPS``).

Chosen, most specific first: a call's ``accuracy=`` keyword; ``set_accuracy(level)``,
process-wide like ``set_num_threads``; the ``FASTGRAD_ACCURACY`` environment variable at
import; else ``"accurate"``. The levels are oneMKL's vector-math modes (HA/LA/EP) and
SLEEF's u10/u35 in fastgrad's terms: a bound stated per level and tested against mpmath.
"""

import os

ACCURATE = "accurate"
FAST = "fast"
LEVELS = (ACCURATE, FAST)
# The fast level's bound on |result - truth| / |truth|, float32 (``harness.accuracy``)
FAST_MAX_RELATIVE = 2.0**-20
# float16 results: half an ulp for the rounding to float16, plus the float32 result's
# error, at most 2^-20 relative, which is at most 2^-9 float16 ulps (an ulp is at least
# 2^-11 of the value)
FLOAT16_MAX_ULPS = 0.5 + 2.0**-9

_ENV = "FASTGRAD_ACCURACY"
_on_change = []


def checked(level, where):
    """``level`` if it is a level's name; else a ValueError naming ``where`` it came from."""
    if not isinstance(level, str) or level not in LEVELS:
        choices = ", ".join(repr(v) for v in LEVELS)
        raise ValueError(f"{where}: accuracy must be one of {choices}, got {level!r}")
    return level


def _from_environment():
    value = os.environ.get(_ENV)
    if value is None or value == "":
        return ACCURATE
    return checked(value.strip().lower(), _ENV)


current = _from_environment()


def set_accuracy(level):
    """Set the accuracy level of every call that does not pass ``accuracy=``, for the
    whole process: ``"accurate"`` (the default, within 4 ulps) or ``"fast"`` (float32
    within 2^-20 relative error; see ``fastgrad.ACCURACY_LEVELS``). Returns the previous
    level, so a caller can restore it."""
    global current
    checked(level, "set_accuracy")
    previous, current = current, level
    if level != previous:
        for forget in _on_change:
            forget()
    return previous


def get_accuracy():
    """The process-wide accuracy level (``set_accuracy``)."""
    return current


def on_change(forget):
    """Call ``forget()`` whenever the process-wide level changes: the public functions
    drop the kernels they remembered for the old level."""
    _on_change.append(forget)
