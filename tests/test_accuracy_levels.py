"""The accuracy levels (``fastgrad._accuracy``): chosen per call, per process and by
environment; each call runs the kernels of its level; the fast level within its bound
(2^-20 relative, float32) against the mpmath oracle; float16 within half an ulp plus
the float32 result's share."""

import os
import subprocess
import sys

import numba
import numpy as np
import pytest

import fastgrad as fg
import harness.cases
from fastgrad._accuracy import ACCURATE, FAST, FLOAT16_MAX_ULPS
from fastgrad._kernels import kernel_set
from fastgrad._table import BY_NAME, TABLE
from harness.accuracy import FASTGRAD, measure
from harness.oracle import truth, ulp_errors

ORACLE_RESOLUTION = 1e-4  # as test_accuracy's
# The activations (and variants) with fast math of their own
FAST_CASES = [
    pytest.param(act, params, id=label)
    for act, params, label in harness.cases.cases()
    if act.fast_math(params.get(act.variant.param) if act.variant else None) is not None
]


@pytest.fixture
def process_level():
    """Restores the process-wide level after a test that sets it."""
    previous = fg.get_accuracy()
    yield
    fg.set_accuracy(previous)


def _level_kernel(name, level, x, kind="forward"):
    """The serial kernel of ``kind`` (forward or fwd_grad) of ``level`` run directly on x."""
    outs = [np.empty_like(x) for _ in range(2 if kind == "fwd_grad" else 1)]
    kernel_set(BY_NAME[name], x.dtype, None, level).get(kind, False)(x, *outs, 0.0, 0.0)
    return np.stack(outs) if kind == "fwd_grad" else outs[0]


def _x(n=4096, dtype=np.float32):
    return np.random.default_rng(3).uniform(-12, 12, n).astype(dtype)


def test_the_fast_math_is_what_fast_calls_run_and_differs_from_the_accurate():
    """Not a second name for the same kernels: on random inputs each fast float32 kernel
    gives other bits than the accurate one somewhere, and each call of a level gives its
    level's bits."""
    x = _x()
    assert FAST_CASES
    for case in FAST_CASES:
        act, params = case.values
        if params:  # the forward kernels run here take no parameters
            continue
        fast = _level_kernel(act.name, FAST, x, "fwd_grad")
        accurate = _level_kernel(act.name, ACCURATE, x, "fwd_grad")
        assert not np.array_equal(fast, accurate), act.name
        pair = getattr(fg, act.name + "_fwd_grad")
        np.testing.assert_array_equal(pair(x, accuracy="fast"), fast)
        np.testing.assert_array_equal(pair(x, accuracy="accurate"), accurate)
        got = np.stack(pair(x.reshape(64, 64), accuracy="fast")).reshape(2, -1)
        np.testing.assert_array_equal(got, fast)


def test_float64_and_activations_without_fast_math_keep_their_accurate_kernels():
    for act in TABLE:
        for value in act.maths():
            assert kernel_set(act, np.float64, value, FAST) is kernel_set(act, np.float64, value)
            if act.fast_math(value) is None:
                assert kernel_set(act, np.float32, value, FAST) is kernel_set(
                    act, np.float32, value
                )
    x = _x(dtype=np.float64)
    np.testing.assert_array_equal(fg.gelu(x, accuracy="fast"), fg.gelu(x))


def test_the_process_level_applies_to_calls_without_the_keyword(process_level):
    """set_accuracy changes what later calls compute, also the fast path's remembered
    kernels (each function remembers its compiled kernel per dtype after a first call)
    and keyword calls it has validated before; a call's own keyword wins."""
    x = _x(1000)
    accurate = fg.sigmoid(x)
    fg.sigmoid(x, accuracy=None)
    assert fg.set_accuracy("fast") == "accurate"
    assert fg.get_accuracy() == "fast"
    fast = _level_kernel("sigmoid", FAST, x)
    np.testing.assert_array_equal(fg.sigmoid(x), fast)
    np.testing.assert_array_equal(fg.sigmoid(x, accuracy=None), fast)
    np.testing.assert_array_equal(fg.sigmoid(x, accuracy="accurate"), accurate)
    np.testing.assert_array_equal(fg.sigmoid(x.reshape(10, 100)).ravel(), fast)
    fg.set_accuracy("accurate")
    np.testing.assert_array_equal(fg.sigmoid(x), accurate)


def test_a_bad_level_is_refused_before_anything_is_written(process_level):
    x = _x(100)
    out = np.zeros_like(x)
    with pytest.raises(ValueError, match="gelu: accuracy must be one of 'accurate', 'fast'"):
        fg.gelu(x, out=out, accuracy="medium")
    with pytest.raises(ValueError, match="accuracy must be one of"):
        fg.gelu(x.reshape(10, 10), out=out.reshape(10, 10), accuracy=1)
    assert not out.any()
    with pytest.raises(ValueError, match="set_accuracy: accuracy must be one of"):
        fg.set_accuracy("FAST ")
    assert fg.get_accuracy() == "accurate"


def _python(code, **env):
    environment = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment
    )


def test_the_environment_variable_sets_the_process_level():
    done = _python("import fastgrad as fg; print(fg.get_accuracy())", FASTGRAD_ACCURACY="Fast")
    assert done.returncode == 0 and done.stdout.strip() == "fast", done.stderr
    done = _python("import fastgrad", FASTGRAD_ACCURACY="quick")
    assert done.returncode != 0
    assert "FASTGRAD_ACCURACY: accuracy must be one of 'accurate', 'fast'" in done.stderr


