import numpy as np
import pytest

import fastgrad as fg
import harness.cases
from fastgrad._table import TABLE
from harness.cases import DTYPES, magnitudes, param_sets, special_values  # noqa: F401


def cases():
    """(activation, params) pairs, with readable ids."""
    return [pytest.param(act, params, id=label) for act, params, label in harness.cases.cases()]


def default_slots(act):
    """The kernel slots (a, b) of the activation's default (or example) parameters."""
    return act.params(**act.default_params) if act.params else (0.0, 0.0)


def variants():
    """(activation, variant value) for every kernel set, with readable ids."""
    return [
        pytest.param(act, value, id=act.name if i == 0 else f"{act.name}-{value}")
        for act in TABLE
        for i, value in enumerate(act.maths())
    ]


def public(act, suffix=""):
    """fastgrad's function; for an activation with required parameters, with the table's
    example values filled in where a test passes none."""
    fn = getattr(fg, act.name + suffix)
    if not act.default_params:
        return fn
    return lambda *args, **params: fn(*args, **{**act.default_params, **params})


def reference(act, suffix=""):
    return getattr(fg.reference, act.name + suffix)


def kernel_arguments(name, x, g, alias="none"):
    """Fresh array arguments of kernel ``name`` for input ``x`` (and ``g``, grad_out);
    ``alias`` makes the output the input ("same"), the input shifted by one element
    ("partial") or, for backward, grad_out ("grad_out")."""
    g = g.copy()
    buf = np.concatenate([x, x[-1:]])
    src, out = (buf[1:], buf[:-1]) if alias == "partial" else (x.copy(), np.empty_like(x))
    if alias == "same":
        out = src
    if alias == "grad_out":
        out = g
    return {
        "forward": (src, out),
        "grad": (src, out),
        "backward": (g, src, out),
        "backward_from_output": (g, src, out),
        "fwd_grad": (src, out, np.empty_like(x)),
    }[name]
