"""The gated activations (``fastgrad._gated``: glu, swiglu, geglu, reglu): accuracy against
the mpmath oracle per output, parity with PyTorch's composition (signed zeros,
infinities, NaN), the packed layout, out= and in-place, errors, threads, memory."""

import doctest
import tracemalloc
import warnings

import mpmath as mp
import numpy as np
import pytest

import fastgrad as fg
from fastgrad._gated import GATE_FIRST, GATED, GATED_BY_NAME
from fastgrad._gated_api import forms_of
from harness.accuracy import sweep
from harness.cases import magnitudes, special_values
from harness.oracle import ORACLES, ulp_errors
from harness.parity import _agree
from harness.peers import torch_module

from .conftest import DTYPES
from .test_accuracy import ORACLE_RESOLUTION


def _rows():
    """(row, params) for every gated row and each variant, with readable ids."""
    out = []
    for row in GATED:
        for value in row.base.maths() if row.variant else [None]:
            params = {} if value is None else {"approximate": value}
            label = row.name if value in (None, "none") else f"{row.name}-{value}"
            out.append(pytest.param(row, params, id=label))
    return out


OUTPUTS = ("forward", "grad_u", "grad_v")


def gated(row, u, v, g, **params):
    """(y, grad_u, grad_v) from fastgrad's public functions: f(u) * v and its gradients
    (glu through its packed form, u the second half)."""
    if row.gate == GATE_FIRST:
        y = getattr(fg, row.name)(u, v, **params)
        grad_u, grad_v = getattr(fg, row.name + "_backward")(g, u, v, **params)
        return y, grad_u, grad_v
    x = np.concatenate([v, u])
    y = getattr(fg, row.name)(x, 0, **params)
    grad_x = getattr(fg, row.name + "_backward")(g, x, 0, **params).reshape(2, -1)
    return y, grad_x[1], grad_x[0]


# ------------------------------------------------------------------------ accuracy


def _accuracy_inputs(row, dtype):
    """(u, v, g): u over the activation's sweep (tails, kinks, underflow ranges, specials)
    with v and grad_out of moderate size; then moderate u with v over every magnitude
    (up to max/16: grad_out * v must not overflow where the product with f' would not,
    PyTorch's order of products)."""
    rng = np.random.default_rng(25)
    kinks = row.base.kinks_at({})
    u1 = sweep(dtype, "reduced", kinks)
    u1 = u1[np.isfinite(u1) | np.isinf(u1)]  # NaN inputs: the parity test
    n1 = u1.size

    def moderate(n):
        return (rng.uniform(0.25, 4.0, n) * rng.choice([-1.0, 1.0], n)).astype(dtype)

    mags = magnitudes(dtype, 300)
    mags = mags[mags <= np.finfo(dtype).max / 16]
    v2 = np.concatenate([mags, -mags]).astype(dtype)
    u2 = rng.uniform(-8, 8, v2.size).astype(dtype)
    u = np.concatenate([u1, u2])
    v = np.concatenate([moderate(n1), v2])
    g = moderate(u.size)
    return u, v, g


def _truths(row, u, v, g, params):
    forward, derivative = ORACLES[row.activation]
    ys, gus, gvs = [], [], []
    for ui, vi, gi in zip(u.astype(float), v.astype(float), g.astype(float), strict=True):
        ui, vi, gi = mp.mpf(ui), mp.mpf(vi), mp.mpf(gi)
        f = forward(ui, **params) if not mp.isnan(ui) else mp.nan
        d = derivative(ui, **params) if not mp.isnan(ui) else mp.nan
        ys.append(f * vi)
        gus.append(gi * vi * d)
        gvs.append(gi * f)
    return ys, gus, gvs


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("row, params", _rows())
def test_every_output_within_its_stated_bound(row, params, dtype):
    u, v, g = _accuracy_inputs(row, dtype)
    ours = gated(row, u, v, g, **params)
    truths = _truths(row, u, v, g, params)
    bounds = row.bounds()
    for name, got, truth in zip(OUTPUTS, ours, truths, strict=True):
        errs = ulp_errors(got, truth, dtype)
        worst = int(np.argmax(errs))
        assert errs[worst] <= bounds[name] + ORACLE_RESOLUTION, (
            name,
            u[worst],
            v[worst],
            g[worst],
            errs[worst],
        )