def test_njit_code_takes_the_level_as_a_constant_and_not_the_process_level(process_level):
    @numba.njit
    def both(x):
        return fg.tanh(x, accuracy="fast"), fg.tanh(x)

    x = _x(1000)
    fg.set_accuracy("fast")  # compiled code does not follow it: its default is accurate
    fast, default = both(x)
    np.testing.assert_array_equal(fast, _level_kernel("tanh", FAST, x))
    np.testing.assert_array_equal(default, _level_kernel("tanh", ACCURATE, x))


@pytest.mark.parametrize("act, params", FAST_CASES)
def test_fast_level_within_its_relative_bound(act, params):
    """float32, the accuracy sweep (tails, subnormal results, kinks, specials): every
    forward and derivative within 2^-20 of the truth relative to it (below the smallest
    normal number, within the accurate bound)."""
    xs, errors = measure(act, params, np.float32, "reduced", peers=False, levels=("fast",))
    for kind, ratio in zip(("forward", "derivative"), errors["fastgrad fast / bound"], strict=True):
        worst = int(np.argmax(ratio))
        assert ratio[worst] <= 1 + ORACLE_RESOLUTION, (kind, xs[worst], ratio[worst])
    assert set(errors) == {FASTGRAD["fast"], FASTGRAD["fast"] + " / bound"}


@pytest.mark.parametrize("act, params", FAST_CASES)
def test_float16_results_within_half_an_ulp_and_the_fast_share(act, params):
    """Every float16 input from -16 to 16 (and the specials): forward and derivative
    within 0.5 + 2^-9 float16 ulps of the truth (``FLOAT16_MAX_ULPS``)."""
    bits = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    xs = bits[~np.isnan(bits) & (np.abs(bits) <= 16)][::3]
    xs = np.concatenate([xs, np.array([np.inf, -np.inf, 0.0, -0.0], np.float16)])
    pair = getattr(fg, act.name + "_fwd_grad")(xs, **params)
    for which, got in enumerate(pair):
        assert got.dtype == np.float16
        errs = ulp_errors(got, truth(act.name, which, xs, params), np.float16)
        worst = int(np.argmax(errs))
        assert errs[worst] <= FLOAT16_MAX_ULPS + ORACLE_RESOLUTION, (which, xs[worst], errs[worst])


def test_torch_functions_take_the_level():
    torch = pytest.importorskip("torch")
    import fastgrad.torch as fgt

    x = _x(1000)
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    y = fgt.silu(t, accuracy="fast")
    np.testing.assert_array_equal(y.detach().numpy(), fg.silu(x, accuracy="fast"))
    y.backward(torch.ones_like(t))
    want = fg.silu_backward(np.ones_like(x), x, accuracy="fast")
    np.testing.assert_array_equal(t.grad.numpy(), want)
    assert not np.array_equal(want, fg.silu_backward(np.ones_like(x), x))
    with pytest.raises(ValueError, match="accuracy must be one of"):
        fgt.silu(t, accuracy="rough")


def test_fast_kernels_keep_the_signed_zeros_and_specials_of_the_accurate_ones():
    """Where both levels' true value is 0, +-inf or NaN the fast kernels give the accurate
    kernels' bits, sign of zero included (gelu(-0.0) = -0.0, tanh(-0.0) = -0.0; the
    left tails underflowing to -0.0); the subnormal results are in the bound test."""
    info = np.finfo(np.float32)
    x = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            info.smallest_subnormal,
            -info.smallest_subnormal,
            -200.0,
            -105.0,
            200.0,
        ],
        np.float32,
    )
    g = np.array([1.0, -1.0] * 5, np.float32)
    for case in FAST_CASES:
        act, params = case.values
        pair = getattr(fg, act.name + "_fwd_grad")
        backward = getattr(fg, act.name + "_backward")
        for got, want in (
            (pair(x, accuracy="fast", **params), pair(x, accuracy="accurate", **params)),
            ((backward(g, x, accuracy="fast", **params),), (backward(g, x, **params),)),
        ):
            for f, a in zip(got, want, strict=True):
                exact = (a == 0) | ~np.isfinite(a)
                assert np.array_equal(np.isnan(f), np.isnan(a)), act.name
                assert np.array_equal(
                    f[exact & ~np.isnan(a)].view(np.uint32), a[exact & ~np.isnan(a)].view(np.uint32)
                ), (act.name, x)


def test_torch_second_derivatives_at_the_fast_level():
    """create_graph through fastgrad.torch at accuracy="fast": the first gradient is the
    fast backward, the second PyTorch's own f'' (the accuracy keyword is not passed to
    PyTorch), close to the accurate level's in float32 and identical in float64."""
    torch = pytest.importorskip("torch")
    import fastgrad.torch as fgt

    for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 0.0)):
        t = torch.linspace(-6, 6, 101, dtype=dtype)
        second = {}
        for level in ("fast", "accurate"):
            x = t.clone().requires_grad_(True)
            (first,) = torch.autograd.grad(fgt.gelu(x, accuracy=level).sum(), x, create_graph=True)
            (second[level],) = torch.autograd.grad(first.sum(), x)
        assert torch.allclose(second["fast"], second["accurate"], rtol=tol, atol=tol)
