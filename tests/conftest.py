import os

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


# Thread-count variables as the test session found them. Dask's Nanny sets
# OMP_NUM_THREADS=1 (and MKL's, OpenBLAS's) in the *parent* process's environment when a
# cluster starts (``distributed.nanny.pre-spawn-environ``) and leaves it there: every
# later test's subprocess would then run fastgrad on one thread (which follows
# OMP_NUM_THREADS), and the thread tests would test less without failing.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_AT_START = {name: os.environ.get(name) for name in _THREAD_VARIABLES}


@pytest.fixture(autouse=True)
def _thread_variables_restored():
    yield
    for name, value in _AT_START.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