# -------------------------------------------------------------------------- parity

torch = torch_module()
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _torch_gated(row, u, v, g, params):
    """PyTorch eager: F.glu, or the composition F.<activation>(u) * v, with autograd."""
    F = torch.nn.functional
    tu = torch.from_numpy(u.copy()).requires_grad_(True)
    tv = torch.from_numpy(v.copy()).requires_grad_(True)
    if row.torch_function == "glu":
        y = F.glu(torch.cat([tv, tu]), 0)
    else:
        y = getattr(F, row.activation)(tu, **params) * tv
    y.backward(torch.from_numpy(g.copy()))
    return y.detach().numpy(), tu.grad.numpy(), tv.grad.numpy()


def _special_grid(row, dtype):
    """Every combination of hard values of u (specials and kinks), v and grad_out."""
    u = np.concatenate([special_values(dtype), row.base.kinks_at({}), [-3.5, 2.25]])
    v = np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, np.finfo(dtype).tiny])
    g = np.array([1.0, -1.0, 0.0, -0.0, 3.0, np.nan])
    grid = np.meshgrid(u, v, g, indexing="ij")
    return [axis.ravel().astype(dtype) for axis in grid]


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("row, params", _rows())
def test_agrees_with_torch_at_every_hard_value(row, params, dtype):
    """On every combination of signed zeros, infinities, NaN, subnormals and kinks of u,
    v and grad_out, and on random values: zeros of PyTorch's sign, and values within a
    few ulps of PyTorch's, NaN and infinities where PyTorch's; where not, the oracle finds
    fastgrad within its bound and no further from the truth (PyTorch's silu(-inf) is
    NaN, its limit 0; its glu backward's s * (1 - s) cancels for large b; a zero's sign
    is the truth's where the truth underflowed)."""
    u, v, g = _special_grid(row, dtype)
    rng = np.random.default_rng(3)
    n = 5000
    u = np.concatenate([u, rng.uniform(-12, 12, n).astype(dtype)])
    v = np.concatenate([v, rng.standard_normal(n).astype(dtype)])
    g = np.concatenate([g, rng.standard_normal(n).astype(dtype)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = gated(row, u, v, g, **params)
    theirs = _torch_gated(row, u, v, g, params)
    for name, a, b in zip(OUTPUTS, ours, theirs, strict=True):
        signs = np.flatnonzero((a == 0) & (b == 0) & (np.signbit(a) != np.signbit(b)))
        if signs.size:  # a zero's sign: the truth's where it is not 0, else PyTorch's
            truth = _truths(row, u[signs], v[signs], g[signs], params)[OUTPUTS.index(name)]
            for i, t in zip(signs, truth, strict=True):
                want = bool(t < 0) if t != 0 else bool(np.signbit(b[i]))
                assert np.signbit(a[i]) == want, (name, u[i], v[i], g[i], a[i], b[i], t)
        apart = ~_agree(a, b, dtype) | (np.isinf(a) != np.isinf(b))
        if apart.any():  # the oracle decides: fastgrad within its bound, and closer
            truth = _truths(row, u[apart], v[apart], g[apart], params)[OUTPUTS.index(name)]
            ours_ulps, theirs_ulps = (ulp_errors(c[apart], truth, dtype) for c in (a, b))
            at = (u[apart], v[apart], g[apart], a[apart], b[apart])
            assert (ours_ulps <= row.bounds()[name] + ORACLE_RESOLUTION).all(), (name, *at)
            assert (ours_ulps <= theirs_ulps).all(), (name, *at)


# ------------------------------------------------------------------ packed layout


@pytest.mark.parametrize("name", [r.name for r in GATED if r.gate == GATE_FIRST])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_packed_equals_the_two_halves_bit_for_bit(name, dim):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 10)).astype(np.float32)
    a, b = np.split(x, 2, axis=dim)
    g = rng.standard_normal(a.shape).astype(np.float32)
    y = getattr(fg, name + "_packed")(x, dim)
    grad_x = getattr(fg, name + "_packed_backward")(g, x, dim)
    want_y = getattr(fg, name)(np.ascontiguousarray(a), np.ascontiguousarray(b))
    want = np.concatenate(getattr(fg, name + "_backward")(g, a, b), axis=dim)
    assert y.shape == a.shape and grad_x.shape == x.shape
    assert np.array_equal(y, want_y) and np.array_equal(grad_x, want)
    assert np.allclose(grad_x, getattr(fg.reference, name + "_packed_backward")(g, x, dim), 1e-5)


