"""NumPy's ufunc behaviour for what is not a plain ndarray (``fastgrad._protocol``):
pandas objects, masked arrays, ndarray subclasses, duck arrays with ``__array_ufunc__``,
and the ufunc keywords ``where=`` and ``dtype=``; each against what ``np.exp`` (a real
ufunc) does with the same object."""

import numpy as np
import pytest

import fastgrad as fg

pd = pytest.importorskip("pandas")

X = np.array([-3.0, -0.5, 0.0, 1.5, 4.0])


def test_pandas_series_and_dataframes_keep_their_labels():
    s = pd.Series(X.astype(np.float32), index=list("abcde"), name="h")
    y = fg.gelu(s)
    assert isinstance(y, pd.Series) and y.name == "h" and list(y.index) == list("abcde")
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.to_numpy(), fg.gelu(X.astype(np.float32)))
    like = np.exp(s)  # what a ufunc gives: the same type, labels and dtype
    assert type(y) is type(like) and y.index.equals(like.index) and y.dtype == like.dtype
    # parameters pass through; a backward aligns its two Series as pandas does
    np.testing.assert_array_equal(fg.elu(s, alpha=0.5).to_numpy(), fg.elu(s.to_numpy(), alpha=0.5))
    g = fg.gelu_backward(s, s)
    np.testing.assert_array_equal(g.to_numpy(), fg.gelu_backward(s.to_numpy(), s.to_numpy()))
    df = pd.DataFrame({"a": X, "b": X.astype(np.float32)}, index=range(10, 15))
    out = fg.softplus(df)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["a", "b"]
    assert list(out.dtypes) == list(np.exp(df).dtypes) == [np.float64, np.float32]
    assert list(out.index) == list(range(10, 15))
    np.testing.assert_array_equal(out["b"].to_numpy(), fg.softplus(X.astype(np.float32)))
    # with keywords pandas computes on the whole frame (one dtype), as for np.exp(df, ...)
    out = fg.softplus(df, beta=2.0)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["a", "b"]
    np.testing.assert_array_equal(out["a"].to_numpy(), fg.softplus(X, beta=2.0))


def test_masked_arrays_keep_the_union_of_the_masks():
    """As np.exp: computed on the data (the masked elements too), the result masked where
    any input is; a masked out= takes the mask."""
    m = np.ma.masked_array(X, mask=[0, 1, 0, 0, 1])
    y = fg.sigmoid(m)
    assert isinstance(y, np.ma.MaskedArray)
    np.testing.assert_array_equal(y.mask, m.mask)
    np.testing.assert_array_equal(y.data, fg.sigmoid(X))
    np.testing.assert_array_equal(np.exp(m).mask, y.mask)
    g = np.ma.masked_array(np.ones(5), mask=[1, 0, 0, 0, 0])
    d = fg.gelu_backward(g, m)
    np.testing.assert_array_equal(d.mask, [1, 1, 0, 0, 1])
    np.testing.assert_array_equal(d.data, fg.gelu_backward(np.ones(5), X))
    y, dy = fg.gelu_fwd_grad(m)
    assert all(isinstance(v, np.ma.MaskedArray) for v in (y, dy))
    np.testing.assert_array_equal(dy.mask, m.mask)
    out = np.ma.masked_array(np.zeros(5), mask=False)
    assert fg.tanh(m, out=out) is out
    np.testing.assert_array_equal(out.mask, m.mask)
    np.testing.assert_array_equal(out.data, fg.tanh(X))


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_ndarray_subclasses_stay_subclasses():
    mat = np.matrix([[-1.0, 2.0], [0.5, -3.0]])
    y = fg.relu(mat)
    assert type(y) is np.matrix and type(np.exp(mat)) is np.matrix
    np.testing.assert_array_equal(np.asarray(y), fg.relu(np.asarray(mat)))

    class Labelled(np.ndarray):
        """A unit- or label-carrying subclass: its attribute survives, as with np.exp."""

        def __array_finalize__(self, obj):
            self.label = getattr(obj, "label", None)

    x = X.view(Labelled)
    x.label = "activations"
    y = fg.silu(x)
    assert type(y) is Labelled and y.label == "activations"
    assert np.exp(x).label == "activations"


