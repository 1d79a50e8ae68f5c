"""The gated activations' public functions (``_gated``'s table), and their arrays.

Per gated row ``name`` (activation f, see ``_gated``):

- ``name(a, b)``, ``name_backward(grad_out, a, b) -> (grad_a, grad_b)``: two arrays of
  one shape (swiglu, geglu, reglu);
- ``name_packed(x, dim=-1)``, ``name_packed_backward(grad_out, x, dim=-1) -> grad_x``:
  one array whose two halves along ``dim`` are a and b, the output of one matmul with
  ``[W1 | W3]``; the halves are read where they lie, and ``grad_x`` (the gradient of that
  matmul's output) may be written over ``x`` itself (``out=x``);
- ``glu(x, dim=-1)``, ``glu_backward(grad_out, x, dim=-1)``: PyTorch's, the packed form
  of ``a * sigmoid(b)``.

Arrays follow the element-wise functions' rules (``_arrays``): NumPy's dtype policy
(float16 computed in float32), any shape and strides (strided inputs are copied, a
strided or float16 ``out`` written through a temporary), ``out=`` checked before anything
is written, an ``out`` that is an input computed as if through a temporary, results that
do not depend on the thread count. The backward reads only the saved inputs (f and f'
recomputed) and allocates only its outputs.
"""

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _accuracy, _threads
from ._arrays import COMPUTE_DTYPE, F16, F32, F64, Output, _coerce, _overlap, as_array
from ._docs import gated_doc
from ._gated import GATE_FIRST, GATED
from ._gated_kernels import BACKWARD, FORWARD, gate_kernel


class _Operand:
    """One array of a call as the kernels read it: rows of ``inner`` contiguous elements,
    ``stride`` elements apart, from the 1-D C-contiguous view ``flat`` (from its first
    element); ``view`` is the array itself (for overlap tests and results)."""

    __slots__ = ("view", "flat", "stride")

    def __init__(self, view, flat, stride):
        self.view, self.flat, self.stride = view, flat, stride

    def same_as(self, other):
        return (
            self.stride == other.stride
            and self.flat.__array_interface__["data"][0]
            == other.flat.__array_interface__["data"][0]
        )


def _whole(arr):
    """A C-contiguous array as one row."""
    return _Operand(arr, arr.reshape(-1), arr.size)


def _halves(x, outer, half):
    """The two halves of a C-contiguous array viewed as (outer, 2 * half): each ``outer``
    rows of ``half`` elements, ``2 * half`` apart."""
    flat = x.reshape(-1)
    rows = flat.reshape(outer, 2 * half)
    first = _Operand(rows[:, :half], flat, 2 * half)
    second = _Operand(rows[:, half:], flat[half:], 2 * half)
    return first, second


def _separate(inputs, outputs, inner, fn):
    """The inputs, each copied where it shares memory with an output without being it
    element for element (the kernels read an input that *is* an output correctly); a
    ValueError where two outputs overlap. A copy is C-contiguous: its rows of ``inner``
    elements lie one after another."""
    if len(outputs) == 2 and _overlap(outputs[0].view, outputs[1].view):
        raise ValueError(f"{fn}: the two outputs must not overlap")
    separated = []
    for operand in inputs:
        for out in outputs:
            if _overlap(operand.view, out.view) and not operand.same_as(out):
                copy = operand.view.copy()  # (np.ascontiguousarray would not copy)
                operand = _Operand(copy, copy.reshape(-1), inner)
                break
        separated.append(operand)
    return separated


class _Kernels:
    """A function's kernels by (computing dtype, approximate, accuracy), each validated
    once and remembered (the process-wide level's forgotten when it changes), and the
    size from which its calls run on threads."""

    def __init__(self, row, direction, fn):
        self.row, self.direction, self.fn = row, direction, fn
        self.known = {}
        self.threshold = _threads.parallel_min_size(row.memory_bound)
        _accuracy.on_change(self.known.clear)

    def get(self, dtype, approximate, accuracy):
        key = (dtype, approximate, accuracy)
        kernel = self.known.get(key)
        if kernel is None:
            variant, level = _options(self.row, self.fn, approximate, accuracy)
            kernel = gate_kernel(self.row.base, variant, level, dtype, self.direction)
            if len(self.known) > _KNOWN_MAX:
                self.known.clear()
            self.known[key] = kernel
        return kernel

    def run(self, kernel, inputs, outputs, inner):
        """One kernel call over ``rows x inner`` elements, the inputs separated from the
        outputs, on threads from the size at which they pay."""
        inputs = _separate(inputs, outputs, inner, self.fn)
        operands = (*inputs, *outputs)
        total = outputs[0].view.size
        if total == 0:
            return
        strides = np.array([o.stride for o in operands], np.int64)
        arrays = tuple(o.flat for o in operands)
        if total >= self.threshold and _threads.current > 1:
            args = (*arrays, strides, inner, total, 0.0, 0.0)
            _threads.run_parallel(kernel, args, total, _threads.current)
        else:
            kernel(*arrays, strides, inner, total, 0.0, 0.0, np.zeros(2, np.int64), total)