@needs_torch
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_is_torchs_along_any_dim(dim):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6, 8))
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    ty = torch.nn.functional.glu(tx, dim)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.from_numpy(g))
    assert np.allclose(fg.glu(x, dim), ty.detach().numpy(), rtol=1e-15, atol=0)
    assert np.allclose(fg.glu_backward(g, x, dim), tx.grad.numpy(), rtol=1e-15, atol=0)


def test_packed_halves_of_a_strided_array_are_read_where_they_lie():
    rng = np.random.default_rng(4)
    big = rng.standard_normal((64, 300)).astype(np.float32)
    x = big[:, 10:210]  # rows 300 apart: copied to C order, the result the same
    want = fg.swiglu_packed(np.ascontiguousarray(x))
    assert np.array_equal(fg.swiglu_packed(x), want)
    assert np.array_equal(fg.swiglu_packed(x[::-1])[::-1], want)


# ------------------------------------------------------------------ out= and aliasing


def _arrays(n=1000, dtype=np.float32, seed=5):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(3)]


@pytest.mark.parametrize("name", ["swiglu", "geglu", "reglu"])
def test_backward_in_place_over_its_inputs(name):
    a, b, g = _arrays()
    want = getattr(fg, name + "_backward")(g, a, b)
    ga, gb = a.copy(), b.copy()
    got = getattr(fg, name + "_backward")(g, ga, gb, out=(ga, gb))
    assert got[0] is ga and got[1] is gb
    assert np.array_equal(ga, want[0]) and np.array_equal(gb, want[1])
    # swapped: grad_a over b, grad_b over a; into grad_out
    ga, gb = a.copy(), b.copy()
    getattr(fg, name + "_backward")(g, ga, gb, out=(gb, ga))
    assert np.array_equal(gb, want[0]) and np.array_equal(ga, want[1])
    g2 = g.copy()
    out_b = np.empty_like(a)
    getattr(fg, name + "_backward")(g2, a, b, out=(g2, out_b))
    assert np.array_equal(g2, want[0]) and np.array_equal(out_b, want[1])


def test_packed_backward_in_place_over_x():
    rng = np.random.default_rng(6)
    for name in ("swiglu_packed", "glu"):
        x = rng.standard_normal((256, 512)).astype(np.float32)
        g = rng.standard_normal((256, 256)).astype(np.float32)
        want = getattr(fg, name + "_backward")(g, x)
        got = getattr(fg, name + "_backward")(g, x, out=x)
        assert got is x and np.array_equal(x, want)


