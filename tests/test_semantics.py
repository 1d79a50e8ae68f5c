"""Array semantics as NumPy users expect: shapes, strides, dtypes, out=, bad input."""

import re
import tracemalloc

import numpy as np
import pytest

import fastgrad as fg
from fastgrad import _arrays
from fastgrad._table import TABLE

from .conftest import cases, public

ACTS = [pytest.param(a, id=a.name) for a in TABLE]


def expected(act, x, suffix=""):
    """The result computed on a fresh contiguous float64/float32 copy."""
    return public(act, suffix)(np.ascontiguousarray(x))


@pytest.mark.parametrize("act", ACTS)
def test_shapes(act):
    for shape in [(), (0,), (3, 0), (7,), (2, 3), (2, 3, 4)]:
        x = np.linspace(-3, 3, int(np.prod(shape))).reshape(shape)
        for suffix in ("", "_grad"):
            y = public(act, suffix)(x)
            assert np.shape(y) == shape
        assert public(act, "_backward")(np.ones(shape), x).shape == shape
        y, d = public(act, "_fwd_grad")(x)
        assert np.shape(y) == np.shape(d) == shape


@pytest.mark.parametrize("act", ACTS)
def test_zero_d_gives_a_numpy_scalar_like_ufuncs(act):
    y = public(act)(np.float32(0.5))
    assert isinstance(y, np.float32)
    y = public(act)(0.5)
    assert isinstance(y, np.float64)


@pytest.mark.parametrize("act", ACTS)
def test_any_strides(act):
    base = np.linspace(-4, 4, 240).reshape(12, 20)
    views = [base[::2, ::3], base[::-1], base.T, np.asfortranarray(base), base[:, 5]]
    for v in views:
        for suffix in ("", "_grad"):
            y = public(act, suffix)(v)
            assert y.shape == v.shape
            np.testing.assert_array_equal(y, expected(act, v, suffix))
        g = np.ones_like(v)
        np.testing.assert_array_equal(public(act, "_backward")(g, v), expected(act, v, "_grad"))


