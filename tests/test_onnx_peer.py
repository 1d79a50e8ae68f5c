"""The ONNX Runtime peer the benchmarks time computes the activation fastgrad computes
(to MLAS's approximations' accuracy), allocating and through I/O binding alike."""

import numpy as np
import pytest

import fastgrad as fg
from harness.peers import onnx_peer

from .conftest import DTYPES, cases

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

# Operators ONNX Runtime has for float32 at least: a missing one here means the peer
# table or the model building broke, not that the library lacks it.
HAS_FLOAT32 = {
    "relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
    "softplus", "sigmoid", "tanh", "hardsigmoid", "hardswish", "softsign", "softshrink",
    "hardshrink",
}  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_onnx_peer_computes_the_activation(act, params, dtype):
    peer = onnx_peer(act, dtype, 2, **params)
    if peer is None:
        spelled = not params or act.variant and set(params) == {act.variant.param}
        assert not (dtype == np.float32 and act.name in HAS_FLOAT32 and spelled), act.name
        pytest.skip("no ONNX operator for this activation and dtype")
    x = np.linspace(-6, 6, 4001).astype(dtype)
    want = getattr(fg, act.name)(x, **params)
    allocated = peer.forward_call(x)()
    out = np.full_like(x, np.nan)
    peer.forward_call(x, out)()
    np.testing.assert_array_equal(out, allocated)
    # MLAS approximates (hardsigmoid's 1/6 in float32, tanh-based fits): a loose bound that
    # still tells one activation from another
    np.testing.assert_allclose(allocated, want, rtol=2e-3, atol=1e-5)


def test_the_accuracy_sweep_measures_onnx_runtimes_forward():
    """``make accuracy`` reports ONNX Runtime's forward error beside PyTorch's: measured
    on the same sweep against the same oracle, with no derivative (None)."""
    from fastgrad._table import BY_NAME
    from harness.accuracy import measure
    from harness.oracle import truth, ulp_errors

    xs, errors = measure(BY_NAME["sigmoid"], {}, np.float32, "reduced")
    forward, derivative = errors["onnxruntime"]
    assert derivative is None
    assert forward.shape == xs.shape
    # the errors are those of ONNX Runtime's own values
    y = np.empty_like(xs)
    onnx_peer(BY_NAME["sigmoid"], np.float32, 1).forward_call(xs, y)()
    expected = ulp_errors(y, truth("sigmoid", 0, xs, {}), np.float32)
    assert np.array_equal(forward, expected, equal_nan=True)