def test_forward_into_either_input_and_partial_overlaps_as_if_through_a_temporary():
    a, b, _ = _arrays()
    want = fg.swiglu(a, b)
    for which in (0, 1):
        ins = [a.copy(), b.copy()]
        fg.swiglu(ins[0], ins[1], out=ins[which])
        assert np.array_equal(ins[which], want)
    for shift in (1, -1):  # out before a in memory (reads ahead of writes), and after
        buf = np.concatenate([a, [0.0]]).astype(np.float32)
        shifted_a, out = (buf[1:], buf[:-1]) if shift == 1 else (buf[:-1], buf[1:])
        want_shifted = fg.swiglu(shifted_a.copy(), b)
        fg.swiglu(shifted_a, b, out=out)
        assert np.array_equal(out, want_shifted), shift
    x = np.stack([a, b])
    want = fg.glu(x, 0)
    fg.glu(x, 0, out=x[:1])  # the first half is v: written in place, row by row
    assert np.array_equal(x[:1], want)


def test_strided_float16_and_byteswapped_out():
    a, b, g = _arrays(2000)
    want = fg.swiglu(a, b)
    strided = np.zeros(4000, np.float32)[::2]
    assert fg.swiglu(a, b, out=strided) is strided and np.array_equal(strided, want)
    swapped = np.zeros(2000, np.dtype(">f4"))
    fg.swiglu(a, b, out=swapped)
    assert np.array_equal(swapped.astype(np.float32), want)
    h = fg.swiglu(a.astype(np.float16), b.astype(np.float16))
    assert h.dtype == np.float16
    want16 = fg.swiglu(
        a.astype(np.float16).astype(np.float32), b.astype(np.float16).astype(np.float32)
    )
    assert np.array_equal(h, want16.astype(np.float16))
    ga, gb = fg.swiglu_backward(g.astype(np.float16), a.astype(np.float16), b.astype(np.float16))
    assert ga.dtype == gb.dtype == np.float16


def test_dtype_policy_is_numpys():
    a = np.arange(-3, 3, dtype=np.int8)
    assert fg.swiglu(a, a).dtype == np.float16  # as np.exp
    assert fg.swiglu(a.astype(np.float32), a.astype(np.float64)).dtype == np.float64
    assert fg.swiglu([1.0, 2.0], [3.0, 4.0]).dtype == np.float64
    ga, gb = fg.swiglu_backward(1.0, np.ones(3, np.float32), np.ones(3, np.float32))
    assert ga.dtype == np.float32 and np.array_equal(gb, fg.silu(np.ones(3, np.float32)))


def test_inputs_are_never_written():
    a, b, g = _arrays()
    copies = [a.copy(), b.copy(), g.copy()]
    fg.swiglu(a, b)
    fg.swiglu_backward(g, a, b)
    fg.geglu_packed_backward(g[:500], a)
    for arr, copy in zip((a, b, g), copies, strict=True):
        assert np.array_equal(arr, copy)


def test_empty_arrays():
    e = np.zeros((0, 4), np.float32)
    assert fg.swiglu(e, e).shape == (0, 4)
    assert fg.glu(e).shape == (0, 2)
    assert [x.shape for x in fg.reglu_backward(e, e, e)] == [(0, 4), (0, 4)]


# ------------------------------------------------------------------------- errors


def test_bad_arguments_raise_before_anything_is_written():
    a, b, g = _arrays()
    out = np.full_like(a, 7.0)
    cases = [
        (ValueError, "same shape", lambda: fg.swiglu(a, b[:10])),
        (ValueError, "must be even", lambda: fg.glu(np.ones((3, 5)))),
        (ValueError, "at least one dimension", lambda: fg.glu(np.float64(1.0))),
        (np.exceptions.AxisError, "dim", lambda: fg.glu(np.ones((3, 4)), 2)),
        (TypeError, "dim must be an integer", lambda: fg.glu(np.ones((3, 4)), 1.0)),
        (ValueError, "approximate must be one of", lambda: fg.geglu(a, b, "erf")),
        (
            TypeError,
            "unexpected keyword argument 'approximate'",
            lambda: fg.swiglu(a, b, approximate="tanh"),
        ),
        (ValueError, "accuracy must be one of", lambda: fg.swiglu(a, b, accuracy="fastest")),
        (TypeError, "dtype", lambda: fg.swiglu(a, b, out=np.zeros_like(a, np.float64))),
        (ValueError, "shape", lambda: fg.swiglu(a, b, out=np.zeros(5, np.float32))),
        (TypeError, "pair", lambda: fg.swiglu_backward(g, a, b, out=out)),
        (ValueError, "must not overlap", lambda: fg.swiglu_backward(g, a, b, out=(out, out))),
        (ValueError, "grad_out", lambda: fg.swiglu_backward(g[:7], a, b)),
        (TypeError, "dtype", lambda: fg.swiglu(a.astype(complex), b)),
        (ValueError, "read-only", lambda: fg.swiglu(a, b, out=np.broadcast_to(out, out.shape))),
    ]
    for error, words, call in cases:
        with pytest.raises(error, match=words):
            call()
        assert (out == 7.0).all()


