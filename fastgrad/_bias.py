"""The dense-layer epilogue, for every activation f of the table: ``f_bias(h, b)``,
``f_bias_fwd_grad(h, b)``, ``f_bias_backward(grad_out, h, b) -> (grad_h, grad_b)`` and
``f_bias_backward_from_grad(grad_out, d) -> (grad_h, grad_b)``.

    y      = f(h + b)              b broadcast along h's last axis (``F.linear``'s layout)
    d      = f'(h + b)
    grad_h = grad_out * f'(h + b)  (the kink and zero conventions of ``f_backward``)
    grad_b = grad_h summed over every axis but the last

One pass over memory each (``_bias_kernels``), where the unfused sequence
``h + b; f_fwd_grad; grad_out * d; sum(axis=0)`` makes four and a temporary. h + b is
rounded to the dtype before f, so y, d and grad_h have the bits of ``f(h + b)``,
``f_grad(h + b)`` and ``f_backward(grad_out, h + b)``.

Two ways through a training step, the same bits: ``f_bias`` then ``f_bias_backward``
(saves h and b; the backward computes f' again), or ``f_bias_fwd_grad`` then
``f_bias_backward_from_grad`` (saves d; f and f' computed once, in one loop whose
subexpressions LLVM shares: gelu's pair costs 0.7x its two loops). The second is the
faster where f' is costly next to a pass over memory (gelu, silu, ...: arrays in cache,
or compute-bound ones); the first moves a pass less.

The bias gradient is summed in float64 per block of rows (``BLOCK_ELEMENTS``, fixed by
the shape), the blocks added in order: the same bits whatever the thread count, and

    |grad_b - exact| <= 0.5 ulp (float32: the one final rounding)
                        + grad_bias_bound(h.shape) * sum |grad_h|

per element, the exact sum being that of the grad_h returned: a float32 bias gradient is
correctly rounded unless its column cancels by a factor of ~2^30, whatever the batch.

float16 arrays are computed as the unfused sequence is (h + b rounded to float16, then
the float32 kernels through float16 blocks), the bias gradient summed in float64.
"""

import math

import numpy as np

from . import _accuracy, _threads
from ._accuracy import ACCURATE
from ._arrays import (
    COMPUTE_DTYPE,
    F16,
    F32,
    F64,
    Output,
    _coerce,
    direct_out,
    grad_out_like,
    separate_from,
)
from ._bias_kernels import (
    BACKWARD,
    BACKWARD_FROM_GRAD,
    FORWARD,
    FWD_GRAD,
    bias_kernel,
    sum_partials,
)
from ._params import Params

# Elements per block of rows: the unit of work a thread takes, and of the bias
# gradient's partial sums (64 blocks of 1024 float64 partials at 4096 x 1024).
BLOCK_ELEMENTS = 1 << 16
# A row shorter than SHORT_ROW elements (h of shape (N, 8)) costs more to start than to
# compute: the kernels then take rows of several of h's rows, at least LONG_ROW elements,
# the bias repeated along them.
SHORT_ROW = 256
LONG_ROW = 1024

SUFFIXES = {
    FORWARD: "_bias",
    FWD_GRAD: "_bias_fwd_grad",
    BACKWARD: "_bias_backward",
    BACKWARD_FROM_GRAD: "_bias_backward_from_grad",
}


