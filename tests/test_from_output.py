"""The backward from the output (``f_backward_from_output(grad_out, y)``, PyTorch's
contract for sigmoid, tanh and relu): within 1.5 ulps of grad_out * f'(x) written in y
(two roundings: f'(x) from y in one FMA, then the product),
computed by mpmath from the y and grad_out given; PyTorch's from-output kernels agree;
the conventions at the special values are exact."""

import mpmath
import numpy as np
import pytest

import fastgrad as fg
from fastgrad._kinds import BACKWARD_FROM_OUTPUT
from fastgrad._table import BY_NAME, TABLE
from harness.peers import torch_module
from harness.torch_peers import TORCH_PEERS

from .conftest import DTYPES

FROM_OUTPUT = BACKWARD_FROM_OUTPUT.suffix

NAMES = [act.name for act in TABLE if act.from_output is not None]

# f'(x) as a function of y = f(x), exactly (mpmath)
EXACT = {
    "sigmoid": lambda y: y * (1 - y),
    "tanh": lambda y: 1 - y * y,
    "relu": lambda y: mpmath.mpf(1 if y > 0 else 0),
}


def test_the_activations_whose_autograd_saves_the_output_have_it():
    assert NAMES == ["relu", "sigmoid", "tanh"]
    assert all(TORCH_PEERS[n].from_output_call is not None for n in NAMES)


def _outputs(name, dtype, rng):
    """y values across the output's range: random, the ends, tiny and subnormal ones,
    and those next to 1 (where 1 - y has few digits)."""
    info = np.finfo(dtype)
    one_below = np.nextafter(dtype(1), dtype(0))
    ends = [0.0, -0.0, 1.0, 0.5, float(info.tiny), float(info.smallest_subnormal), one_below]
    if name == "sigmoid":
        y = rng.uniform(0, 1, 3000)
    elif name == "tanh":
        y = rng.uniform(-1, 1, 3000)
        ends += [-1.0, -one_below, -float(info.smallest_subnormal)]
    else:
        y = np.abs(rng.standard_normal(3000)) * 10.0 ** rng.integers(-30, 30, 3000)
        ends += [float(info.max)]
    y = np.concatenate([np.array(ends), 1 - np.geomspace(1e-1, float(info.eps), 200), y])
    return y.astype(dtype)