class _Duck:
    """A duck array: not an ndarray, implements __array_ufunc__ by unwrapping."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        unwrapped = [v.data if isinstance(v, _Duck) else v for v in inputs]
        result = ufunc(*unwrapped, **kwargs)
        if isinstance(result, tuple):
            return tuple(_Duck(r) for r in result)
        return _Duck(result)


def test_duck_arrays_get_their_own_type_back():
    d = fg.gelu(_Duck(X), approximate="tanh")
    assert isinstance(d, _Duck)
    np.testing.assert_array_equal(d.data, fg.gelu(X, approximate="tanh"))
    assert isinstance(np.exp(_Duck(X)), _Duck)  # the same protocol a ufunc follows
    y, dy = fg.mish_fwd_grad(_Duck(X))
    np.testing.assert_array_equal(dy.data, fg.mish_grad(X))
    g = fg.tanh_backward(_Duck(np.ones(5)), X)
    np.testing.assert_array_equal(g.data, fg.tanh_backward(np.ones(5), X))


def test_types_that_refuse_or_opt_out_are_type_errors():
    class OptOut:
        __array_ufunc__ = None

    class Refuses:
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return NotImplemented

    with pytest.raises(TypeError, match="gelu: OptOut objects opt out"):
        fg.gelu(OptOut())
    with pytest.raises(TypeError, match="gelu: operand type.* NotImplemented.*Refuses"):
        fg.gelu(Refuses())


def test_where_writes_only_where_true():
    x = np.linspace(-4, 4, 9)
    out = np.full(9, 7.0)
    where = x > 0
    assert fg.gelu(x, where=where, out=out) is out
    np.testing.assert_array_equal(out[where], fg.gelu(x)[where])
    np.testing.assert_array_equal(out[~where], 7.0)
    want = np.full(9, 7.0)
    np.exp(x, where=where, out=want)  # NumPy leaves the False elements alone too
    np.testing.assert_array_equal(out[~where], want[~where])
    # broadcast where, pair outputs, backward
    x2 = np.linspace(-2, 2, 6).reshape(2, 3)
    y, d = np.zeros((2, 3)), np.zeros((2, 3))
    fg.sigmoid_fwd_grad(x2, where=np.array([True, False, True]), out=(y, d))
    np.testing.assert_array_equal(y[:, 1], 0.0)
    np.testing.assert_array_equal(d[:, 0], fg.sigmoid_grad(x2)[:, 0])
    g = np.zeros(9)
    fg.silu_backward(np.ones(9), x, out=g, where=where)
    np.testing.assert_array_equal(g, np.where(where, fg.silu_grad(x), 0.0))
    # without out, the True elements are the function's
    np.testing.assert_array_equal(fg.tanh(x, where=where)[where], fg.tanh(x)[where])
    out = np.full(9, 7.0)
    with pytest.raises(TypeError, match="where must be an array of booleans"):
        fg.gelu(x, where=np.ones(9), out=out)
    with pytest.raises(ValueError, match="where has shape"):
        fg.gelu(x, where=np.ones(4, bool), out=out)
    np.testing.assert_array_equal(out, 7.0)  # nothing written before the error


def test_dtype_chooses_the_computation_and_result_dtype():
    x = np.linspace(-3, 3, 7)
    y = fg.gelu(x, dtype=np.float32)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, fg.gelu(x.astype(np.float32)))
    assert fg.tanh(x.astype(np.float32), dtype="float64").dtype == np.float64
    assert fg.relu(np.arange(3), dtype=np.float16).dtype == np.float16
    assert np.exp(x, dtype=np.float32).dtype == np.float32  # the ufunc keyword it mirrors
    with pytest.raises(TypeError, match="dtype must be float16, float32 or float64"):
        fg.gelu(x, dtype=np.int32)
    with pytest.raises(TypeError, match="cannot cast .* complex128"):
        fg.gelu(x.astype(np.complex128), dtype=np.float64)
    g = fg.gelu_backward(np.ones(7), x, dtype=np.float32)
    assert g.dtype == np.float32