# How many (dtype, approximate, accuracy) keys a function remembers.
_KNOWN_MAX = 64
# The row strides of a call whose arrays are each one row (not read: row 0 only).
_ONE_ROW = np.zeros(5, np.int64)


# ------------------------------------------------------------------------- arguments


def _options(row, fn, approximate, accuracy):
    """(variant, level) of a call, validated."""
    variant = None
    if not row.variant and approximate is not None:
        raise TypeError(f"{fn}() got an unexpected keyword argument 'approximate'")
    if row.variant:
        approximate = "none" if approximate is None else approximate
        values = list(row.base.maths())
        if not isinstance(approximate, str) or approximate not in values:
            choices = ", ".join(repr(v) for v in values)
            raise ValueError(f"{fn}: approximate must be one of {choices}, got {approximate!r}")
        variant = approximate
    level = _accuracy.current if accuracy is None else _accuracy.checked(accuracy, fn)
    return variant, level


def _arrays(named, fn):
    """The inputs ({name: value}) as C-contiguous arrays of one result dtype (NumPy's
    policy: float16 stays float16 here, computed in float32 by ``_computable``)."""
    coerced = {name: as_array(value, fn) for name, value in named.items()}
    results = {r for _, r in coerced.values()}
    result = results.pop() if len(results) == 1 else np.result_type(*results)
    return {
        n: a if a.dtype == result else a.astype(result) for n, (a, _) in coerced.items()
    }, result


def _computable(arrays, result):
    """float16 inputs in float32, the dtype their kernels compute in."""
    if result == F16:
        return {n: a.astype(np.float32) for n, a in arrays.items()}
    return arrays


def _grad_out(grad_out, shape, result, fn):
    """grad_out as a C-contiguous array of the output's shape (broadcast if smaller)."""
    g = grad_out
    if type(g) in (int, float):
        g = np.asarray(g, result)
    else:
        g, _ = _coerce(g, fn, "grad_out")
        g = g.astype(result, copy=False)
    if g.shape != shape:
        try:
            g = np.ascontiguousarray(np.broadcast_to(g, shape))
        except ValueError:
            raise ValueError(
                f"{fn}: grad_out has shape {g.shape}, the output's shape is {shape}"
            ) from None
    return g


def _same_shape(a, b, fn):
    if a.shape != b.shape:
        raise ValueError(f"{fn}: a and b must have the same shape, got {a.shape} and {b.shape}")


def _axis(dim, ndim, fn):
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{fn}: dim must be an integer, got {type(dim).__name__}")
    if ndim == 0:
        raise ValueError(f"{fn}: x must have at least one dimension to be halved")
    if not -ndim <= dim < ndim:
        raise np.exceptions.AxisError(int(dim), ndim, f"{fn}: dim")
    return int(dim) % ndim


def _split_geometry(shape, axis, fn):
    """(outer, half, the output's shape) of halving ``shape`` along ``axis``: the rows of
    each half are ``outer`` runs of ``half`` contiguous elements (C order)."""
    size = shape[axis]
    if size % 2:
        raise ValueError(
            f"{fn}: the halved dimension must be even, but dimension {axis} is size {size}"
        )
    outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    half_shape = (*shape[:axis], size // 2, *shape[axis + 1 :])
    return outer, size // 2 * inner, half_shape


# ------------------------------------------------------------------------ outputs


def _pair_out(out, fn):
    if out is None:
        return None, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"{fn}: out must be a pair of arrays (grad_a, grad_b)")
    return out


# -------------------------------------------------------------------- the functions


