"""The worked examples in examples/ run (small sizes) and show what they claim."""

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "examples"))

import mlp  # noqa: E402
import vanishing_gradients  # noqa: E402


@pytest.mark.parametrize("activation", ["gelu", "sigmoid", "silu", "swish", "logsigmoid"])
def test_mlp_learns_and_fastgrad_matches_the_numpy_reference(activation):
    ours = mlp.train(activation, "fastgrad", steps=200)
    theirs = mlp.train(activation, "numpy", steps=200)
    assert ours[-10:].mean() < 0.8 * ours[:10].mean()  # it learns
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_vanishing_gradients_vanish_for_sigmoid_and_not_for_relu(tmp_path):
    norms = {a: vanishing_gradients.gradient_norms(a, depth=12) for a in ("sigmoid", "relu")}
    sigmoid, relu = (n[0] / n[-1] for n in (norms["sigmoid"], norms["relu"]))
    assert sigmoid < 1e-3 and 0.05 < relu < 20, (sigmoid, relu)
    path = vanishing_gradients.figure(tmp_path / "v.png", depth=6)
    assert path.stat().st_size > 10_000
