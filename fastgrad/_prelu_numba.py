"""``fastgrad.prelu`` and ``fastgrad.prelu_backward`` inside the user's ``@njit`` code.

On arrays of float32 or float64 (x C-contiguous or copied; weight one element or one per
channel). y and grad_x are the Python-level call's bit for bit (one select and one
multiply per element). grad_weight is summed as the Python call sums it, in float64 per
block of ``_prelu.BLOCK_ELEMENTS`` elements, the blocks added in order, so it is within
the same bound (``_prelu.grad_weight_bound``); its additions run in x's element order
here, not always in the Python call's, so its last bit can differ from it.
"""

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload

from . import _jit
from ._prelu import BLOCK_ELEMENTS


def _float(ty, name):
    if not isinstance(ty, types.Array) or not isinstance(ty.dtype, types.Float):
        raise errors.TypingError(f"fastgrad.{name}: x and weight must be float arrays in @njit")
    return np.float64 if ty.dtype == types.float64 else np.float32


@_jit.scalar
def _channels(shape, weight_size):
    """(channels, run): elements of one channel are runs of ``run`` (C order)."""
    channels = shape[1] if len(shape) >= 2 else 1
    if weight_size != 1 and weight_size != channels:
        raise ValueError("fastgrad.prelu: weight must have 1 element or one per channel")
    run = 1
    for i in range(2, len(shape)):
        run *= shape[i]
    return (1, 1) if weight_size == 1 else (channels, run)


def _prelu_typer(x, weight, out=None):
    F = _float(x, "prelu")
    with_out = not (out is None or isinstance(out, (types.NoneType, types.Omitted)))

    def prelu(x, weight, out=None):
        channels, run = _channels(x.shape, weight.size)
        xs = np.ascontiguousarray(x).reshape(-1)
        w = np.ascontiguousarray(weight).astype(F).reshape(-1)
        y = out if with_out else np.empty(x.shape, F)
        ys = y.reshape(-1)
        for i in range(xs.size):
            xi = xs[i]
            wi = w[(i // run) % channels]
            ys[i] = xi if xi > 0 else wi * xi
        return y

    return prelu


def _prelu_backward_typer(grad_out, x, weight, out=None):
    F = _float(x, "prelu_backward")
    with_out = not (out is None or isinstance(out, (types.NoneType, types.Omitted)))

    def prelu_backward(grad_out, x, weight, out=None):
        channels, run = _channels(x.shape, weight.size)
        if grad_out.shape != x.shape:
            raise ValueError("fastgrad.prelu_backward: grad_out must have x's shape")
        xs = np.ascontiguousarray(x).reshape(-1)
        gs = np.ascontiguousarray(grad_out).astype(F).reshape(-1)
        w = np.ascontiguousarray(weight).astype(F).reshape(-1)
        if with_out:
            grad_x, grad_w = out
        else:
            grad_x, grad_w = np.empty(x.shape, F), np.empty(weight.shape, F)
        gxs = grad_x.reshape(-1)
        total = np.zeros(w.size, np.float64)
        block = np.zeros(w.size, np.float64)
        for start in range(0, xs.size, BLOCK_ELEMENTS):
            block[:] = 0.0
            for i in range(start, min(start + BLOCK_ELEMENTS, xs.size)):
                xi, gi = xs[i], gs[i]
                c = (i // run) % channels
                gxs[i] = gi if xi > 0 else w[c] * gi
                product = np.float64(xi) * np.float64(gi)
                block[c] += 0.0 if xi > 0 else product
            total += block
        grad_w.reshape(-1)[:] = total.astype(F)
        return grad_x, grad_w

    return prelu_backward


def register_prelu(prelu, prelu_backward):
    """Make ``fastgrad.prelu`` and ``prelu_backward`` callable from @njit code."""
    overload(prelu, jit_options=_jit.INLINE_OPTIONS)(_prelu_typer)
    overload(prelu_backward, jit_options=_jit.INLINE_OPTIONS)(_prelu_backward_typer)