def _plain(arr, dtype, size):
    """Is ``arr`` a C-contiguous float32/float64 ndarray of ``dtype`` and ``size``? (the
    fast paths' test: a few attribute reads)"""
    return (
        type(arr) is np.ndarray
        and arr.dtype is dtype
        and arr.size == size
        and arr.flags.c_contiguous
    )


def _writable(out, dtype, size):
    return _plain(out, dtype, size) and out.flags.writeable


def _apart(out, inputs):
    """Is ``out`` each input itself or clear of it? (else the general path separates)"""
    return all(out is v or not np.may_share_memory(out, v) for v in inputs)


def _flat(arr):
    return arr if arr.ndim == 1 else arr.reshape(-1)


def _one_row(kernel, *arrays):
    """A serial call over whole C-contiguous arrays of one size: one row. (The slots
    a, b are 0: no gated row's activation has parameters.)"""
    n = arrays[0].size
    kernel(*[_flat(v) for v in arrays], _ONE_ROW, n, n, 0.0, 0.0, np.zeros(2, np.int64), n)


def _two_array_forward(row, fn):
    """``f(a) * b`` (the rows gating their first input; glu has the packed form only)."""
    kernels = _Kernels(row, FORWARD, fn)

    def forward(a, b, approximate=None, *, out=None, accuracy=None):
        # HOT: two C-contiguous float32/float64 arrays of one shape, below the threads'
        # size, into a new array or a C-contiguous out
        if type(a) is np.ndarray and (a.dtype is F32 or a.dtype is F64):
            dtype, n = a.dtype, a.size
            if (
                _plain(b, dtype, n)
                and a.shape == b.shape
                and a.flags.c_contiguous
                and n < kernels.threshold
            ):
                kernel = kernels.get(dtype, approximate, accuracy)
                if out is None:
                    y = np.empty_like(a)
                    _one_row(kernel, a, b, y)
                    return y
                if _writable(out, dtype, n) and out.shape == a.shape and _apart(out, (a, b)):
                    _one_row(kernel, a, b, out)
                    return out
        arrays, result = _arrays({"a": a, "b": b}, fn)
        _same_shape(arrays["a"], arrays["b"], fn)
        compute = COMPUTE_DTYPE[result]
        kernel = kernels.get(compute, approximate, accuracy)
        arrays = _computable(arrays, result)
        shape = arrays["a"].shape
        y = Output(out, shape, result, compute, fn, "out")
        u, v = arrays["a"], arrays["b"]
        kernels.run(kernel, (_whole(u), _whole(v)), (_whole(y.array),), u.size)
        return y.finish()

    return forward


def _two_array_backward(row, fn):
    """(grad_a, grad_b) of ``f(a) * b``."""
    kernels = _Kernels(row, BACKWARD, fn)

    def backward(grad_out, a, b, approximate=None, *, out=None, accuracy=None):
        # HOT: as the forward's, grad_out too, into new arrays or a pair of C-contiguous
        # arrays (which may be a and b themselves)
        if type(a) is np.ndarray and (a.dtype is F32 or a.dtype is F64):
            dtype, n = a.dtype, a.size
            if (
                _plain(b, dtype, n)
                and _plain(grad_out, dtype, n)
                and a.shape == b.shape == grad_out.shape
                and a.flags.c_contiguous
                and n < kernels.threshold
            ):
                kernel = kernels.get(dtype, approximate, accuracy)
                if out is None:
                    ga, gb = np.empty_like(a), np.empty_like(a)
                    _one_row(kernel, grad_out, a, b, ga, gb)
                    return ga, gb
                if (
                    type(out) is tuple
                    and len(out) == 2
                    and _writable(out[0], dtype, n)
                    and _writable(out[1], dtype, n)
                    and out[0].shape == out[1].shape == a.shape
                    and not np.may_share_memory(out[0], out[1])
                    and _apart(out[0], (grad_out, a, b))
                    and _apart(out[1], (grad_out, a, b))
                ):
                    _one_row(kernel, grad_out, a, b, out[0], out[1])
                    return out
        arrays, result = _arrays({"a": a, "b": b}, fn)
        _same_shape(arrays["a"], arrays["b"], fn)
        compute = COMPUTE_DTYPE[result]
        kernel = kernels.get(compute, approximate, accuracy)
        shape = arrays["a"].shape
        g = _grad_out(grad_out, shape, result, fn)
        arrays = _computable({"g": g, **arrays}, result)
        out_a, out_b = _pair_out(out, fn)
        grad_a = Output(out_a, shape, result, compute, fn, "out[0]")
        grad_b = Output(out_b, shape, result, compute, fn, "out[1]")
        inputs = (_whole(arrays["g"]), _whole(arrays["a"]), _whole(arrays["b"]))
        kernels.run(kernel, inputs, (_whole(grad_a.array), _whole(grad_b.array)), arrays["a"].size)
        return grad_a.finish(), grad_b.finish()

    return backward