# ----------------------------------------------------------------- threads, memory


def test_thread_count_changes_no_bit():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1031, 2 * 1021)).astype(np.float32)  # rows cut by chunks
    g = rng.standard_normal((1031, 1021)).astype(np.float32)
    a, b = np.ascontiguousarray(x[:, :1021]), np.ascontiguousarray(x[:, 1021:])
    previous = fg.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            fg.set_num_threads(threads)
            results.append(
                [
                    fg.geglu_packed(x),
                    fg.geglu_packed_backward(g, x),
                    fg.glu_backward(g, x),
                    *fg.swiglu_backward(g, a, b),
                    fg.reglu(a, b),
                ]
            )
    finally:
        fg.set_num_threads(previous)
    for other in results[1:]:
        for want, got in zip(results[0], other, strict=True):
            assert np.array_equal(want, got)


def test_backward_allocates_only_its_outputs():
    """tracemalloc counts NumPy's allocations: the backward's peak is its two outputs
    (none with out= over its inputs), where PyTorch's autograd allocates intermediates."""
    n = 1 << 20
    a, b, g = _arrays(n)
    fg.swiglu_backward(g, a.copy(), b.copy(), out=(a.copy(), b.copy()))  # compiled, threads
    fg.swiglu_backward(g, a, b)  # started: before measuring
    tracemalloc.start()
    try:
        peaks = []
        for out in (None, (a, b)):
            # the growth over what is held when the call starts (a helper thread may
            # still hold the previous call's arrays for a moment after it returned)
            tracemalloc.reset_peak()
            held, _ = tracemalloc.get_traced_memory()
            fg.swiglu_backward(g, a, b, out=out)
            peaks.append(tracemalloc.get_traced_memory()[1] - held)
    finally:
        tracemalloc.stop()
    outputs = 2 * n * 4
    assert outputs <= peaks[0] < outputs + 64 * 1024
    assert peaks[1] < 64 * 1024


def test_table_rows_name_activations_of_the_main_table():
    for row in GATED:
        assert row.base.name == row.activation
        assert GATED_BY_NAME[row.name] is row
        assert set(row.bounds()) == {"forward", "grad_u", "grad_v"}


@pytest.mark.parametrize(
    "name", [row.name + form.suffix for row in GATED for form in forms_of(row)]
)
def test_docstring_states_the_math_and_its_example_runs(name):
    fn = getattr(fg, name)
    row = GATED_BY_NAME[name.split("_")[0]]
    doc = fn.__doc__
    assert f"fastgrad.{row.activation}" in doc and "Accuracy" in doc and "grad_out *" in doc
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner()
    test = parser.get_doctest(doc, {}, name, None, 0)
    assert test.examples and runner.run(test).failed == 0


# --------------------------------------------------------------------------- @njit