@pytest.mark.parametrize("act", ACTS)
def test_dtype_policy(act):
    f = public(act)
    x32 = np.linspace(-3, 3, 11, dtype=np.float32)
    assert f(x32).dtype == np.float32
    assert f(x32.astype(np.float64)).dtype == np.float64
    y16 = f(x32.astype(np.float16))
    assert y16.dtype == np.float16
    np.testing.assert_array_equal(
        y16, f(x32.astype(np.float16).astype(np.float32)).astype(np.float16)
    )
    for x in (
        np.arange(-3, 4),
        np.arange(-3, 4, dtype=np.int8),
        np.array([True, False]),
        np.arange(4, dtype=np.uint16),
        np.arange(-3, 4, dtype=np.int32),
    ):
        y = f(x)
        assert y.dtype == np.exp(x).dtype  # NumPy's: int8/bool float16, int16 float32
        np.testing.assert_array_equal(y, f(x.astype(y.dtype)))
    assert f([1, 2, 3]).dtype == np.float64
    assert f(x32.astype(">f4")).dtype == np.float32  # non-native byte order


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize(
    "bad",
    [
        np.array([1 + 2j]),
        np.array([object()]),
        np.array(["a"]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.array([1], dtype=np.longdouble)
        if np.dtype(np.longdouble).itemsize > 8
        else np.array([1j]),
    ],
    ids=["complex", "object", "str", "datetime", "longdouble"],
)
def test_unsupported_dtypes_raise_typeerror_naming_the_dtype(act, bad):
    with pytest.raises(TypeError, match=re.escape(str(bad.dtype))):
        public(act)(bad)
    with pytest.raises(TypeError, match=re.escape(str(bad.dtype))):
        public(act, "_backward")(np.ones(1), bad)


@pytest.mark.parametrize("act", ACTS)
def test_out(act):
    x = np.linspace(-3, 3, 50)
    out = np.empty_like(x)
    assert public(act)(x, out=out) is out
    np.testing.assert_array_equal(out, public(act)(x))
    y, d = np.empty_like(x), np.empty_like(x)
    assert public(act, "_fwd_grad")(x, out=(y, d)) == (y, d)
    np.testing.assert_array_equal(d, public(act, "_grad")(x))
    # a strided out and a float16 out
    big = np.zeros(100)
    public(act)(x, out=big[::2])
    np.testing.assert_array_equal(big[::2], public(act)(x))
    assert np.all(big[1::2] == 0)
    x16 = x.astype(np.float16)
    out16 = np.empty_like(x16)
    public(act, "_grad")(x16, out=out16)
    np.testing.assert_array_equal(out16, public(act, "_grad")(x16))


@pytest.mark.parametrize("act", ACTS)
def test_in_place(act):
    x = np.linspace(-3, 3, 50)
    for suffix in ("", "_grad"):
        y = x.copy()
        assert public(act, suffix)(y, out=y) is y
        np.testing.assert_array_equal(y, public(act, suffix)(x))
    g = np.linspace(2, 1, 50)
    want = public(act, "_backward")(g, x)
    for target in ("g", "x"):
        gg, xx = g.copy(), x.copy()
        out = gg if target == "g" else xx
        public(act, "_backward")(gg, xx, out=out)
        np.testing.assert_array_equal(out, want)
    xx, d = x.copy(), np.empty_like(x)
    public(act, "_fwd_grad")(xx, out=(xx, d))
    np.testing.assert_array_equal(xx, public(act)(x))
    np.testing.assert_array_equal(d, public(act, "_grad")(x))
    xx, y = x.copy(), np.empty_like(x)
    public(act, "_fwd_grad")(xx, out=(y, xx))
    np.testing.assert_array_equal(y, public(act)(x))
    np.testing.assert_array_equal(xx, public(act, "_grad")(x))


@pytest.mark.parametrize("act", ACTS)
def test_partial_overlap_behaves_like_numpy(act):
    # out is x shifted by one element: NumPy semantics are "as if computed into a temporary"
    x = np.linspace(-3, 3, 51)
    buf = x.copy()
    want = public(act)(buf[1:])
    public(act)(buf[1:], out=buf[:-1])
    np.testing.assert_array_equal(buf[:-1], want)
    buf = x.copy()
    g = np.ones(50)
    want = public(act, "_backward")(g, buf[:-1])
    public(act, "_backward")(g, buf[:-1], out=buf[1:])
    np.testing.assert_array_equal(buf[1:], want)
    # same memory through another view object: the one-array kernel, same result
    buf = x.copy()
    want = public(act)(x)
    public(act)(buf, out=buf.view())
    np.testing.assert_array_equal(buf, want)


@pytest.mark.parametrize("act", ACTS)
def test_read_only_and_broadcast_inputs(act):
    x = np.linspace(-3, 3, 10)
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(public(act)(ro), public(act)(x))
    np.testing.assert_array_equal(public(act, "_backward")(ro, ro), public(act, "_backward")(x, x))
    b = np.broadcast_to(np.float32(2.0), (4, 3))
    np.testing.assert_array_equal(
        public(act, "_grad")(b), public(act, "_grad")(np.full((4, 3), 2.0, np.float32))
    )


@pytest.mark.parametrize("act", ACTS)
def test_inputs_are_never_modified(act):
    x = np.linspace(-3, 3, 50)
    g = np.linspace(1, 2, 50)
    x0, g0 = x.copy(), g.copy()
    public(act)(x)
    public(act, "_grad")(x)
    public(act, "_backward")(g, x)
    public(act, "_fwd_grad")(x)
    public(act, "_backward")(g, x, out=np.empty_like(x))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, g0)


