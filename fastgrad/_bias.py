"""The dense-layer epilogue, for every activation f of the table: ``f_bias(h, b)``,
``f_bias_fwd_grad(h, b)`` and ``f_bias_backward(grad_out, h, b) -> (grad_h, grad_b)``.

    y      = f(h + b)              b broadcast along h's last axis (``F.linear``'s layout)
    d      = f'(h + b)
    grad_h = grad_out * f'(h + b)  (the kink and zero conventions of ``f_backward``)
    grad_b = grad_h summed over every axis but the last

One pass over memory each (``_bias_kernels``), where the unfused sequence
``h + b; f_fwd_grad; grad_out * d; sum(axis=0)`` makes four and a temporary. h + b is
rounded to the dtype before f, so y, d and grad_h have the bits of ``f(h + b)``,
``f_grad(h + b)`` and ``f_backward(grad_out, h + b)``.

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
from ._arrays import COMPUTE_DTYPE, F16, Output, _coerce, grad_out_like, separate_from
from ._bias_kernels import BACKWARD, FORWARD, FWD_GRAD, bias_kernel
from ._params import Params

# Elements per block of rows: the unit of work a thread takes, and of the bias
# gradient's partial sums (64 blocks of 1024 float64 partials at 4096 x 1024).
BLOCK_ELEMENTS = 1 << 16
# A row shorter than SHORT_ROW elements (h of shape (N, 8)) costs more to start than to
# compute: the kernels then take rows of several of h's rows, at least LONG_ROW elements,
# the bias repeated along them.
SHORT_ROW = 256
LONG_ROW = 1024

SUFFIXES = {FORWARD: "_bias", FWD_GRAD: "_bias_fwd_grad", BACKWARD: "_bias_backward"}


class _Layout:
    """h's n elements as the kernels' rows: ``inner`` elements a row (``repeat`` of h's
    rows of ``cols``), ``rows`` rows, ``per_block`` rows a block, ``blocks`` blocks."""

    def __init__(self, shape, cols):
        self.n = math.prod(shape)
        self.cols = cols
        self.repeat = -(-LONG_ROW // cols) if 0 < cols < SHORT_ROW else 1
        self.inner = cols * self.repeat
        self.rows = -(-self.n // self.inner) if self.n else 0
        self.per_block = max(1, BLOCK_ELEMENTS // max(self.inner, 1))
        self.blocks = max(1, -(-self.rows // self.per_block))

    def bias(self, b):
        return b if self.repeat == 1 else np.tile(b, self.repeat)

    def fold(self, sums):
        """One sum per bias element from the kernel's (one per element of its row), the
        repeats added in order."""
        return sums if self.repeat == 1 else sums.reshape(self.repeat, self.cols).sum(axis=0)


def grad_bias_bound(shape):
    """The relative part of the bias gradient's error bound for an h of ``shape``, as a
    multiple of sum |grad_h| over a column: float64 rounding (2^-53) per sequential
    addition: the rows of a block, the blocks in order and a short row's repeats."""
    layout = _Layout(shape, shape[-1])
    return (layout.per_block + layout.blocks + layout.repeat) * 2.0**-53


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
    return h, b, result, COMPUTE_DTYPE[result]


