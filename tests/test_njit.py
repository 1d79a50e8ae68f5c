"""fastgrad inside the user's @njit code (``fastgrad/_numba.py``): the same results bit
for bit as the Python-level call, on scalars and arrays; vectorised inside the user's
loop; a fused dense layer."""

import pathlib
import sys

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

import fastgrad as fg
from fastgrad._kinds import kinds_of
from fastgrad._table import TABLE

from . import vectorisation
from .conftest import DTYPES, special_values

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "examples"))
from fused_layer import dense_gelu_backward, dense_gelu_forward  # noqa: E402


@njit
def _sigmoid(x):
    return fg.sigmoid(x)


@njit
def _gelu_tanh(x):
    return fg.gelu(x, approximate="tanh")


@njit
def _leaky_backward(g, x):
    return fg.leaky_relu_backward(g, x, negative_slope=0.2)


@njit
def _silu_pair(x):
    return fg.silu_fwd_grad(x)


def _inputs(dtype):
    x = np.concatenate([np.linspace(-12, 12, 301), special_values(dtype)]).astype(dtype)
    return x, np.linspace(-3, 3, x.size).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_the_issues_calls_match_the_python_call_bit_for_bit(dtype):
    x, g = _inputs(dtype)
    wants = {
        _sigmoid: (fg.sigmoid(x),),
        _gelu_tanh: (fg.gelu(x, approximate="tanh"),),
        _silu_pair: fg.silu_fwd_grad(x),
    }
    for fn, want in wants.items():
        got = fn(x)
        got = got if isinstance(got, tuple) else (got,)
        for a, b in zip(got, want, strict=True):
            assert a.dtype == dtype
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(np.signbit(a), np.signbit(b))
        # 2-D in, 2-D out
        got2 = fn(x[:300].reshape(20, 15))
        got2 = got2 if isinstance(got2, tuple) else (got2,)
        for a, b in zip(got2, want, strict=True):
            np.testing.assert_array_equal(a.reshape(-1), b[:300])
    want = fg.leaky_relu_backward(g, x, negative_slope=0.2)
    np.testing.assert_array_equal(_leaky_backward(g, x), want)
    # scalars: each element on its own gives the array's element
    for i in range(0, x.size, 7):
        v, gv = x[i], g[i]
        for got, ref in (
            (_sigmoid(v), fg.sigmoid(x)[i]),
            (_gelu_tanh(v), fg.gelu(x, approximate="tanh")[i]),
            (_leaky_backward(gv, v), want[i]),
        ):
            np.testing.assert_array_equal(dtype(got), ref)
        y, d = _silu_pair(v)
        np.testing.assert_array_equal(dtype(d), fg.silu_grad(x)[i])


def _all_kinds(act):
    """A jitted function calling every public function of ``act`` on arrays (the
    table's example parameters for required ones)."""
    params = ", ".join(f"{k}={v!r}" for k, v in act.default_params.items())
    sep = ", " if params else ""
    calls = []
    for kind in kinds_of(act):
        args = "g, x" if len(kind.inputs) == 2 else "x"
        calls.append(f"fg.{act.name}{kind.suffix}({args}{sep}{params})")
    source = f"def every_kind(g, x):\n    return ({', '.join(calls)},)\n"
    namespace = {"fg": fg}
    exec(source, namespace)
    return njit(namespace["every_kind"]), kinds_of(act)


@pytest.mark.parametrize("act", TABLE, ids=lambda a: a.name)
def test_every_function_in_njit_matches_the_python_call(act):
    x, g = _inputs(np.float64)
    every_kind, kinds = _all_kinds(act)
    got = every_kind(g, x)
    for kind, value in zip(kinds, got, strict=True):
        suffix = kind.suffix
        fn = getattr(fg, act.name + suffix)
        args = (g, x) if len(kind.inputs) == 2 else (x,)
        want = fn(*args, **act.default_params)
        for a, b in zip(
            value if isinstance(value, tuple) else (value,),
            want if isinstance(want, tuple) else (want,),
            strict=True,
        ):
            np.testing.assert_array_equal(a, b, err_msg=act.name + suffix)


def test_fused_dense_layer_is_bit_identical_and_vectorised():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 96)).astype(np.float32)
    w = (rng.standard_normal((96, 48)) * 0.1).astype(np.float32)
    b = rng.standard_normal(48).astype(np.float32)
    h = x @ w
    y, d, back = (np.empty_like(h) for _ in range(3))
    g = rng.standard_normal(h.shape).astype(np.float32)
    dense_gelu_forward(h, b, y, d)
    dense_gelu_backward(g, h, b, back)
    want_y, want_d = fg.gelu_fwd_grad(h + b)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(d, want_d)
    np.testing.assert_array_equal(back, fg.gelu_backward(g, h + b))
    for fn in (dense_gelu_forward, dense_gelu_backward):
        signature = fn.signatures[0]
        ir, asm = fn.inspect_llvm(signature), fn.inspect_asm(signature)
        problems = vectorisation.check(ir, "float", 1, asm)
        assert not problems, (fn.__name__, problems)


def test_errors_in_njit_code():
    x = np.linspace(-1, 1, 5)

    @njit
    def variant_at_run_time(x, which):
        return fg.gelu(x, approximate=which)

    with pytest.raises(TypingError, match="string constant"):
        variant_at_run_time(x, "tanh")

    @njit
    def unknown_variant(x):
        return fg.gelu(x, approximate="erf")

    with pytest.raises(TypingError, match="must be one of"):
        unknown_variant(x)

    @njit
    def nan_parameter(x, slope):
        return fg.leaky_relu(x, negative_slope=slope)

    with pytest.raises(ValueError, match="NaN"):
        nan_parameter(x, np.nan)

    @njit
    def wrong_out(x, out):
        return fg.relu(x, out=out)

    with pytest.raises(TypingError, match="C-contiguous float64"):
        wrong_out(x, np.empty(5, np.float32))

    @njit
    def into_out(x, out):
        return fg.relu(x, out=out)

    out = np.full(5, 7.0)
    assert into_out(x, out) is not None
    np.testing.assert_array_equal(out, fg.relu(x))

    @njit
    def a_string(x):
        return fg.relu("x")

    with pytest.raises(TypingError, match="real numbers"):
        a_string(x)


def test_njit_out_rules_are_the_python_calls():
    """In @njit code as in Python: a pair ``out=`` whose two arrays overlap raises
    ValueError before anything is written (the overloads once wrote through it); ``out=``
    may be the input itself; integer inputs compute in float64 with the same bits."""
    x = np.linspace(-3, 3, 8)

    @njit
    def pair_into(x, y, d):
        return fg.gelu_fwd_grad(x, out=(y, d))

    buffer = np.full(9, 7.0)
    with pytest.raises(ValueError, match="must not overlap"):
        pair_into(x, buffer[:8], buffer[1:])
    assert np.all(buffer == 7.0)

    @njit
    def in_place(x):
        return fg.softplus_backward(x, x, out=x)

    inside = x.copy()
    in_place(inside)
    np.testing.assert_array_equal(inside, fg.softplus_backward(x, x))

    @njit
    def on_integers(g, i):
        return fg.silu_backward(g, i), fg.elu_fwd_grad(i)

    ints = np.arange(-4, 4)
    backward, (y, d) = on_integers(np.ones(8, np.float32), ints)
    assert backward.dtype == np.float64
    np.testing.assert_array_equal(backward, fg.silu_backward(np.ones(8, np.float32), ints))
    np.testing.assert_array_equal(y, fg.elu(ints))
    np.testing.assert_array_equal(d, fg.elu_grad(ints))
