"""What the tests, the accuracy and parity reports and the benchmarks measure: the dtypes,
each activation's parameter sets, and the hard places of a dtype."""

import numpy as np

from fastgrad._table import TABLE

DTYPES = (np.float32, np.float64)


def cases():
    """(activation, params, label) for every activation and each of its parameter sets."""
    return [
        (act, params, act.name + "".join(f"-{k}={v}" for k, v in params.items()))
        for act in TABLE
        for params in act.param_sets()
    ]


def param_sets(act):
    """The keyword sets each activation is tested with (its row's ``param_sets``)."""
    return act.param_sets()


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