def _plain_halves(x, dim, threshold):
    """(outer, half) of halving a C-contiguous float32/float64 ndarray ``x`` along
    ``dim`` (an int in range, the axis even) below the threads' size; None for anything
    else (the general path validates and raises)."""
    if type(x) is not np.ndarray or (x.dtype is not F32 and x.dtype is not F64):
        return None
    shape, ndim = x.shape, x.ndim
    if type(dim) is not int or not -ndim <= dim < ndim or not x.flags.c_contiguous:
        return None
    axis = dim % ndim
    if shape[axis] % 2 or x.size // 2 >= threshold:
        return None
    return math.prod(shape[:axis]), shape[axis] // 2 * math.prod(shape[axis + 1 :])


_STRIDES = {}  # (row strides of a call's operands) -> the int64 array the kernels read


def _strides(*values):
    array = _STRIDES.get(values)
    if array is None:
        if len(_STRIDES) > 256:
            _STRIDES.clear()
        array = _STRIDES[values] = np.array(values, np.int64)
    return array


def _packed_forward(row, fn):
    kernels = _Kernels(row, FORWARD, fn)
    gate_first = row.gate == GATE_FIRST

    def forward(x, dim=-1, approximate=None, *, out=None, accuracy=None):
        # HOT: a C-contiguous float32/float64 ndarray below the threads' size, into a new
        # array or a C-contiguous out clear of x
        geometry = _plain_halves(x, dim, kernels.threshold)
        if geometry is not None:
            outer, half = geometry
            n = outer * half
            shape = list(x.shape)
            shape[dim] //= 2
            if out is None:
                y = np.empty(shape, x.dtype)
            elif (
                _writable(out, x.dtype, n)
                and list(out.shape) == shape
                and not np.may_share_memory(out, x)
            ):
                y = out
            else:
                y = None
            if y is not None and n:
                kernel = kernels.get(x.dtype, approximate, accuracy)
                flat = x.reshape(-1)
                first, second = flat, flat[half:]
                u, v = (first, second) if gate_first else (second, first)
                counters = np.zeros(2, np.int64)
                kernel(
                    u,
                    v,
                    y.reshape(-1),
                    _strides(2 * half, 2 * half, half),
                    half,
                    n,
                    0.0,
                    0.0,
                    counters,
                    n,
                )
                return y
        arrays, result = _arrays({"x": x}, fn)
        compute = COMPUTE_DTYPE[result]
        kernel = kernels.get(compute, approximate, accuracy)
        x = _computable(arrays, result)["x"]
        outer, half, half_shape = _split_geometry(x.shape, _axis(dim, x.ndim, fn), fn)
        y = Output(out, half_shape, result, compute, fn, "out")
        u, v = row.which_is_u(*_halves(x, outer, half))
        y_rows = _Operand(y.array, y.array.reshape(-1), half)
        kernels.run(kernel, (u, v), (y_rows,), half)
        return y.finish()

    return forward