@pytest.mark.parametrize("act", ACTS)
def test_bad_out_raises_before_writing(act):
    x = np.linspace(-3, 3, 10)
    cases_ = [
        (np.zeros(10, np.float32), TypeError, "dtype"),
        (np.zeros(11), ValueError, "shape"),
        (np.zeros((10, 1)), ValueError, "shape"),
        ([0.0] * 10, TypeError, "ndarray"),
    ]
    ro = np.zeros(10)
    ro.flags.writeable = False
    cases_.append((ro, ValueError, "read-only"))
    for out, exc, match in cases_:
        before = np.array(out, copy=True)
        with pytest.raises(exc, match=match):
            public(act)(x, out=out)
        with pytest.raises(exc, match=match):
            public(act, "_backward")(x, x, out=out)
        np.testing.assert_array_equal(np.asarray(out), before)
    with pytest.raises(TypeError, match="pair"):
        public(act, "_fwd_grad")(x, out=np.zeros(10))
    y = np.zeros(10)
    with pytest.raises(ValueError, match="overlap"):
        public(act, "_fwd_grad")(x, out=(y, y))
    shared = np.zeros(15)  # partly overlapping outputs: refused before anything is written
    for pair in ((shared[:10], shared[5:]), (shared[:10].reshape(2, 5), shared[5:].reshape(2, 5))):
        with pytest.raises(ValueError, match="overlap"):
            public(act, "_fwd_grad")(x.reshape(pair[0].shape), out=pair)
        assert not shared.any()
    d = np.zeros(11)
    with pytest.raises(ValueError, match="shape"):
        public(act, "_fwd_grad")(x, out=(y, d))
    assert np.all(y == 0)


@pytest.mark.parametrize("act", ACTS)
def test_backward_shapes_and_dtypes(act):
    x = np.linspace(-3, 3, 10)
    with pytest.raises(ValueError, match="broadcastable shapes"):
        public(act, "_backward")(np.ones(9), x)
    with pytest.raises(ValueError, match="broadcastable shapes"):
        public(act, "_backward")(np.ones((10, 2)), x)
    r = public(act, "_backward")(np.ones(10, np.float32), x.astype(np.float32))
    assert r.dtype == np.float32
    r = public(act, "_backward")(np.ones(10, np.float32), x)
    assert r.dtype == np.float64
    r = public(act, "_backward")(np.ones(10, np.float16), x.astype(np.float16))
    assert r.dtype == np.float16


def test_unknown_and_invalid_parameters():
    x = np.linspace(-1, 1, 5)
    with pytest.raises(TypeError, match="no parameters"):
        fg.relu(x, alpha=1.0)
    with pytest.raises(TypeError, match="beta, threshold"):
        fg.softplus(x, alpha=1.0)
    with pytest.raises(ValueError, match="non-zero"):
        fg.softplus(x, beta=0.0)
    with pytest.raises(ValueError, match="beta"):
        fg.softplus(x, beta=np.inf)
    with pytest.raises(TypeError, match="beta"):
        fg.softplus(x, beta="2")
    with pytest.raises(ValueError, match="threshold"):
        fg.softplus(x, threshold=np.nan)
    x32 = x.astype(np.float32)
    for bad in (dict(beta=1e39), dict(beta=1e-50), dict(threshold=-1e39)):
        with pytest.raises(ValueError, match="not representable in float32"):
            fg.softplus(x32, **bad)
        fg.softplus(x, **bad)  # fine in float64


@pytest.mark.parametrize(
    "name, params, error, message",
    [
        ("celu", dict(alpha=0.0), ValueError, "alpha must be non-zero"),
        ("celu", dict(alpha=np.inf), ValueError, "alpha must be a finite"),
        ("hardtanh", dict(min_val=1.0, max_val=-1.0), ValueError, "min_val .* greater than"),
        ("hardtanh", dict(min_val=2.0), ValueError, "min_val .* greater than"),
        ("softshrink", dict(lambd=-0.1), ValueError, "lambd must be >= 0"),
        ("gelu", dict(approximate="fast"), ValueError, "approximate must be one of 'none', 'tanh'"),
        ("gelu", dict(approximate=None), ValueError, "approximate must be one of"),
        ("leaky_relu", dict(negative_slope=np.nan), ValueError, "negative_slope"),
        ("elu", dict(alpha="1"), TypeError, "alpha must be a real number"),
        ("threshold", dict(threshold=1.0), TypeError, "missing required parameter.*value"),
        ("threshold", {}, TypeError, "missing required parameter.*threshold, value"),
        ("selu", dict(alpha=1.0), TypeError, "no parameters"),
        ("hardshrink", dict(lam=1.0), TypeError, "its parameters are lambd"),
    ],
)
def test_invalid_parameters_raise_before_anything_is_written(name, params, error, message):
    x = np.linspace(-3, 3, 7)
    g = np.ones_like(x)
    for suffix, args in (("", (x,)), ("_grad", (x,)), ("_backward", (g, x)), ("_fwd_grad", (x,))):
        out = (np.full(7, 7.0), np.full(7, 7.0)) if suffix == "_fwd_grad" else np.full(7, 7.0)
        with pytest.raises(error, match=message):
            getattr(fg, name + suffix)(*args, out=out, **params)
        assert np.all(np.asarray(out) == 7.0)


