"""``fastgrad.rrelu``, ``rrelu_fwd_grad`` and ``rrelu_backward`` inside the user's
``@njit`` code, bit for bit the Python-level calls: the slopes are drawn from the same
NumPy ``Generator`` (Numba's shares its state and stream), one per element in C order,
and each result is the same rounded product. On arrays of float32 or float64; training
needs a ``generator`` (no fresh entropy inside compiled code)."""

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload

from . import _jit


def _dtype(x, name):
    if not isinstance(x, types.Array) or not isinstance(x.dtype, types.Float):
        raise errors.TypingError(f"fastgrad.{name}: x must be a float array in @njit code")
    return np.float64 if x.dtype == types.float64 else np.float32


def _given(value):
    return not (value is None or isinstance(value, (types.NoneType, types.Omitted)))


def _slopes_function(F):
    @_jit.scalar
    def slopes_of(x, lower, upper, training, generator):
        xs = np.ascontiguousarray(x).reshape(-1)
        slopes = np.empty(xs.size, F)
        if training:
            if generator is None:
                raise ValueError("fastgrad.rrelu: training needs a generator in @njit code")
            drawn = generator.random(xs.size, dtype=F)
            width, low = F(upper - lower), F(lower)
            for i in range(xs.size):
                r = drawn[i] * width + low
                slopes[i] = r if xs[i] <= 0 else F(1.0)
        else:
            mean = F((lower + upper) / 2.0)
            for i in range(xs.size):
                slopes[i] = F(1.0) if xs[i] > 0 else mean
        return xs, slopes

    return slopes_of


def _fwd_grad_typer(x, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None, out=None):
    F = _dtype(x, "rrelu_fwd_grad")
    slopes_of = _slopes_function(F)
    if _given(out):
        raise errors.TypingError("fastgrad.rrelu_fwd_grad: out= is not supported in @njit code")

    def rrelu_fwd_grad(x, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None, out=None):
        xs, slopes = slopes_of(x, lower, upper, training, generator)
        y = np.empty(xs.size, F)
        for i in range(xs.size):
            y[i] = xs[i] * slopes[i]
        return y.reshape(x.shape), slopes.reshape(x.shape)

    return rrelu_fwd_grad


def _forward_typer(x, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None, out=None):
    F = _dtype(x, "rrelu")
    slopes_of = _slopes_function(F)
    with_out = _given(out)

    def rrelu(x, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None, out=None):
        xs, slopes = slopes_of(x, lower, upper, training, generator)
        y = out if with_out else np.empty(x.shape, F)
        ys = y.reshape(-1)
        for i in range(xs.size):
            ys[i] = xs[i] * slopes[i]
        return y

    return rrelu


def _backward_typer(
    grad_out, x, lower=1.0 / 8, upper=1.0 / 3, training=False, slopes=None, out=None
):
    F = _dtype(x, "rrelu_backward")
    with_slopes, with_out = _given(slopes), _given(out)
    slopes_of = _slopes_function(F)

    def rrelu_backward(
        grad_out, x, lower=1.0 / 8, upper=1.0 / 3, training=False, slopes=None, out=None
    ):
        if grad_out.shape != x.shape:
            raise ValueError("fastgrad.rrelu_backward: grad_out must have x's shape")
        if training:
            if not with_slopes:
                raise ValueError("fastgrad.rrelu_backward: training=True needs the slopes")
            d = np.ascontiguousarray(slopes).astype(F).reshape(-1)
        else:
            _, d = slopes_of(x, lower, upper, False, None)
        gs = np.ascontiguousarray(grad_out).astype(F).reshape(-1)
        result = out if with_out else np.empty(x.shape, F)
        rs = result.reshape(-1)
        for i in range(gs.size):
            rs[i] = gs[i] * d[i]
        return result

    return rrelu_backward


def register_rrelu(rrelu, rrelu_fwd_grad, rrelu_backward):
    """Make the RReLU functions callable from @njit code."""
    overload(rrelu, jit_options=_jit.INLINE_OPTIONS)(_forward_typer)
    overload(rrelu_fwd_grad, jit_options=_jit.INLINE_OPTIONS)(_fwd_grad_typer)
    overload(rrelu_backward, jit_options=_jit.INLINE_OPTIONS)(_backward_typer)