def _packed_backward(row, fn):
    kernels = _Kernels(row, BACKWARD, fn)
    gate_first = row.gate == GATE_FIRST

    def backward(grad_out, x, dim=-1, approximate=None, *, out=None, accuracy=None):
        # HOT: as the forward's, grad_out too, into a new array or a C-contiguous out that
        # is x itself or clear of x and grad_out
        geometry = _plain_halves(x, dim, kernels.threshold)
        if geometry is not None and _plain(grad_out, x.dtype, geometry[0] * geometry[1]):
            outer, half = geometry
            n = outer * half
            shape = list(x.shape)
            shape[dim] //= 2
            if list(grad_out.shape) != shape:
                gx = None
            elif out is None:
                gx = np.empty_like(x)
            elif (
                _writable(out, x.dtype, x.size)
                and out.shape == x.shape
                and (out is x or not np.may_share_memory(out, x))
                and not np.may_share_memory(out, grad_out)
            ):
                gx = out
            else:
                gx = None
            if gx is not None and n:
                kernel = kernels.get(x.dtype, approximate, accuracy)
                flat, flat_g = x.reshape(-1), gx.reshape(-1)
                if gate_first:
                    u, v, gu, gv = flat, flat[half:], flat_g, flat_g[half:]
                else:
                    u, v, gu, gv = flat[half:], flat, flat_g[half:], flat_g
                rows = 2 * half
                strides = _strides(half, rows, rows, rows, rows)
                counters = np.zeros(2, np.int64)
                kernel(grad_out.reshape(-1), u, v, gu, gv, strides, half, n, 0.0, 0.0, counters, n)
                return gx
        arrays, result = _arrays({"x": x}, fn)
        compute = COMPUTE_DTYPE[result]
        kernel = kernels.get(compute, approximate, accuracy)
        x = arrays["x"]
        outer, half, half_shape = _split_geometry(x.shape, _axis(dim, x.ndim, fn), fn)
        g = _grad_out(grad_out, half_shape, result, fn)
        arrays = _computable({"g": g, "x": x}, result)
        g, x = arrays["g"], arrays["x"]
        grad_x = Output(out, x.shape, result, compute, fn, "out")
        u, v = row.which_is_u(*_halves(x, outer, half))
        grad_u, grad_v = row.which_is_u(*_halves(grad_x.array, outer, half))
        g_rows = _Operand(g, g.reshape(-1), half)
        kernels.run(kernel, (g_rows, u, v), (grad_u, grad_v), half)
        return grad_x.finish()

    return backward


@dataclass(frozen=True)
class GatedForm:
    """One public function of a gated row: the row's name + ``suffix``; its array
    arguments; whether it takes one packed array (halved along ``dim``); how many arrays
    it returns; what it computes (its docstring's first line, from the row's formula)."""

    suffix: str
    factory: Callable
    inputs: tuple
    packed: bool
    outputs: int
    summary: str


# fmt: off
TWO_ARRAY_FORMS = (
    GatedForm("", _two_array_forward, ("a", "b"), False, 1, "{formula}"),
    GatedForm("_backward", _two_array_backward, ("grad_out", "a", "b"), False, 2,
              "(grad_a, grad_b) of {formula}, both in one pass"),
    GatedForm("_packed", _packed_forward, ("x",), True, 1,
              "{formula}, a and b the two halves of x along dim"),
    GatedForm("_packed_backward", _packed_backward, ("grad_out", "x"), True, 1,
              "grad_x of {formula} (a, b the halves of x along dim): (grad_a, grad_b) packed "
              "as x is"),
)
PACKED_FORMS = (  # glu: PyTorch's, the packed form under the plain names
    GatedForm("", _packed_forward, ("x",), True, 1,
              "{formula}, a and b the two halves of x along dim"),
    GatedForm("_backward", _packed_backward, ("grad_out", "x"), True, 1,
              "grad_x of {formula} (a, b the halves of x along dim), packed as x is"),
)
# fmt: on


def forms_of(row):
    """The public functions a gated row has."""
    return TWO_ARRAY_FORMS if row.gate == GATE_FIRST else PACKED_FORMS


def _signature(form, row):
    P = inspect.Parameter
    params = [P(name, P.POSITIONAL_OR_KEYWORD) for name in form.inputs]
    if form.packed:
        params.append(P("dim", P.POSITIONAL_OR_KEYWORD, default=-1))
    if row.variant:
        params.append(P("approximate", P.POSITIONAL_OR_KEYWORD, default="none"))
    params.append(P("out", P.KEYWORD_ONLY, default=None))
    params.append(P("accuracy", P.KEYWORD_ONLY, default=None))
    return inspect.Signature(params)


def build_gated_functions():
    """{public name: function} for every row of the gated table and each of its forms."""
    functions = {}
    for row in GATED:
        for form in forms_of(row):
            name = row.name + form.suffix
            fn = form.factory(row, name)
            fn.__name__ = fn.__qualname__ = name
            fn.__module__ = "fastgrad"
            fn.__signature__ = _signature(form, row)
            fn.__doc__ = gated_doc(row, form)
            functions[name] = fn
    return functions