def _run(kernel, arrays, layout, a, b, memory_bound):
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
    """{public name: function} of the three epilogue functions of ``activation``."""
    params = Params(activation)
    name = activation.name
    memory_bound = activation.memory_bound

    kernels = {}  # (variant value, level, dtype, direction) -> compiled kernel

    def slots(kw, compute, fn):
        """(kernel getter by direction, a, b) for a call's keyword parameters."""
        resolved = params.resolve(kw, compute, fn) if kw or params.required else params.default
        value, level, a, b = resolved
        level = level or _accuracy.current

        def kernel(direction):
            key = (value, level, compute, direction)
            found = kernels.get(key)
            if found is None:
                found = kernels[key] = bias_kernel(activation, value, level, compute, direction)
            return found

        return kernel, a, b

    def f_bias(h, b, *, out=None, **kw):
        fn = name + SUFFIXES[FORWARD]
        h, bias, result, compute = _operands(h, b, fn)
        kernel, a, s = slots(kw, compute, fn)
        if result is F16:  # the unfused sequence in float16 (see the module's docstring)
            return _elementwise(name)(h + bias, out=out, **kw)
        y = Output(out, h.shape, result, compute, fn, "out")
        h, bias = (np.asarray(v, dtype=compute) for v in (h, bias))
        h, bias = separate_from(h, y.array), separate_from(bias, y.array, same_ok=False)
        layout = _Layout(h.shape, bias.size)
        if layout.n:
            arrays = (h.reshape(-1), layout.bias(bias), y.array.reshape(-1))
            _run(kernel(FORWARD), arrays, layout, a, s, memory_bound)
        return y.finish()

    def f_bias_fwd_grad(h, b, *, out=None, **kw):
        fn = name + SUFFIXES[FWD_GRAD]
        h, bias, result, compute = _operands(h, b, fn)
        kernel, a, s = slots(kw, compute, fn)
        out_y, out_d = _pair_out(out, fn, "y, dy/dh")
        if out is not None and np.may_share_memory(out_y, out_d):
            raise ValueError(f"{fn}: out[0] and out[1] must not overlap")
        if result is F16:
            return _elementwise(name + "_fwd_grad")(h + bias, out=out, **kw)
        y = Output(out_y, h.shape, result, compute, fn, "out[0]")
        d = Output(out_d, h.shape, result, compute, fn, "out[1]")
        h, bias = (np.asarray(v, dtype=compute) for v in (h, bias))
        h = separate_from(separate_from(h, y.array), d.array, same_ok=False)
        bias = separate_from(separate_from(bias, y.array, same_ok=False), d.array, same_ok=False)
        layout = _Layout(h.shape, bias.size)
        if layout.n:
            arrays = (h.reshape(-1), layout.bias(bias), y.array.reshape(-1), d.array.reshape(-1))
            _run(kernel(FWD_GRAD), arrays, layout, a, s, memory_bound)
        return y.finish(), d.finish()

    def f_bias_backward(grad_out, h, b, *, out=None, **kw):
        fn = name + SUFFIXES[BACKWARD]
        h, bias, result, compute = _operands(h, b, fn)
        g, result = grad_out_like(grad_out, h, result, fn)
        compute = COMPUTE_DTYPE[result]
        kernel, a, s = slots(kw, compute, fn)
        out_h, out_b = _pair_out(out, fn, "grad_h, grad_b")
        if result is F16:
            hb = np.add(h, bias, dtype=F16)
            grad_h = _elementwise(name + "_backward")(g, hb, out=out_h, **kw)
            grad_b = Output(out_b, bias.shape, result, np.dtype(np.float64), fn, "out[1]")
            np.sum(grad_h.reshape(-1, bias.size), axis=0, dtype=np.float64, out=grad_b.array)
            return grad_h, grad_b.finish()
        grad_h = Output(out_h, h.shape, result, compute, fn, "out[0]")
        grad_b = Output(out_b, bias.shape, result, compute, fn, "out[1]")
        gh, gb = grad_h.array, grad_b.array
        if out_b is not None and any(np.may_share_memory(out_b, v) for v in (gh, h, g)):
            raise ValueError(f"{fn}: out[1] (grad_b) must not overlap grad_h or the inputs")
        h, g, bias = (np.asarray(v, dtype=compute) for v in (h, g, bias))
        h, g = separate_from(h, gh), separate_from(g, gh)
        bias = separate_from(bias, gh, same_ok=False)
        layout = _Layout(h.shape, bias.size)
        partials = np.zeros((layout.blocks, layout.inner), np.float64)
        if layout.n:
            arrays = (g.reshape(-1), h.reshape(-1), layout.bias(bias), gh.reshape(-1))
            _run(kernel(BACKWARD), (*arrays, partials), layout, a, s, memory_bound)
        # the blocks' partial sums added in block order (NumPy adds the rows of an
        # axis-0 reduction one after another)
        sums = layout.fold(partials[0] if layout.blocks == 1 else partials.sum(axis=0))
        with np.errstate(over="ignore"):
            gb[...] = sums
        return grad_h.finish(), grad_b.finish()

    functions = {}
    for direction, fn in (
        (FORWARD, f_bias),
        (FWD_GRAD, f_bias_fwd_grad),
        (BACKWARD, f_bias_backward),
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