def test_remembered_parameters_are_still_validated_by_type_and_dtype():
    """The fast path remembers validated keyword sets: 1.0 accepted must not let True
    (equal and hashing alike) through, nor a float64-only value into float32."""
    x = np.linspace(-3, 3, 7)
    fg.elu(x, alpha=1.0)
    fg.elu(x, alpha=1)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        fg.elu(x, alpha=True)
    fg.elu(x, alpha=1e39)
    with pytest.raises(ValueError, match="not representable in float32"):
        fg.elu(x.astype(np.float32), alpha=1e39)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        fg.elu(x, alpha=[1.0])  # unhashable: the general path validates it
    np.testing.assert_array_equal(fg.elu(x, alpha=2.0), fg.reference.elu(x, alpha=2.0))
    # 0.0 and -0.0 are equal but different values: each call keeps its own sign
    for value in (0.0, -0.0, 0.0):
        y = fg.threshold(x, threshold=1.0, value=value)
        assert np.all(np.signbit(y[x <= 1.0]) == np.signbit(value))


def test_parameters_with_pytorch_names_and_defaults():
    """Keyword names and defaults as in torch.nn.functional (threshold: both required),
    then fastgrad's own ``accuracy=None`` (the process-wide level), last."""
    import inspect

    expected = {
        "leaky_relu": {"negative_slope": 0.01},
        "hardtanh": {"min_val": -1.0, "max_val": 1.0},
        "threshold": {"threshold": inspect.Parameter.empty, "value": inspect.Parameter.empty},
        "elu": {"alpha": 1.0},
        "celu": {"alpha": 1.0},
        "gelu": {"approximate": "none"},
        "softplus": {"beta": 1.0, "threshold": None},
        "softshrink": {"lambd": 0.5},
        "hardshrink": {"lambd": 0.5},
    }
    for act in fg.TABLE:
        for suffix in ("", "_grad", "_backward", "_fwd_grad"):
            sig = inspect.signature(getattr(fg, act.name + suffix)).parameters
            kw = {
                n: p.default
                for n, p in sig.items()
                if n not in ("x", "grad_out", "out", "where", "dtype")
            }
            assert kw == {**expected.get(act.name, {}), "accuracy": None}, act.name + suffix
            assert list(kw)[-1] == "accuracy"


def test_changing_a_parameter_value_compiles_nothing():
    from fastgrad._kernels import kernel_set

    x = np.linspace(-3, 3, 50)
    for name, values in (
        ("celu", [dict(alpha=a) for a in (0.5, 2.0, -1.0)]),
        ("hardtanh", [dict(min_val=a, max_val=a + 1) for a in (-2.0, 0.0, 3.0)]),
        ("threshold", [dict(threshold=a, value=-a) for a in (-1.0, 0.5, 2.0)]),
        ("gelu", [dict(approximate=a) for a in ("none", "tanh", "none")]),
    ):
        act = fg.TABLE[[a.name for a in fg.TABLE].index(name)]
        getattr(fg, name)(x, **values[0])
        sets = [kernel_set(act, np.float64, v) for v in act.maths()]
        before = [len(k.dispatcher("forward", False).signatures) for k in sets]
        for params in values:
            getattr(fg, name)(x, **params)
        assert [len(k.dispatcher("forward", False).signatures) for k in sets] == before


