"""Parity with PyTorch: fastgrad against ``torch.nn.functional`` and its autograd gradient.

Shared by ``test_parity.py`` (in ``make test``, when torch is installed) and
``tools/parity_report.py`` (``make accuracy``: plots/parity.md, the list the README quotes).
Where the two disagree by more than ``AGREE_ULPS``, the mpmath oracle decides; a
disagreement is acceptable only where fastgrad is within its accuracy bound and
closer to the truth than PyTorch (a tail where PyTorch cancels, softplus's threshold).
"""

import numpy as np

import fastgrad as fg

from .accuracy import oracle_params
from .oracle import truth, ulp_errors
from .peers import torch_module, torch_peer

# Agreement: within this many ulps of the larger magnitude (PyTorch's kernels are not
# correctly rounded either), or both below the smallest normal number's spacing.
AGREE_ULPS = 8


def inputs(act, params, dtype, seed=0):
    """Random inputs over the ordinary range and the tails, and the kinks with their
    neighbouring floats, +-0."""
    rng = np.random.default_rng(seed)
    mags = np.geomspace(1e-30, 1e4, 200)
    xs = np.concatenate(
        [
            rng.uniform(-12, 12, 3000),
            rng.uniform(-100, 100, 1000),
            rng.standard_normal(1000),
            mags,
            -mags,
            [0.0, -0.0],
        ]
    ).astype(dtype)
    kinks = np.asarray(act.kinks_at(params), dtype)
    around = [np.nextafter(kinks, dtype(-np.inf)), kinks, np.nextafter(kinks, dtype(np.inf))]
    return np.concatenate([xs, *around]).astype(dtype)


def _agree(a, b, dtype):
    info = np.finfo(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.maximum(np.abs(a), np.abs(b))
        close = np.abs(a - b) <= AGREE_ULPS * np.maximum(
            scale * info.eps, info.smallest_normal * info.eps
        )
    return close | (a == b) | (np.isnan(a) & np.isnan(b))


def compare(act, params, dtype):
    """{kind: (xs where fastgrad and torch disagree, fastgrad ulps, torch ulps)} for
    kind in forward/derivative, or None without torch."""
    torch = torch_module()
    peer = torch_peer(act, **params)
    if torch is None or peer is None:
        return None
    xs = inputs(act, params, dtype)
    ours = fg.__dict__[act.name + "_fwd_grad"](xs, **params)
    tx = torch.from_numpy(xs.copy())
    theirs = (peer.functional(tx).detach().numpy(), peer.grad(tx).numpy())
    out = {}
    for which, kind in enumerate(("forward", "derivative")):
        bad = ~_agree(ours[which], theirs[which], dtype)
        x_bad = xs[bad]
        t = truth(act.name, which, x_bad, oracle_params(params, dtype, act))
        out[kind] = (
            x_bad,
            ulp_errors(ours[which][bad], t, dtype),
            ulp_errors(theirs[which][bad], t, dtype),
        )
    return out