def _ulps(got, exact, dtype):
    """|got - exact| in units of the spacing of the dtype at exact (per element)."""
    out = np.empty(got.size)
    for i, (g, e) in enumerate(zip(got, exact, strict=True)):
        rounded = dtype(float(e))
        spacing = float(np.spacing(np.abs(rounded))) or float(np.finfo(dtype).smallest_subnormal)
        out[i] = float(abs(mpmath.mpf(float(g)) - e)) / spacing
    return out


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", NAMES)
def test_within_one_and_a_half_ulps_of_the_formula_given_y(name, dtype):
    rng = np.random.default_rng(11)
    y = _outputs(name, dtype, rng)
    g = (rng.standard_normal(y.size) * 4).astype(dtype)
    g[:3] = [1.0, -1.0, 0.5]
    got = getattr(fg, name + FROM_OUTPUT)(g, y)
    assert got.dtype == dtype
    mpmath.mp.prec = 200
    exact = [
        mpmath.mpf(float(gi)) * EXACT[name](mpmath.mpf(float(yi)))
        for gi, yi in zip(g, y, strict=True)
    ]
    errors = _ulps(got, exact, dtype)
    worst = int(np.argmax(errors))
    assert errors[worst] <= 1.5, (y[worst], g[worst], got[worst], errors[worst])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_special_values_exactly(dtype):
    sig, tanh, relu = (getattr(fg, n + FROM_OUTPUT) for n in ("sigmoid", "tanh", "relu"))
    one, minus = np.ones(1, dtype), -np.ones(1, dtype)

    def at(fn, y, g=one):
        return fn(g, np.array([y], dtype))[0]

    for fn in (sig, tanh, relu):
        assert np.isnan(at(fn, np.nan))
    # derivative 0 where y is at its ends (sigmoid 0 and 1, tanh +-1): grad_out * +0
    for fn, y in ((sig, 0.0), (sig, 1.0), (tanh, 1.0), (tanh, -1.0)):
        assert at(fn, y) == 0 and not np.signbit(at(fn, y))
        assert at(fn, y, minus) == 0 and np.signbit(at(fn, y, minus))
    assert at(sig, 0.5) == 0.25 and at(tanh, 0.0) == 1 and at(tanh, -0.0) == 1
    # relu: y > 0 passes grad_out; y = +-0 (x <= 0, the kink included) gives +0.0 for
    # either sign of grad_out (PyTorch's threshold_backward selects 0)
    assert at(relu, 2.0, np.array([3.5], dtype)) == 3.5
    for y in (0.0, -0.0):
        assert at(relu, y) == 0 and not np.signbit(at(relu, y, minus))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_relu_from_the_output_is_relu_backward_bit_for_bit(dtype):
    x = np.concatenate([np.linspace(-5, 5, 1001), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    x = x.astype(dtype)
    g = np.linspace(-3, 3, x.size).astype(dtype)
    got = fg.relu_backward_from_output(g, fg.relu(x))
    np.testing.assert_array_equal(got, fg.relu_backward(g, x))
    np.testing.assert_array_equal(np.signbit(got), np.signbit(fg.relu_backward(g, x)))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_pytorchs_from_output_kernel(name, dtype):
    """PyTorch rounds g*(1 - y)*y three times (up to 2.5 ulps), fastgrad twice (1.5):
    within 3 ulps of each other; where the result is exact (y = 0, 1, -1, 0.5), equal.
    NaN: fastgrad gives NaN, PyTorch's relu gives grad_out (the README lists it)."""
    torch = torch_module()
    if torch is None:
        pytest.skip("PyTorch is not installed")
    rng = np.random.default_rng(3)
    y = _outputs(name, dtype, rng)
    g = rng.standard_normal(y.size).astype(dtype)
    act = BY_NAME[name]
    spec = TORCH_PEERS[act.name]
    args, kwargs = spec.from_output_call(torch.from_numpy(g), torch.from_numpy(y))
    theirs = getattr(torch.ops.aten, spec.backward)(*args, **kwargs).numpy()
    ours = getattr(fg, name + FROM_OUTPUT)(g, y)
    spacing = np.spacing(np.maximum(np.abs(ours), np.abs(theirs))).astype(np.float64)
    spacing[spacing == 0] = np.finfo(dtype).smallest_subnormal
    diff = np.abs(ours.astype(np.float64) - theirs) / spacing
    assert diff.max() <= 3, (y[np.argmax(diff)], ours[np.argmax(diff)], theirs[np.argmax(diff)])
    exact_ys = np.isin(y, [0.0, 1.0, -1.0, 0.5])
    np.testing.assert_array_equal(ours[exact_ys], theirs[exact_ys])


def test_from_output_runs_on_threads_only_where_memory_bound_kernels_do(monkeypatch):
    """A multiply-add per element: the threshold of the memory-bound (piecewise) kernels,
    not sigmoid's own (threads slowed such kernels below it)."""
    from fastgrad import _threads

    calls = []
    real = _threads.run_parallel
    monkeypatch.setattr(_threads, "run_parallel", lambda *a, **k: calls.append(a) or real(*a, **k))
    threads = fg.get_num_threads()
    fg.set_num_threads(2)
    try:
        x = np.linspace(-3, 3, _threads.PARALLEL_MIN_SIZE + 5).astype(np.float32)
        fg.sigmoid_backward(x, x)
        assert len(calls) == 1
        fg.sigmoid_backward_from_output(x, fg.sigmoid(x))
        assert len(calls) == 2  # only the forward
        big = np.zeros(_threads.PARALLEL_MIN_SIZE_MEMORY_BOUND, np.float32)
        fg.sigmoid_backward_from_output(big, big)
        assert len(calls) == 3
    finally:
        fg.set_num_threads(threads)
