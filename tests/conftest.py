import numpy as np
import pytest

import fastgrad as fg
from fastgrad._table import TABLE

DTYPES = (np.float32, np.float64)


# Keyword sets each activation is tested with besides its defaults (a variant's other
# values, parameters away from their defaults), by activation name.
EXTRA_TEST_PARAMS = {
    "leaky_relu": ({"negative_slope": 0.2},),
    "hardtanh": ({"min_val": -2.0, "max_val": 0.5},),
    "threshold": ({"threshold": -2.0, "value": 3.0},),
    "elu": ({"alpha": 0.5},),
    "celu": ({"alpha": 3.0}, {"alpha": 0.3}),
    "gelu": ({"approximate": "tanh"},),
    "softplus": (
        {"beta": 2.0},
        {"beta": 0.5, "threshold": 20.0},
        {"beta": 1.0, "threshold": 20.0},
    ),
    "softshrink": ({"lambd": 1.5},),
    "hardshrink": ({"lambd": 1.5},),
}


def param_sets(act):
    """The keyword sets each activation is tested with: defaults (the table's example
    values for required parameters), then ``EXTRA_TEST_PARAMS``."""
    return (dict(act.default_params),) + EXTRA_TEST_PARAMS.get(act.name, ())


def cases():
    """(activation, params) pairs, with readable ids."""
    out = []
    for act in TABLE:
        for params in param_sets(act):
            label = act.name + "".join(f"-{k}={v}" for k, v in params.items())
            out.append(pytest.param(act, params, id=label))
    return out


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


def magnitudes(dtype, n):
    """n log-spaced positive values from the smallest subnormal to the largest finite."""
    info = np.finfo(dtype)
    lo, hi = float(info.smallest_subnormal), float(info.max)
    return np.append(np.geomspace(lo, hi / 2, n - 1), hi).astype(dtype)


def special_values(dtype):
    """The hard places of a dtype: zeros, infinities, NaN, subnormals, extremes."""
    info = np.finfo(dtype)
    tiny, smallest_sub = float(info.tiny), float(info.smallest_subnormal)
    return np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            tiny,
            -tiny,
            smallest_sub,
            -smallest_sub,
            float(info.max),
            -float(info.max),
            float(info.eps),
            1.0,
            -1.0,
        ],
        dtype=dtype,
    )


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