@pytest.mark.parametrize("act, params", cases())
def test_no_floating_point_warnings_for_any_input(act, params):
    # pytest turns warnings into errors (pyproject); errstate makes NumPy raise as well.
    from .conftest import special_values

    for dtype in (np.float16, np.float32, np.float64):
        x = special_values(dtype)
        with np.errstate(all="raise"):
            public(act)(x, **params)
            public(act, "_grad")(x, **params)
            public(act, "_backward")(x, x, **params)
            public(act, "_fwd_grad")(x, **params)


def test_threads():
    n = fg.get_num_threads()
    assert n >= 1
    fg.set_num_threads(1)
    try:
        assert fg.get_num_threads() == 1
    finally:
        fg.set_num_threads(n)
    with pytest.raises(ValueError):
        fg.set_num_threads(0)
    with pytest.raises(TypeError):
        fg.set_num_threads(1.5)


@pytest.mark.parametrize("act", ACTS)
def test_grad_out_broadcasts_as_numpy_does(act):
    """A scalar or smaller grad_out (or x) is repeated, NumPy's rule: the result is the
    one of the broadcast arrays, bit for bit, and out= takes the broadcast shape."""
    backward = public(act, "_backward")
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    full = backward(np.full_like(x, 0.5), x)
    np.testing.assert_array_equal(backward(0.5, x), full)
    np.testing.assert_array_equal(backward(np.full(4, 0.5), x), full)
    g = np.linspace(-1, 1, 3).reshape(3, 1)
    np.testing.assert_array_equal(
        backward(g, x[0]), backward(np.broadcast_to(g, (3, 4)), np.tile(x[0], (3, 1)))
    )
    out = np.empty((3, 4))
    assert backward(0.5, x, out=out) is out
    np.testing.assert_array_equal(out, full)
    y = np.float32(2.0)
    assert backward(np.ones(5, np.float32), y).shape == (5,)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_one_element_grad_out_is_never_expanded_to_x_size(threads):
    """``f_backward(1.0, x)`` as NumPy's ``1.0 * d`` allocates nothing of x's size: the
    one value is repeated a block at a time. The same bits as the expanded grad_out, for
    a Python number, a NumPy scalar, a 0-d and a (1, 1) array, in place, into an ``out``
    that partly overlaps x, for the zero-selecting kinds (relu: +0.0 for g < 0), and for
    float16 (which expands, as its blocks take whole arrays)."""
    x = np.random.default_rng(2).standard_normal((1 << 10, 1 << 10)).astype(np.float32)
    before = fg.get_num_threads()
    try:
        fg.set_num_threads(threads)
        for name in ("gelu_backward", "relu_backward", "sigmoid_backward_from_output"):
            fn = getattr(fg, name)
            want = fn(np.full_like(x, -0.5), x)
            for g in (-0.5, np.float32(-0.5), np.array(-0.5, np.float32)):
                got = fn(g, x)
                assert got.shape == x.shape and got.dtype == x.dtype
                assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), (name, g)
            wide = fn(np.array([[-0.5]], np.float32), x[0])  # (1, 1) with (1024,): (1, 1024)
            assert wide.shape == (1, 1024) and np.array_equal(wide[0], want[0])
            inplace = x.copy()
            fn(-0.5, inplace, out=inplace)
            assert np.array_equal(inplace, want)
            buf = np.zeros(x.size + 1, np.float32)
            buf[:-1] = x.ravel()
            fn(-0.5, buf[:-1].reshape(x.shape), out=buf[1:].reshape(x.shape))
            assert np.array_equal(buf[1:], want.ravel())
        out = np.empty_like(x)
        fg.gelu_backward(1.0, x, out=out)
        tracemalloc.start()
        try:
            fg.gelu_backward(1.0, x, out=out)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < x.nbytes / 4, peak  # blocks of 2^16 float32 per thread: 256 KiB each
        half = x[:4].astype(np.float16)
        assert np.array_equal(
            fg.gelu_backward(0.5, half), fg.gelu_backward(np.full_like(half, 0.5), half)
        )
    finally:
        fg.set_num_threads(before)


