"""fastgrad agrees with torch.nn.functional (forward, and autograd's gradient) on random
inputs and at the kinks, float32 and float64; where not, the mpmath oracle must find
fastgrad within its bound and closer to the truth. Also: the ATen kernels the benchmarks
time compute what torch.nn.functional does."""

import numpy as np
import pytest

import fastgrad as fg
from fastgrad._peers import torch_module, torch_peer

from .conftest import DTYPES, cases
from .parity import _agree, compare
from .test_accuracy import EXACT_ULPS, MAX_ULPS

pytestmark = pytest.mark.skipif(torch_module() is None, reason="PyTorch is not installed")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_agrees_with_torch_or_is_closer_to_the_truth(act, params, dtype):
    found = compare(act, params, dtype)
    assert found is not None
    bound = EXACT_ULPS if act.exact else MAX_ULPS
    for kind, (xs, ours, theirs) in found.items():
        ours_bad = ours > bound
        assert not ours_bad.any(), (kind, xs[ours_bad][:5], ours[ours_bad][:5])
        worse = ours > theirs
        assert not worse.any(), (kind, xs[worse][:5], ours[worse][:5], theirs[worse][:5])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_benchmarked_aten_kernels_compute_the_functional(act, params, dtype):
    torch = torch_module()
    peer = torch_peer(act, **params)
    rng = np.random.default_rng(7)
    x = torch.from_numpy(rng.uniform(-8, 8, 2000).astype(dtype))
    g = torch.from_numpy(rng.standard_normal(2000).astype(dtype))
    want_y = peer.functional(x).numpy()
    xg = x.clone().requires_grad_(True)
    peer.functional(xg).backward(g)
    for got, want in ((peer.forward_call(x)(), want_y), (peer.backward_call(g, x)(), xg.grad)):
        got, want = np.asarray(got), np.asarray(want)
        assert _agree(got, want, dtype).all()
    y, d = torch.empty_like(x), torch.empty_like(x)
    for call, out, want in (
        (peer.forward_call(x, y), y, want_y),
        (peer.backward_call(g, x, d), d, xg.grad),
    ):
        if call is not None:  # PyTorch's out= form, where it has one
            call()
            assert _agree(out.numpy(), np.asarray(want), dtype).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_kinks_and_signed_zeros_are_torchs_exactly(act, params, dtype):
    """A kink's value and the sign of a zero are conventions, not roundings: at every kink
    the forward and autograd's derivative equal PyTorch's bit for bit, and at +-0 a zero
    result has PyTorch's sign (a non-zero one is a rounding: the test above)."""
    torch = torch_module()
    peer = torch_peer(act, **params)
    if peer is None:
        pytest.skip("no PyTorch equivalent")
    kinks = np.asarray(act.kinks_at(params), dtype)
    xs = np.concatenate([kinks, [0.0, -0.0]]).astype(dtype)
    ours = fg.__dict__[act.name + "_fwd_grad"](xs, **params)
    tx = torch.from_numpy(xs.copy())
    theirs = (peer.functional(tx).detach().numpy(), peer.grad(tx).numpy())
    at_kink = np.arange(xs.size) < kinks.size
    for kind, a, b in zip(("forward", "derivative"), ours, theirs, strict=True):
        same = (a == b) & (np.signbit(a) == np.signbit(b)) | (np.isnan(a) & np.isnan(b))
        checked = at_kink | (a == 0) | (b == 0)
        for x in xs[checked & ~same]:
            reason = DELIBERATE.get((act.name, kind, float(x)))
            assert reason and reason[0](params, dtype), (act.name, kind, x, a[xs == x], b[xs == x])


# Where fastgrad deliberately differs from PyTorch at a kink (the README lists them):
# (activation, kind, x) -> (does it apply to these params and dtype, the reason).
DELIBERATE = {
    ("celu", "derivative", 0.0): (
        lambda params, dtype: params.get("alpha", 1.0) != 1.0,
        "PyTorch's autograd computes alpha * exp(x * float32(1/alpha)): 1 - 4e-8 at 0",
    ),
}
