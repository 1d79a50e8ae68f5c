import numpy as np
import pytest

import fastgrad as fg
from fastgrad._table import TABLE

DTYPES = (np.float32, np.float64)


def param_sets(act):
    """The keyword sets each activation is tested with: defaults, then the table's extras."""
    return ({},) + tuple(act.extra_test_params)


def cases():
    """(activation, params) pairs, with readable ids."""
    out = []
    for act in TABLE:
        for params in param_sets(act):
            label = act.name + "".join(f"-{k}={v}" for k, v in params.items())
            out.append(pytest.param(act, params, id=label))
    return out


def public(act, suffix=""):
    return getattr(fg, act.name + suffix)


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