class _Layout:
    """An array of ``shape`` as the kernels' rows, the bias along its last axis:
    ``inner`` elements a row (``repeat`` of its rows of ``cols``), ``rows`` rows,
    ``per_block`` rows a block, ``blocks`` blocks (at least one: the partials' rows)."""

    def __init__(self, shape):
        self.n = math.prod(shape)
        self.cols = cols = shape[-1]
        self.repeat = -(-LONG_ROW // cols) if 0 < cols < SHORT_ROW else 1
        self.inner = cols * self.repeat
        self.rows = -(-self.n // self.inner) if self.n else 0
        self.per_block = max(1, BLOCK_ELEMENTS // max(self.inner, 1))
        self.blocks = max(1, -(-self.rows // self.per_block))

    def bias(self, b):
        return b if self.repeat == 1 else np.tile(b, self.repeat)

    def grad_b(self, partials, dtype, out=None):
        """grad_b in ``dtype`` (into ``out``, C-contiguous, when given) from the kernel's
        partials: the blocks added in block order, then a short row's repeats in order
        (``_bias_kernels.sum_partials``)."""
        if out is None:
            out = np.empty(self.cols, dtype)
        sum_partials(dtype)(partials, self.repeat, self.cols, out)
        return out


_LAYOUTS = {}  # shape -> _Layout: a training loop calls with a few shapes
_LAYOUTS_MAX = 256


def _layout(shape):
    layout = _LAYOUTS.get(shape)
    if layout is None:
        if len(_LAYOUTS) >= _LAYOUTS_MAX:
            _LAYOUTS.clear()
        layout = _LAYOUTS[shape] = _Layout(shape)
    return layout


def grad_bias_bound(shape):
    """The relative part of the bias gradient's error bound for an h of ``shape``, as a
    multiple of sum |grad_h| over a column: float64 rounding (2^-53) per sequential
    addition: the rows of a block, the blocks in order and a short row's repeats."""
    layout = _Layout(shape)
    return (layout.per_block + layout.blocks + layout.repeat) * 2.0**-53


def _plain(x, b):
    """Need x and b nothing done before a kernel reads them? (ndarrays of one dtype,
    float32 or float64, C-contiguous, b 1-D along x's last axis): the fast paths' test."""
    return (
        type(x) is np.ndarray
        and type(b) is np.ndarray
        and x.dtype is b.dtype
        and (x.dtype is F32 or x.dtype is F64)
        and x.ndim > 0
        and b.ndim == 1
        and b.shape[0] == x.shape[-1]
        and x.flags.c_contiguous
        and b.flags.c_contiguous
    )


def _like(g, x):
    """Is grad_out ``g`` an ndarray a kernel reads as it is beside x? (fast paths)"""
    return (
        type(g) is np.ndarray and g.dtype is x.dtype and g.shape == x.shape and g.flags.c_contiguous
    )


def _new_or_direct(out, like, count):
    """The fast paths' result arrays: ``count`` new ones like ``like`` for out None, the
    arrays of ``out`` where the kernel writes them as they are (``direct_out``) and they
    share no memory with each other or ``like`` (in-place calls take the general path);
    else None."""
    if out is None:
        return [np.empty(like.shape, like.dtype) for _ in range(count)]
    outs = out if count > 1 and type(out) is tuple and len(out) == count else (out,)
    if len(outs) != count or not all(direct_out(o, like) for o in outs):
        return None
    if count > 1 and np.may_share_memory(outs[0], outs[1]):
        return None
    if any(np.may_share_memory(o, like) for o in outs):
        return None
    return outs


def _fast_outs(out, grad_out, x, b=None):
    """A backward fast path's (grad_h, grad_b out or None), or None for the general path:
    new arrays, or an out pair the kernel writes directly (grad_b: 1-D of x's last axis,
    x's dtype, C-contiguous, writeable), grad_b sharing no memory with anything, grad_h
    none with the inputs unless it is grad_out or x itself."""
    if out is None:
        return np.empty(x.shape, x.dtype), None
    if type(out) is not tuple or len(out) != 2:
        return None
    gh, gb = out
    if not direct_out(gh, x) or type(gb) is not np.ndarray or gb.dtype is not x.dtype:
        return None
    if gb.shape != x.shape[-1:] or not (gb.flags.c_contiguous and gb.flags.writeable):
        return None
    inputs = (grad_out, x) if b is None else (grad_out, x, b)
    if any(np.may_share_memory(gb, v) for v in (gh, *inputs)):
        return None
    # grad_h may *be* grad_out or x (the kernels' in-place loops), not overlap them otherwise
    if any(gh is not v and np.may_share_memory(gh, v) for v in inputs):
        return None
    return out


def _operands(h, b, fn):
    """h and b as C-contiguous arrays, the result dtype (NumPy's for h + b) and the
    computing dtype; ValueError unless b is 1-D with h.shape[-1] elements."""
    h, h_result = _coerce(h, fn, "h")
    b, b_result = _coerce(b, fn, "b")
    if h.ndim == 0:
        raise ValueError(f"{fn}: h must have at least one dimension, got a scalar")
    if b.ndim != 1 or b.shape[0] != h.shape[-1]:
        raise ValueError(
            f"{fn}: b must be 1-D with h.shape[-1] = {h.shape[-1]} elements (the bias along "
            f"h's last axis), got shape {b.shape}"
        )
    result = np.promote_types(h_result, b_result)
    compute = COMPUTE_DTYPE[result]
    return np.asarray(h, compute), np.asarray(b, compute), result, compute


def _run(kernel, arrays, layout, a, b, memory_bound):
    if not layout.n:
        return
    args = (*arrays, layout.inner, layout.n, layout.rows, a, b)
    threads = _threads.current
    if threads > 1 and layout.n >= _threads.parallel_min_size(memory_bound):
        _threads.run_parallel(kernel, args, layout.rows, threads, layout.per_block)
    else:
        kernel(*args, np.zeros(2, np.int64), layout.per_block)


def _pair_out(out, fn, what):
    if out is None:
        return None, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"{fn}: out must be a pair of arrays ({what})")
    return out


def _elementwise(name):
    """fastgrad's public element-wise function ``name`` (the float16 calls use them)."""
    import fastgrad

    return getattr(fastgrad, name)


def make_bias_functions(activation):
    """{public name: function} of the epilogue functions of ``activation``."""
    params = Params(activation)
    name = activation.name
    memory_bound = activation.memory_bound
    default_value, _, a0, b0 = params.default
    plain_calls = not params.required  # a call without keywords is complete
    kernels = {}  # (variant value, level, dtype, direction) -> compiled kernel

    def kernel_for(value, level, compute, direction):
        key = (value, level, compute, direction)
        found = kernels.get(key)
        if found is None:
            found = kernels[key] = bias_kernel(activation, value, level, compute, direction)
        return found

    def resolved(kw, compute, fn):
        """(variant value, level, a, b) of a call's keyword parameters."""
        value, level, a, b = (
            params.resolve(kw, compute, fn) if kw or params.required else params.default
        )
        return value, level or _accuracy.current, a, b

    # HOT: the fast paths (ndarrays the kernels read as they are, no keywords, new
    # results) skip the coercions, checks and separations of the general ones.

    def f_bias(h, b, *, out=None, **kw):
        outs = not kw and plain_calls and _plain(h, b) and _new_or_direct(out, h, 1)
        if outs and not np.may_share_memory(outs[0], b):
            (y,) = outs
            layout = _layout(h.shape)
            kernel = kernel_for(default_value, _accuracy.current, h.dtype, FORWARD)
            arrays = (h.reshape(-1), layout.bias(b), y.reshape(-1))
            _run(kernel, arrays, layout, a0, b0, memory_bound)
            return y
        fn = name + SUFFIXES[FORWARD]
        h, bias, result, compute = _operands(h, b, fn)
        value, level, a, s = resolved(kw, compute, fn)
        if result is F16:  # the unfused sequence in float16 (see the module's docstring)
            return _elementwise(name)(np.add(h, bias, dtype=F16), out=out, **kw)
        y = Output(out, h.shape, result, compute, fn, "out")
        h, bias = separate_from(h, y.array), separate_from(bias, y.array, same_ok=False)
        layout = _layout(h.shape)
        arrays = (h.reshape(-1), layout.bias(bias), y.array.reshape(-1))
        _run(kernel_for(value, level, compute, FORWARD), arrays, layout, a, s, memory_bound)
        return y.finish()

    def f_bias_fwd_grad(h, b, *, out=None, **kw):
        outs = not kw and plain_calls and _plain(h, b) and _new_or_direct(out, h, 2)
        if outs and not any(np.may_share_memory(o, b) for o in outs):
            y, d = outs
            layout = _layout(h.shape)
            kernel = kernel_for(default_value, _accuracy.current, h.dtype, FWD_GRAD)
            arrays = (h.reshape(-1), layout.bias(b), y.reshape(-1), d.reshape(-1))
            _run(kernel, arrays, layout, a0, b0, memory_bound)
            return y, d
        fn = name + SUFFIXES[FWD_GRAD]
        h, bias, result, compute = _operands(h, b, fn)
        value, level, a, s = resolved(kw, compute, fn)
        out_y, out_d = _pair_out(out, fn, "y, dy/dh")
        if out is not None and np.may_share_memory(out_y, out_d):
            raise ValueError(f"{fn}: out[0] and out[1] must not overlap")
        if result is F16:
            return _elementwise(name + "_fwd_grad")(np.add(h, bias, dtype=F16), out=out, **kw)
        y = Output(out_y, h.shape, result, compute, fn, "out[0]")
        d = Output(out_d, h.shape, result, compute, fn, "out[1]")
        h = separate_from(separate_from(h, y.array), d.array, same_ok=False)
        bias = separate_from(separate_from(bias, y.array, same_ok=False), d.array, same_ok=False)
        layout = _layout(h.shape)
        arrays = (h.reshape(-1), layout.bias(bias), y.array.reshape(-1), d.array.reshape(-1))
        _run(kernel_for(value, level, compute, FWD_GRAD), arrays, layout, a, s, memory_bound)
        return y.finish(), d.finish()

    def f_bias_backward(grad_out, h, b, *, out=None, **kw):
        fast = not kw and plain_calls and _plain(h, b) and _like(grad_out, h)
        outs = fast and _fast_outs(out, grad_out, h, b)
        if outs:
            gh, gb = outs
            layout = _layout(h.shape)
            partials = np.zeros((layout.blocks, layout.inner), np.float64)
            kernel = kernel_for(default_value, _accuracy.current, h.dtype, BACKWARD)
            arrays = (grad_out.reshape(-1), h.reshape(-1), layout.bias(b), gh.reshape(-1))
            _run(kernel, (*arrays, partials), layout, a0, b0, memory_bound)
            return gh, layout.grad_b(partials, h.dtype, gb)
        fn = name + SUFFIXES[BACKWARD]
        h, bias, result, _ = _operands(h, b, fn)
        g, result = grad_out_like(grad_out, h, result, fn)
        compute = COMPUTE_DTYPE[result]
        value, level, a, s = resolved(kw, compute, fn)
        out_h, out_b = _pair_out(out, fn, "grad_h, grad_b")
        if result is F16:
            hb = np.add(h, bias, dtype=F16)
            grad_h = _elementwise(name + "_backward")(g, hb, out=out_h, **kw)
            grad_b = Output(out_b, bias.shape, result, np.dtype(np.float64), fn, "out[1]")
            np.sum(grad_h.reshape(-1, bias.size), axis=0, dtype=np.float64, out=grad_b.array)
            return grad_h, grad_b.finish()
        grad_h = Output(out_h, h.shape, result, compute, fn, "out[0]")
        grad_b = Output(out_b, bias.shape, result, compute, fn, "out[1]")
        gh = grad_h.array
        if out_b is not None and any(np.may_share_memory(out_b, v) for v in (gh, h, g)):
            raise ValueError(f"{fn}: out[1] (grad_b) must not overlap grad_h or the inputs")
        h, g, bias = (np.asarray(v, dtype=compute) for v in (h, g, bias))
        h, g = separate_from(h, gh), separate_from(g, gh)
        bias = separate_from(bias, gh, same_ok=False)
        layout = _layout(h.shape)
        partials = np.zeros((layout.blocks, layout.inner), np.float64)
        arrays = (g.reshape(-1), h.reshape(-1), layout.bias(bias), gh.reshape(-1), partials)
        _run(kernel_for(value, level, compute, BACKWARD), arrays, layout, a, s, memory_bound)
        layout.grad_b(partials, compute, grad_b.array)
        return grad_h.finish(), grad_b.finish()

    def f_bias_backward_from_grad(grad_out, d, *, out=None):
        # the product's convention (+0.0 where d is 0, for the piecewise activations) is
        # the activation's; its parameters and accuracy level play no part
        plain = type(d) is np.ndarray and (d.dtype is F32 or d.dtype is F64) and d.ndim
        outs = plain and _like(grad_out, d) and _fast_outs(out, grad_out, d)
        if outs:
            gh, gb = outs
            layout = _layout(d.shape)
            partials = np.zeros((layout.blocks, layout.inner), np.float64)
            kernel = kernel_for(default_value, ACCURATE, d.dtype, BACKWARD_FROM_GRAD)
            arrays = (grad_out.reshape(-1), d.reshape(-1), gh.reshape(-1), partials)
            _run(kernel, arrays, layout, a0, b0, True)
            return gh, layout.grad_b(partials, d.dtype, gb)
        fn = name + SUFFIXES[BACKWARD_FROM_GRAD]
        d, result = _coerce(d, fn, "d")
        if d.ndim == 0:
            raise ValueError(f"{fn}: d must have at least one dimension, got a scalar")
        g, result = grad_out_like(grad_out, d, result, fn, "d")
        compute = COMPUTE_DTYPE[result]
        out_h, out_b = _pair_out(out, fn, "grad_h, grad_b")
        grad_h = Output(out_h, d.shape, result, compute, fn, "out[0]")
        grad_b = Output(out_b, d.shape[-1:], result, compute, fn, "out[1]")
        gh = grad_h.array
        if out_b is not None and any(np.may_share_memory(out_b, v) for v in (gh, d, g)):
            raise ValueError(f"{fn}: out[1] (grad_b) must not overlap grad_h or the inputs")
        d, g = (np.asarray(v, dtype=compute) for v in (d, g))
        d, g = separate_from(d, gh), separate_from(g, gh)
        layout = _layout(d.shape)
        partials = np.zeros((layout.blocks, layout.inner), np.float64)
        arrays = (g.reshape(-1), d.reshape(-1), gh.reshape(-1), partials)
        kernel = kernel_for(default_value, ACCURATE, compute, BACKWARD_FROM_GRAD)
        _run(kernel, arrays, layout, a0, b0, True)
        layout.grad_b(partials, compute, grad_b.array)
        return grad_h.finish(), grad_b.finish()

    functions = {}
    for direction, fn in (
        (FORWARD, f_bias),
        (FWD_GRAD, f_bias_fwd_grad),
        (BACKWARD, f_bias_backward),
        (BACKWARD_FROM_GRAD, f_bias_backward_from_grad),
    ):
        public = name + SUFFIXES[direction]
        fn.__name__ = fn.__qualname__ = public
        fn.__module__ = "fastgrad"
        functions[public] = fn
    return functions


def build_bias_functions(table, aliases):
    """{public name: function}: the epilogue functions of every activation of ``table``,
    and of its aliases (the same function objects)."""
    from ._docs import bias_doc

    functions = {}
    for activation in table:
        made = make_bias_functions(activation)
        for direction, suffix in SUFFIXES.items():
            fn = made[activation.name + suffix]
            bias_doc(fn, activation, direction, Params(activation))
            functions[activation.name + suffix] = fn
    for alias, name in aliases.items():
        for suffix in SUFFIXES.values():
            functions[alias + suffix] = functions[name + suffix]
    return functions
