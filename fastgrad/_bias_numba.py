"""The dense layer's epilogue inside the user's ``@njit`` code: ``fg.gelu_bias(h, b)``,
``fg.gelu_bias_fwd_grad(h, b)``, ``fg.gelu_bias_backward(grad_out, h, b)`` and
``fg.gelu_bias_backward_from_grad(grad_out, d)``, for every activation of the table.

On float arrays (h any layout, copied to C order where it is not; b 1-D with h.shape[-1]
elements; float64 if either is, as NumPy's h + b), with the Python-level parameters
(``_numba``'s rules: the variant and accuracy string constants, numeric parameters
runtime values) and ``out=`` (C-contiguous arrays, a pair for the pair results). The
loops are the kernels' own block loops (``_bias_kernels.block_loops``) run on the calling
thread, so y, d and grad_h are the Python-level call's bit for bit, and so is grad_b
where h.shape[-1] >= ``_bias.SHORT_ROW`` (the same blocks, added in the same order;
shorter rows sum in another order, within the same bound).
"""

import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload

from . import _jit
from ._bias import BLOCK_ELEMENTS, SUFFIXES
from ._bias_kernels import BACKWARD, BACKWARD_FROM_GRAD, FORWARD, FWD_GRAD, block_loops
from ._kernels import kernel_set
from ._numba import _TYPER, _is_none, _level, _Signature, _slots_function, _variant_value

# Numba matches an implementation to the call by its parameter names: each function gets
# one generated with its own (``_numba._Signature``; the typer is ``_numba``'s). The
# implementation names its slots apart from the bias input ``b``. The only generated code
# here.
_IMPLEMENTATION = """
def implementation({signature}):
    slot_a, slot_b = slots({slot_arguments})
    return run(({inputs},), out, slot_a, slot_b)
"""


def _float_of(input_types, name):
    """float64 if any input is, else float32; TypingError for anything but float arrays."""
    if not all(
        isinstance(t, types.Array) and isinstance(t.dtype, types.Float) and t.ndim >= 1
        for t in input_types
    ):
        raise errors.TypingError(
            f"fastgrad.{name}: arrays (1-D or more) of float32 or float64 in @njit code, got "
            f"{', '.join(map(str, input_types))}"
        )
    return np.float64 if any(t.dtype == types.float64 for t in input_types) else np.float32


def _check_outs(out_type, count, F, name):
    """out= must be ``count`` C-contiguous arrays of F (a pair for two)."""
    outs = out_type.types if isinstance(out_type, types.BaseTuple) else (out_type,)
    element = types.float64 if F is np.float64 else types.float32
    fits = [isinstance(o, types.Array) and o.layout == "C" and o.dtype == element for o in outs]
    if len(outs) != count or not all(fits):
        raise errors.TypingError(
            f"fastgrad.{name}: out= must be {'a pair of ' if count == 2 else ''}C-contiguous "
            f"{np.dtype(F).name} array{'s' if count == 2 else ''} in @njit code"
        )


def _flat(F):
    return _jit.scalar(lambda v: np.ascontiguousarray(v).reshape(-1).astype(F))