@pytest.mark.parametrize("row, params", _rows())
def test_njit_forms_are_the_python_calls_bit_for_bit(row, params, dtype=np.float32):
    """(float32: the float64 code is the same loops, typed for float64; each case
    compiles a jitted function for some seconds)"""
    numba = pytest.importorskip("numba")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 8)).astype(dtype)
    g = rng.standard_normal((6, 4)).astype(dtype)
    name = row.name
    approximate = params.get("approximate", "none")
    keywords = params
    if row.gate == GATE_FIRST:
        a, b = np.ascontiguousarray(x[:, :4]), np.ascontiguousarray(x[:, 4:])
        if row.variant:

            @numba.njit
            def jitted(a, b, g, x):
                return (
                    fg.geglu(a, b, approximate=approximate),
                    fg.geglu_backward(g, a, b, approximate=approximate),
                    fg.geglu_packed(x, -1, approximate=approximate),
                    fg.geglu_packed_backward(g, x, 1, approximate=approximate),
                    fg.geglu(a[0, 0], b[0, 0], approximate=approximate),
                )

        else:
            f, f_bwd = getattr(fg, name), getattr(fg, name + "_backward")
            packed, packed_bwd = (
                getattr(fg, name + "_packed"),
                getattr(fg, name + "_packed_backward"),
            )

            @numba.njit
            def jitted(a, b, g, x):
                return (
                    f(a, b),
                    f_bwd(g, a, b),
                    packed(x, -1),
                    packed_bwd(g, x, 1),
                    f(a[0, 0], b[0, 0]),
                )

        y, (ga, gb), yp, gxp, scalar = jitted(a, b, g, x)
        assert np.array_equal(y, getattr(fg, name)(a, b, **keywords))
        want_a, want_b = getattr(fg, name + "_backward")(g, a, b, **keywords)
        assert np.array_equal(ga, want_a) and np.array_equal(gb, want_b)
        assert np.array_equal(yp, getattr(fg, name + "_packed")(x, **keywords))
        assert np.array_equal(gxp, getattr(fg, name + "_packed_backward")(g, x, **keywords))
        assert scalar == getattr(fg, name)(a[:1, :1], b[:1, :1], **keywords)[0, 0]
    else:

        @numba.njit
        def jitted(g, x):
            return fg.glu(x), fg.glu_backward(g, x, -1)

        y, gx = jitted(g, x)
        assert np.array_equal(y, fg.glu(x)) and np.array_equal(gx, fg.glu_backward(g, x))


def test_njit_out_in_place_and_constant_keywords():
    numba = pytest.importorskip("numba")
    a, b, g = _arrays(64)
    want = fg.swiglu_backward(g, a, b)

    @numba.njit
    def in_place(g, a, b):
        fg.swiglu_backward(g, a, b, out=(a, b))

    ga, gb = a.copy(), b.copy()
    in_place(g, ga, gb)
    assert np.array_equal(ga, want[0]) and np.array_equal(gb, want[1])

    @numba.njit
    def runtime_string(a, b, how):
        return fg.geglu(a, b, approximate=how)

    with pytest.raises(numba.core.errors.TypingError, match="string constant"):
        runtime_string(a, b, "tanh")


def test_a_grad_out_inside_out_is_read_as_if_copied_first_along_any_dim():
    """grad_out lying in out's memory is copied before the kernel writes out; the copy's
    rows are the packed halves' rows (along dim 1 of a 3-D x: 30 elements, not x's last
    axis's 10; the old code read the copy with rows 10 apart)."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 6, 10)).astype(np.float32)
    for dim in (0, 1, 2):
        half_shape = list(x.shape)
        half_shape[dim] //= 2
        memory = np.zeros(x.size, np.float32)
        out = memory.reshape(x.shape)
        g = memory[: x.size // 2].reshape(half_shape)
        g[...] = rng.standard_normal(half_shape).astype(np.float32)
        want = fg.swiglu_packed_backward(g.copy(), x, dim)
        assert fg.swiglu_packed_backward(g, x, dim, out=out) is out
        assert np.array_equal(out, want), dim
