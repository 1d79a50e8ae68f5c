"""The gated activations inside the user's ``@njit`` code (Numba overloads of
``fastgrad.swiglu``, ``glu``, ... : every form of ``_gated_api``).

- On scalars (two-array forms): ``f(a) * b`` and its gradients, the activation's scalar
  functions compiled inline, as ``_numba`` does for the element-wise activations.
- On arrays: the kernels' own row loops (``_gated_kernels``), so the results are bit for
  bit the Python-level call's; arrays of another float dtype are converted, non-
  contiguous ones copied; ``out=`` C-contiguous arrays of the result's shape and dtype,
  which may be the inputs themselves, not a part of them.
- ``approximate`` and ``accuracy`` are string constants (they select code); omitted or
  None, ``accuracy`` is ``"accurate"``.
"""

import numpy as np
from numba import types
from numba.core import errors
from numba.cpython.unsafe.tuple import tuple_setitem
from numba.extending import overload

from . import _jit
from ._gated import GATE_FIRST, GATED
from ._gated_api import forms_of
from ._gated_kernels import row_loops
from ._kernels import kernel_set
from ._numba import _constant_string, _is_none, _level, _numba_float


def _variant(row, approximate, name):
    if not row.variant:
        if not _is_none(approximate):
            raise errors.TypingError(f"fastgrad.{name}() takes no approximate")
        return None
    chosen = _constant_string(approximate)
    chosen = row.base.maths_default() if chosen is None else chosen
    if not isinstance(chosen, str) or chosen not in row.base.maths():
        raise errors.TypingError(
            f"fastgrad.{name}: approximate must be a string constant, one of "
            f"{', '.join(map(repr, row.base.maths()))}"
        )
    return chosen


def _compiled(row, name, input_types, approximate, accuracy):
    """(scalar functions, row loops, dtype) for a call's types."""
    floats = [_numba_float(t) for t in input_types]
    if None in floats:
        raise errors.TypingError(f"fastgrad.{name}: inputs must be real numbers or arrays")
    dtype = np.dtype(np.float64 if types.float64 in floats else np.float32)
    level = _level({"accuracy": accuracy}, name)
    kernels = kernel_set(row.base, dtype, _variant(row, approximate, name), level)
    return kernels, row_loops(kernels), dtype


def _flat(F):
    return _jit.scalar(lambda v: np.ascontiguousarray(v).astype(F).reshape(-1))


def _register_two_array(row, name, backward):
    def typer(*args):
        *inputs, approximate, out, accuracy = args
        kernels, (forward_row, backward_row), dtype = _compiled(
            row, name, inputs, approximate, accuracy
        )
        F, scalars = dtype.type, kernels.scalars()
        f, df, times, cast = (
            scalars["forward"],
            scalars["derivative"],
            scalars["gradient_product"],
            kernels.cast,
        )
        arrays = [isinstance(t, types.Array) for t in inputs]
        with_out = not _is_none(out)
        flat = _flat(F)
        if not any(arrays):
            if with_out:
                raise errors.TypingError(f"fastgrad.{name}: out= needs array inputs")
            if backward:

                def scalar_backward(grad_out, a, b, approximate=None, out=None, accuracy=None):
                    g, u, v, z = cast(grad_out), cast(a), cast(b), cast(0.0)
                    return times(g * v, df(u, z, z)), g * f(u, z, z)

                return scalar_backward

            def scalar_forward(a, b, approximate=None, out=None, accuracy=None):
                z = cast(0.0)
                return f(cast(a), z, z) * cast(b)

            return scalar_forward
        if not all(arrays):
            raise errors.TypingError(f"fastgrad.{name}: inputs must all be arrays or scalars")
        if backward:

            def array_backward(grad_out, a, b, approximate=None, out=None, accuracy=None):
                if a.shape != b.shape or grad_out.shape != a.shape:
                    raise ValueError("fastgrad: grad_out, a and b must have one shape")
                if with_out:
                    grad_a, grad_b = out
                    if grad_a.shape != a.shape or grad_b.shape != a.shape:
                        raise ValueError("fastgrad: out has the wrong shape")
                else:
                    grad_a, grad_b = np.empty(a.shape, F), np.empty(a.shape, F)
                z = F(0.0)
                backward_row(
                    flat(grad_out), flat(a), flat(b), grad_a.reshape(-1), grad_b.reshape(-1), z, z
                )
                return grad_a, grad_b

            return array_backward

        def array_forward(a, b, approximate=None, out=None, accuracy=None):
            if a.shape != b.shape:
                raise ValueError("fastgrad: a and b must have the same shape")
            if with_out:
                if out.shape != a.shape:
                    raise ValueError("fastgrad: out has the wrong shape")
                y = out
            else:
                y = np.empty(a.shape, F)
            z = F(0.0)
            forward_row(flat(a), flat(b), y.reshape(-1), z, z)
            return y

        return array_forward

    return typer