def _runner(direction, loop, F, with_out, name):
    """The jitted body of one direction for the dtype F."""
    flat, cast = _flat(F), _jit.scalar(lambda v: F(v))

    @_jit.scalar
    def columns(shape, size):
        if shape[-1] != size:
            raise ValueError("fastgrad: b (or grad_b) must have h.shape[-1] elements")
        n = 1
        for extent in shape:
            n *= extent
        rows = n // size if size else 0
        return n, rows, max(1, BLOCK_ELEMENTS // max(size, 1))

    @_jit.scalar
    def summed(g, x, bias, gh, n, cols, rows, per_block, a, b):
        # blocks of per_block rows, each into partial from zero, added in order: the
        # Python-level call's partials and their sum (``_bias``)
        total = np.zeros(cols, np.float64)
        partial = np.zeros(cols, np.float64)
        for first in range(0, rows, per_block):
            partial[:] = 0.0
            last = min(first + per_block, rows)
            if direction == BACKWARD:
                loop(g, x, bias, gh, partial, cols, n, first, last, a, b)
            else:
                loop(g, x, gh, partial, cols, n, first, last, a, b)
            total += partial
        return total.astype(F)

    if direction == FORWARD:

        def run(inputs, out, a, b):
            h, bias = inputs
            n, rows, _ = columns(h.shape, bias.size)
            y = out if with_out else np.empty(h.shape, F)
            if y.shape != h.shape:
                raise ValueError("fastgrad: out has the wrong shape")
            loop(flat(h), flat(bias), y.reshape(-1), bias.size, n, 0, rows, cast(a), cast(b))
            return y

    elif direction == FWD_GRAD:

        def run(inputs, out, a, b):
            h, bias = inputs
            n, rows, _ = columns(h.shape, bias.size)
            if with_out:
                y, d = out
            else:
                y, d = np.empty(h.shape, F), np.empty(h.shape, F)
            if y.shape != h.shape or d.shape != h.shape:
                raise ValueError("fastgrad: out has the wrong shape")
            if y.size and y.ctypes.data == d.ctypes.data:
                raise ValueError("fastgrad: out[0] and out[1] must not overlap")
            ys, ds = y.reshape(-1), d.reshape(-1)
            loop(flat(h), flat(bias), ys, ds, bias.size, n, 0, rows, cast(a), cast(b))
            return y, d

    elif direction == BACKWARD:

        def run(inputs, out, a, b):
            g, h, bias = inputs
            if g.shape != h.shape:
                raise ValueError("fastgrad: grad_out must have h's shape in @njit code")
            n, rows, per_block = columns(h.shape, bias.size)
            gh = out[0] if with_out else np.empty(h.shape, F)
            if gh.shape != h.shape:
                raise ValueError("fastgrad: out has the wrong shape")
            gs, hs, bs = flat(g), flat(h), flat(bias)
            sums = summed(
                gs, hs, bs, gh.reshape(-1), n, bias.size, rows, per_block, cast(a), cast(b)
            )
            if with_out:
                out[1][:] = sums
                return gh, out[1]
            return gh, sums

    else:

        def run(inputs, out, a, b):
            g, d = inputs
            if g.shape != d.shape:
                raise ValueError("fastgrad: grad_out must have d's shape in @njit code")
            cols = d.shape[-1]
            n, rows, per_block = columns(d.shape, cols)
            gh = out[0] if with_out else np.empty(d.shape, F)
            if gh.shape != d.shape:
                raise ValueError("fastgrad: out has the wrong shape")
            gs, ds = flat(g), flat(d)
            sums = summed(gs, ds, ds, gh.reshape(-1), n, cols, rows, per_block, a, b)
            if with_out:
                out[1][:] = sums
                return gh, out[1]
            return gh, sums

    return _jit.scalar(run)


def _register(public, activation, direction):
    variant = activation.variant.param if activation.variant else None
    signature = _Signature(public, variant)
    slots = _slots_function(len(signature.numeric))
    name = public.__name__
    count = 1 if direction == FORWARD else 2

    def build(input_types, out_type, parameter_types):
        F = _float_of(input_types, name)
        if direction == BACKWARD_FROM_GRAD:  # the product's convention only
            value, level = activation.maths_default(), "accurate"
        else:
            value = _variant_value(activation, variant, parameter_types, name)
            level = _level(parameter_types, name)
        with_out = not _is_none(out_type)
        if with_out:
            _check_outs(out_type, count, F, name)
        loop = block_loops(kernel_set(activation, F, value, level))[direction]
        run = _runner(direction, loop, F, with_out, name)
        return signature.function(_IMPLEMENTATION, {"slots": slots, "run": run})

    typer = signature.function(_TYPER, {"build": build})
    overload(public, jit_options=_jit.INLINE_OPTIONS, prefer_literal=True)(typer)


def register_bias(functions, table):
    """Make every epilogue function of ``functions`` ({name: function}) callable from
    @njit code."""
    for activation in table:
        for direction, suffix in SUFFIXES.items():
            _register(functions[activation.name + suffix], activation, direction)
