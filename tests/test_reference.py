"""Kernels agree with the plain NumPy references on ordinary inputs; element-wise
properties hold on any input hypothesis can find."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastgrad._kinds import kinds_of

from .conftest import DTYPES, cases, public, reference

# The references' own error dominates (e.g. sigmoid_grad's y*(1-y)): absolute tolerances.
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-14, atol=2e-15)}
# gelu's tanh form: the reference's 0.5*x*(1 - tanh(u)^2)*du/dx cancels for x in about
# [-6, -4], where tanh(u) rounds to -1: up to ~4e-6 absolute in float32 (times grad_out),
# ~1e-15 in float64 (fastgrad agrees with mpmath there: test_accuracy.py).
LOOSER = {
    ("gelu", "tanh"): {
        np.float32: dict(rtol=2e-6, atol=1e-5),
        np.float64: dict(rtol=1e-14, atol=1e-14),
    }
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_matches_reference_on_random_inputs(act, params, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(5000) * 8).astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    y = public(act)(x, **params)
    arrays = {"grad_out": g, "x": x, "y": y}
    for kind in kinds_of(act):
        suffix = kind.suffix
        args = tuple(arrays[name] for name in kind.inputs)
        got = public(act, suffix)(*args, **params)
        want = reference(act, suffix)(*args, **params)
        if kind.outputs == 1:
            got, want = (got,), (want,)
        tol = LOOSER.get((act.name, params.get("approximate")), TOL)[dtype]
        for a, b in zip(got, want, strict=True):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **tol, err_msg=act.name + suffix)


@pytest.mark.parametrize("act, params", cases())
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_elementwise_on_any_input(act, params, data):
    dtype = data.draw(st.sampled_from(DTYPES))
    x = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, max_side=6)))
    before = x.copy()
    for suffix in ("", "_grad"):
        y = np.asarray(public(act, suffix)(x, **params))
        assert y.shape == x.shape and y.dtype == dtype
        np.testing.assert_array_equal(np.isnan(y), np.isnan(x))
        flat = x.reshape(-1)
        one_by_one = [public(act, suffix)(flat[i : i + 1], **params)[0] for i in range(flat.size)]
        np.testing.assert_array_equal(y.reshape(-1), np.array(one_by_one, dtype))
    np.testing.assert_array_equal(x, before)
