"""The accuracy harness: every kernel against the mpmath oracle over a dtype's whole range.

Shared by ``test_accuracy.py`` (a reduced sweep, in ``make test``) and
``tools/accuracy_report.py`` (the full sweep: ``make accuracy``). The sweep covers:

- uniform points in [-1, 1] and [-40, 40] (the roots, kinks and curvature live there),
  and over the ranges where exp(x), exp(2x) and exp(-x^2/2) are subnormal;
- log-spaced magnitudes from the smallest subnormal to the largest finite value, both
  signs;
- the overflow and underflow thresholds of the dtype's exp, exp(2x), exp(-x^2/2) and the
  normal tail, each with its neighbouring floats, both signs;
- each activation's kinks with their neighbours, and the special values (+-0, +-inf, NaN,
  subnormals, extremes).

Errors are in ulps of the true value (``oracle.ulp_errors``), for subnormal values the
smallest subnormal (2^-149 for float32, 2^-1074 for float64).
"""

import inspect
import warnings

import numpy as np

import fastgrad as fg
from fastgrad._accuracy import FAST_MAX_RELATIVE

from .cases import magnitudes, special_values
from .oracle import relative_bound_ulps, truth, ulp_errors
from .peers import onnx_peer, torch_module, torch_peer

SWEEP_SIZES = {"reduced": 400, "full": 20000}
NEIGHBOURS = 3  # floats on each side of a threshold or kink


def _around(values, dtype, k=NEIGHBOURS):
    out = []
    for v in np.asarray(values, dtype):
        lo = hi = v
        out.append(v)
        for _ in range(k):
            lo = np.nextafter(lo, dtype(-np.inf))
            hi = np.nextafter(hi, dtype(np.inf))
            out.extend([lo, hi])
    return np.array(out, dtype)


def thresholds(dtype):
    """Where exp-based terms overflow or underflow, and where the normal tail ends."""
    info = np.finfo(dtype)
    logs = [
        np.log(float(info.max)),
        np.log(float(info.tiny)),
        np.log(float(info.smallest_subnormal)),
    ]
    ts = logs + [v / 2 for v in logs] + [np.sqrt(2 * abs(v)) for v in logs] + [20.0]
    ts = np.array(ts)
    return np.concatenate([ts, -ts])


def underflow_ranges(dtype):
    """Where exp(x), exp(2x) and exp(-x^2/2) are subnormal, as (lo, hi) pairs: left
    tails whose results (x*exp(x), x*Phi(x), ...) are subnormal or barely normal."""
    info = np.finfo(dtype)
    sub, tiny = np.log(float(info.smallest_subnormal)), np.log(float(info.tiny))
    return [(sub, tiny), (sub / 2, tiny / 2), (-np.sqrt(-2 * sub), -np.sqrt(-2 * tiny))]


def sweep(dtype, size="reduced", kinks=()):
    n = SWEEP_SIZES[size]
    mags = magnitudes(dtype, n)
    xs = np.concatenate(
        [
            np.linspace(-1, 1, n),
            np.linspace(-40, 40, n),
            *(np.linspace(lo, hi, n) for lo, hi in underflow_ranges(dtype)),
            mags,
            -mags,
            _around(thresholds(dtype), dtype),
            _around(kinks, dtype) if len(kinks) else [],
            special_values(dtype),
        ]
    ).astype(dtype)
    return np.unique(xs)  # sorted; NaN last


def _reference_outputs(act, params, xs):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(fg.reference, act.name)(xs, **params)
        d = getattr(fg.reference, act.name + "_grad")(xs, **params)
    return np.asarray(y, xs.dtype), np.asarray(d, xs.dtype)


def _torch_outputs(act, params, xs):
    peer = torch_peer(act, **params)
    if peer is None:
        return None
    x = torch_module().from_numpy(xs.copy())
    return peer.functional(x).detach().numpy(), peer.grad(x).numpy()


def _onnx_outputs(act, params, xs):
    """ONNX Runtime's forward (it has no derivatives: None), or None where it has no
    operator for the activation and dtype (or is not installed)."""
    peer = onnx_peer(act, xs.dtype, 1, **params)
    if peer is None:
        return None
    y = np.empty_like(xs)
    peer.forward_call(xs, y)()
    return y, None


# The implementation names of fastgrad's two accuracy levels (``fastgrad._accuracy``)
FASTGRAD = {"accurate": "fastgrad", "fast": "fastgrad fast"}


def outputs(act, params, xs, peers=True, levels=("accurate",)):
    """{implementation: (forward, derivative)} on xs: fastgrad at each of ``levels``
    (named by ``FASTGRAD``), and with ``peers`` the NumPy reference, torch and ONNX
    Runtime (when installed; ONNX Runtime's derivative is None)."""
    pair = fg.__dict__[act.name + "_fwd_grad"]
    out = {FASTGRAD[level]: pair(xs, accuracy=level, **params) for level in levels}
    if peers:
        out["numpy"] = _reference_outputs(act, params, xs)
        for name, peer_outputs in (("torch", _torch_outputs), ("onnxruntime", _onnx_outputs)):
            got = peer_outputs(act, params, xs)
            if got is not None:
                out[name] = got
    return out


def oracle_params(params, dtype, act=None):
    """The parameters as the kernel sees them: the defaults filled in (with ``act``), and
    numbers cast to the dtype (the oracle's own defaults are exact decimals)."""
    if act is not None and act.params is not None:
        defaults = inspect.signature(act.params).parameters.values()
        given = {p.name: p.default for p in defaults if p.default is not p.empty}
        params = {**given, **params}
    return {
        k: (v if v is None or isinstance(v, str) else float(dtype(v))) for k, v in params.items()
    }


def measure(act, params, dtype, size="reduced", peers=True, levels=("accurate",)):
    """(xs, {implementation: (forward ulps, derivative ulps)}); None where an
    implementation has no such kind. With ``levels`` including "fast", the fast level's
    errors are over its bound (``fast_bound_ulps``): at most 1 where it holds."""
    xs = sweep(dtype, size, act.kinks_at(params))
    truths = [truth(act.name, which, xs, oracle_params(params, dtype, act)) for which in (0, 1)]
    errors = {
        impl: tuple(
            None if got is None else ulp_errors(got, truths[which], dtype)
            for which, got in enumerate(pair)
        )
        for impl, pair in outputs(act, params, xs, peers, levels).items()
    }
    if "fast" in levels:
        fast = FASTGRAD["fast"]
        errors[fast + " / bound"] = tuple(
            errs / fast_bound_ulps(act, truths[which], dtype)
            for which, errs in enumerate(errors[fast])
        )
    return xs, errors


def fast_bound_ulps(act, truths, dtype):
    """The fast level's bound in ulps of each truth: FAST_MAX_RELATIVE relative to the
    truth, in float32; never tighter than the accurate bound (``max_ulps``: the results
    below the smallest normal number, and float64, whose fast level is the accurate)."""
    if np.dtype(dtype) != np.float32:
        return np.full(len(truths), act.max_ulps)
    return relative_bound_ulps(truths, dtype, FAST_MAX_RELATIVE, act.max_ulps)