def _register_packed(row, name, backward):
    gate_first = row.gate == GATE_FIRST

    def typer(*args):
        *inputs, dim, approximate, out, accuracy = args
        kernels, (forward_row, backward_row), dtype = _compiled(
            row, name, inputs, approximate, accuracy
        )
        F = dtype.type
        if not all(isinstance(t, types.Array) for t in inputs):
            raise errors.TypingError(f"fastgrad.{name}: x (and grad_out) must be arrays")
        with_out = not _is_none(out)
        flat = _flat(F)

        @_jit.scalar
        def geometry(shape, dim):
            ndim = len(shape)
            if not -ndim <= dim < ndim:
                raise ValueError("fastgrad: dim out of range")
            axis = dim % ndim
            if shape[axis] % 2:
                raise ValueError("fastgrad: the halved dimension must be even")
            outer, inner = 1, 1
            for i in range(ndim):
                if i < axis:
                    outer *= shape[i]
                elif i > axis:
                    inner *= shape[i]
            half_shape = tuple_setitem(shape, axis, shape[axis] // 2)
            return outer, shape[axis] // 2 * inner, half_shape

        if backward:

            def packed_backward(grad_out, x, dim=-1, approximate=None, out=None, accuracy=None):
                outer, half, half_shape = geometry(x.shape, dim)
                if grad_out.shape != half_shape:
                    raise ValueError("fastgrad: grad_out has the wrong shape")
                if with_out:
                    if out.shape != x.shape:
                        raise ValueError("fastgrad: out has the wrong shape")
                    grad_x = out
                else:
                    grad_x = np.empty(x.shape, F)
                rows = flat(x).reshape((outer, 2 * half))
                grad_rows = grad_x.reshape((outer, 2 * half))
                g = flat(grad_out).reshape((outer, half))
                z = F(0.0)
                for r in range(outer):
                    first, second = rows[r, :half], rows[r, half:]
                    grad_first, grad_second = grad_rows[r, :half], grad_rows[r, half:]
                    if gate_first:
                        backward_row(g[r], first, second, grad_first, grad_second, z, z)
                    else:
                        backward_row(g[r], second, first, grad_second, grad_first, z, z)
                return grad_x

            return packed_backward

        def packed_forward(x, dim=-1, approximate=None, out=None, accuracy=None):
            outer, half, half_shape = geometry(x.shape, dim)
            if with_out:
                if out.shape != half_shape:
                    raise ValueError("fastgrad: out has the wrong shape")
                y = out
            else:
                y = np.empty(half_shape, F)
            rows = flat(x).reshape((outer, 2 * half))
            y_rows = y.reshape((outer, half))
            z = F(0.0)
            for r in range(outer):
                first, second = rows[r, :half], rows[r, half:]
                if gate_first:
                    forward_row(first, second, y_rows[r], z, z)
                else:
                    forward_row(second, first, y_rows[r], z, z)
            return y

        return packed_forward

    return typer


def _forward_typer(typer):
    def typed(a, b, approximate=None, out=None, accuracy=None):
        return typer(a, b, approximate, out, accuracy)

    return typed


def _backward_typer(typer):
    def typed(grad_out, a, b, approximate=None, out=None, accuracy=None):
        return typer(grad_out, a, b, approximate, out, accuracy)

    return typed


def _packed_forward_typer(typer):
    def typed(x, dim=-1, approximate=None, out=None, accuracy=None):
        return typer(x, dim, approximate, out, accuracy)

    return typed


def _packed_backward_typer(typer):
    def typed(grad_out, x, dim=-1, approximate=None, out=None, accuracy=None):
        return typer(grad_out, x, dim, approximate, out, accuracy)

    return typed


# (packed, backward) -> the typer's signature: Numba matches the implementation's
_SIGNATURES = {
    (False, False): _forward_typer,
    (False, True): _backward_typer,
    (True, False): _packed_forward_typer,
    (True, True): _packed_backward_typer,
}


def register_gated(functions):
    """Make every gated function of ``functions`` callable from @njit code."""
    for row in GATED:
        for form in forms_of(row):
            name = row.name + form.suffix
            backward = form.suffix.endswith("_backward")
            make = _register_packed if form.packed else _register_two_array
            typed = _SIGNATURES[form.packed, backward](make(row, name, backward))
            overload(functions[name], jit_options=_jit.INLINE_OPTIONS, prefer_literal=True)(typed)