def test_an_out_the_kernel_cannot_write_is_filled_in_blocks_not_through_a_whole_temporary():
    """A strided, float16 or byte-swapped ``out=`` is written a block of rows at a time
    (``_arrays.OUT_BLOCK`` elements): the same bits as the plain call, for one-output and
    pair kinds, a one-element grad_out, rows longer than a block; an out that may
    overlap an input still goes through a whole temporary (NumPy's rule: as if computed
    first)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1 << 11, 1 << 11)).astype(np.float32)  # 4 blocks of rows
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), np.float32)
    out, other = wide[:, ::2], wide[:, 1::2]
    fg.gelu(x, out=out)
    assert np.array_equal(out, fg.gelu(x))
    tracemalloc.start()
    try:
        fg.gelu(x, out=out)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 4 * _arrays.OUT_BLOCK + (1 << 16) < x.nbytes / 3, peak  # was x.nbytes
    g = rng.standard_normal(x.shape).astype(np.float32)
    fg.silu_backward(g, x, out=out)
    assert np.array_equal(out, fg.silu_backward(g, x))
    fg.relu_backward(-0.5, x, out=out)
    assert np.array_equal(out.view(np.uint32), fg.relu_backward(-0.5, x).view(np.uint32))
    fg.tanh_fwd_grad(x, out=(out, other))
    y, d = fg.tanh_fwd_grad(x)
    assert np.array_equal(out, y) and np.array_equal(other, d)
    swapped = np.zeros(x.shape, ">f4")
    assert np.array_equal(fg.sigmoid(x, out=swapped), fg.sigmoid(x))
    half = x.astype(np.float16)
    half_out = np.zeros((x.shape[0], 2 * x.shape[1]), np.float16)[:, ::2]
    assert np.array_equal(fg.mish(half, out=half_out), fg.mish(half))
    long_rows = rng.standard_normal((2, _arrays.OUT_BLOCK + 5)).astype(np.float32)
    strided = np.zeros((2, 2 * long_rows.shape[1]), np.float32)[:, ::2]
    assert np.array_equal(fg.elu(long_rows, out=strided, alpha=0.5), fg.elu(long_rows, alpha=0.5))
    flat = np.linspace(-4, 4, 3 * _arrays.OUT_BLOCK + 1).astype(np.float32)
    want = fg.gelu(flat)
    fg.gelu(flat, out=flat[::-1])  # overlaps its input backwards
    assert np.array_equal(flat[::-1], want)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_grad_out_that_tiles_x_is_never_expanded_to_x_size(threads):
    """A grad_out of x's trailing axes (a row against a matrix, as NumPy broadcasts it)
    is repeated a block at a time: the same bits as the expanded array, without an
    array of x's size; in place too. A grad_out broadcast otherwise (a column) is
    expanded, as before."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1 << 12, 1 << 10)).astype(np.float32)
    before = fg.get_num_threads()
    try:
        fg.set_num_threads(threads)
        for g in (
            rng.standard_normal(x.shape[1]).astype(np.float32),
            rng.standard_normal((1, x.shape[1])).astype(np.float32),
            rng.standard_normal((x.shape[0], 1)).astype(np.float32),
        ):
            expanded = np.ascontiguousarray(np.broadcast_to(g, x.shape))
            for name in ("gelu_backward", "relu_backward", "tanh_backward_from_output"):
                fn = getattr(fg, name)
                want = fn(expanded, x)
                assert np.array_equal(fn(g, x).view(np.uint32), want.view(np.uint32))
                inplace = x.copy()
                fn(g, inplace, out=inplace)
                assert np.array_equal(inplace, want)
        row = rng.standard_normal(x.shape[1]).astype(np.float32)
        strided = np.zeros((x.shape[0], 2 * x.shape[1]), np.float32)[:, ::2]  # out in blocks
        fg.gelu_backward(row, x, out=strided)
        want = fg.gelu_backward(np.ascontiguousarray(np.broadcast_to(row, x.shape)), x)
        assert np.array_equal(strided, want)
        out = np.empty_like(x)
        fg.silu_backward(row, x, out=out)
        tracemalloc.start()
        try:
            fg.silu_backward(row, x, out=out)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < x.nbytes / 3, peak  # one buffer of 2^20 float32 elements (4 MiB)
    finally:
        fg.set_num_threads(before)
