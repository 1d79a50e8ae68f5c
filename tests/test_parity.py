"""fastgrad agrees with torch.nn.functional (forward, and autograd's gradient) on random
inputs and at the kinks, float32 and float64; where not, the mpmath oracle must find
fastgrad within its bound and closer to the truth. Also: the ATen kernels the benchmarks
time compute what torch.nn.functional does."""

import numpy as np
import pytest

import fastgrad as fg
from harness.accuracy import oracle_params
from harness.oracle import truth
from harness.parity import _agree, compare, inputs
from harness.peers import torch_module, torch_peer

from .conftest import DTYPES, cases
from .test_accuracy import ORACLE_RESOLUTION

pytestmark = pytest.mark.skipif(torch_module() is None, reason="PyTorch is not installed")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_agrees_with_torch_or_is_closer_to_the_truth(act, params, dtype):
    found = compare(act, params, dtype)
    assert found is not None
    bound = act.max_ulps + ORACLE_RESOLUTION
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
            assert _deliberate(act, kind, x, params, dtype), (
                act.name,
                kind,
                x,
                a[xs == x],
                b[xs == x],
            )


def _true_signs(act, params, dtype, which, xs):
    """signbit of the oracle's value at each x (None where it is exactly 0 or NaN)."""
    values = truth(act.name, which, xs, oracle_params(params, dtype, act))
    return [None if v == 0 or v != v else bool(v < 0) for v in values]


def _zero_sign_mismatches(act, params, dtype, kind, ours, theirs, xs, g):
    """Where both are zero with different signs and fastgrad's sign is not the true
    value's (an underflow keeps the sign of the value it rounds from: fastgrad's zeros
    there are the true sign, PyTorch's sometimes not); ``g`` the grad_out (None for the
    forward)."""
    differ = (ours == 0) & (theirs == 0) & (np.signbit(ours) != np.signbit(theirs))
    if not differ.any():
        return []
    which = 0 if kind == "forward" else 1
    signs = _true_signs(act, params, dtype, which, xs[differ])
    bad = []
    for x, ours_neg, gi, true_neg in zip(
        xs[differ],
        np.signbit(ours[differ]),
        g[differ] if g is not None else [None] * len(signs),
        signs,
        strict=True,
    ):
        if true_neg is not None:
            want_neg = true_neg if gi is None else bool(np.signbit(gi)) != true_neg
            if ours_neg == want_neg:
                continue  # an underflow with the true value's sign
        if not _deliberate(act, kind, x, params, dtype):
            bad.append((float(x), None if gi is None else float(gi)))
    return bad


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act, params", cases())
def test_zeros_of_forward_and_backward_have_torchs_sign(act, params, dtype):
    """Every zero the forward, the backward (grad_out of either sign, +-0 included) and
    the backward from the output return has PyTorch's sign, on random inputs, the tails
    and the kinks; except where the zero is an underflow and fastgrad's sign is the true
    value's (the mpmath oracle decides), and the listed deliberate differences."""
    torch = torch_module()
    peer = torch_peer(act, **params)
    if peer is None:
        pytest.skip("no PyTorch equivalent")
    specials = [np.inf, -np.inf, 1e30, -1e30, 200.0, -200.0, 800.0, -800.0, 1e-300, -1e-300]
    xs = np.concatenate([inputs(act, params, dtype), np.array(specials, dtype)]).astype(dtype)
    tx = torch.from_numpy(xs.copy())
    bad = _zero_sign_mismatches(
        act,
        params,
        dtype,
        "forward",
        fg.__dict__[act.name](xs, **params),
        peer.functional(tx).numpy(),
        xs,
        None,
    )
    from_output = act.name + "_backward_from_output"
    for value in (-1.0, 1.0, -0.0, 0.0):
        g = np.full_like(xs, value)
        ours = fg.__dict__[act.name + "_backward"](g, xs, **params)
        xg = tx.clone().requires_grad_(True)
        (theirs,) = torch.autograd.grad(peer.functional(xg), xg, torch.from_numpy(g))
        bad += _zero_sign_mismatches(act, params, dtype, "backward", ours, theirs.numpy(), xs, g)
        call = peer.backward_from_output_call(torch.from_numpy(g), tx)
        if from_output in fg.__dict__ and call is not None:
            y = fg.__dict__[act.name](xs, **params)
            ours = fg.__dict__[from_output](g, y, **params)
            theirs = np.asarray(call())
            same = ~((ours == 0) & (theirs == 0)) | (np.signbit(ours) == np.signbit(theirs))
            bad += [("from output", float(x), value) for x in xs[~same]]
    assert not bad, bad[:10]


# Where fastgrad deliberately differs from PyTorch at a kink (the README lists them):
# (activation, kind, x) -> (does it apply to these params and dtype, the reason).
DELIBERATE = {
    ("celu", "derivative", 0.0): (
        lambda params, dtype: params.get("alpha", 1.0) != 1.0,
        "PyTorch's autograd computes alpha * exp(x * float32(1/alpha)): 1 - 4e-8 at 0",
    ),
    ("log_sigmoid", "forward", np.inf): (
        lambda params, dtype: True,
        "log_sigmoid(x) tends to 0 from below: -0.0 at +inf (PyTorch +0.0)",
    ),
    ("hardswish", "backward", -1.5): (
        lambda params, dtype: True,
        "the derivative x/3 + 1/2 is 0 at -1.5: PyTorch multiplies (g * 0.0, -0.0 for "
        "g < 0), fastgrad selects +0.0 as everywhere its derivative is 0",
    ),
}

# Zeros whose sign PyTorch itself does not fix: (activation, kind) -> (x, params) -> applies
DELIBERATE_RANGES = {
    # softshrink's 0 within [-lambd, lambd]: PyTorch's vectorised loop gives +0.0, its
    # scalar loop (tensors under 16 elements, and the elements after the last full
    # vector) x's sign; fastgrad gives +0.0 everywhere
    ("softshrink", "forward"): lambda x, params: abs(x) <= params.get("lambd", 0.5),
}


def _deliberate(act, kind, x, params, dtype):
    """Is fastgrad's value at x a listed deliberate difference from PyTorch's?"""
    reason = DELIBERATE.get((act.name, kind, float(x)))
    in_range = DELIBERATE_RANGES.get((act.name, kind))
    return bool((reason and reason[0](params, dtype)) or (in_range and in_range(float(x), params)))
