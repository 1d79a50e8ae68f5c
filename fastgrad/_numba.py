"""fastgrad inside the user's own ``@njit`` code: every public function is also a Numba
overload, so ``fg.sigmoid(v)``, ``fg.gelu(x, approximate="tanh")`` or
``fg.leaky_relu_backward(g, x, negative_slope=0.2)`` compile inside a jitted function.

- On a scalar (float32, float64; ints and bools as float64) a call is the activation's
  scalar function, compiled ``forceinline``: LLVM inlines it into the user's loop, which
  then vectorises as fastgrad's own kernels do (a fused dense layer, bias + activation +
  derivative in one loop after the matmul).
- On arrays it is the kernel's loop over the flattened array (``out=`` a C-contiguous
  array of the result's shape), returning the result in the input's shape.
- Same scalar functions, same parameter casts: the results are bit for bit those of the
  Python-level call.
- Parameters: the Python-level names and defaults. The variant parameter
  (``approximate``) must be a string constant (it selects code); numeric parameters are
  runtime values, turned into the kernels' two slots by the same rule as the Python
  layer (in order, the missing ones 0, a None threshold infinite). A NaN parameter
  raises ValueError; the other value checks (celu's alpha != 0, hardtanh's
  min_val <= max_val, ...) are made by the Python-level call only.

The overloads are registered when ``fastgrad`` is imported (Numba finds them when it
compiles a function that calls ``fastgrad.<name>``); nothing is compiled until then.
"""

import functools
import inspect
import math

import numba
import numpy as np
from numba import types
from numba.core import errors
from numba.extending import overload

from . import _jit
from ._accuracy import ACCURATE, LEVELS
from ._kernels import kernel_set
from ._kinds import kinds_of
from ._params import ACCURACY
from ._protocol import UFUNC_KEYWORDS

_NONE = (types.NoneType, types.Omitted)


def _numba_float(ty):
    """The float type an argument computes in (float32 stays, ints and bools float64);
    None for anything else."""
    dtype = ty.dtype if isinstance(ty, types.Array) else ty
    if dtype == types.float32:
        return types.float32
    if isinstance(dtype, (types.Float, types.Integer, types.Boolean)):
        return types.float64
    return None


def _is_none(ty):
    return ty is None or isinstance(ty, _NONE) and getattr(ty, "value", None) is None


def _slot(value):
    """A parameter as a slot value: float(value), inf for None."""
    return math.inf if value is None else float(value)


@overload(_slot, jit_options=_jit.INLINE_OPTIONS)
def _slot_overload(value):
    if _is_none(value):
        return lambda value: math.inf
    if isinstance(value, (types.Float, types.Integer, types.Boolean)):

        def impl(value):
            v = float(value)
            if v != v:
                raise ValueError("fastgrad: a parameter is NaN")
            return v

        return impl
    raise errors.TypingError(f"fastgrad: a parameter must be a real number, got {value}")


def _loops(scalars, kind, cast):
    """Jitted (on scalars, on flat arrays) for one kind: its loop template's scalar form
    and serial loop (``_templates``), bound to the scalar functions of one dtype and its
    cast, the kernels' own."""
    bound = {glob: scalars[which] for glob, which in kind.scalars}
    bound["_cast"] = cast
    template = kind.template
    scalar = _jit.scalar(template.bind(template.scalar, bound))
    flat = _jit.scalar(template.bind(template.serial, bound))
    return scalar, flat


# ---------------------------------------------------------------------------- generated
# Numba matches an overload's implementation to the call by its parameter names, so each
# public function needs Python functions with its own parameters. They are generated from
# these templates (the only generated code here), with the parameters of the public
# function's signature: inputs, then the required parameters, then out and the rest.
_TYPER = """
def typer({signature}):
    return build(({inputs},), out, {{{parameters}}})
"""
_IMPLEMENTATION = """
def implementation({signature}):
    a, b = slots({slot_arguments})
    return run(({inputs},), out, a, b)
"""


class _Signature:
    """The parameters of a public function, as the generated functions spell them."""

    def __init__(self, public, variant):
        parameters = inspect.signature(public).parameters
        self.name = public.__name__
        self.inputs = [n for n, p in parameters.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
        keywords = {n: p.default for n, p in parameters.items() if p.kind == p.KEYWORD_ONLY}
        keywords.pop("out")
        for ufunc_keyword in UFUNC_KEYWORDS:  # where=, dtype=: not in @njit code
            keywords.pop(ufunc_keyword, None)
        self.required = [n for n, d in keywords.items() if d is inspect.Parameter.empty]
        self.optional = {n: d for n, d in keywords.items() if d is not inspect.Parameter.empty}
        self.numeric = [n for n in keywords if n not in (variant, ACCURACY.name)]

    def function(self, template, namespace, **extra):
        text = ", ".join(
            [*self.inputs, *self.required, "out=None"]
            + [f"{n}={v!r}" for n, v in self.optional.items()]
        )
        source = template.format(
            signature=text,
            inputs=", ".join(self.inputs),
            parameters=", ".join(f"{n!r}: {n}" for n in [*self.required, *self.optional]),
            slot_arguments=", ".join(self.numeric),
        )
        namespace = dict(namespace, **extra)
        exec(compile(source, f"<fastgrad._numba {self.name}>", "exec"), namespace)
        return namespace[template.split("(")[0].split()[-1]]


@functools.cache
def _slots_function(count):
    """The jitted (a, b) from ``count`` parameters (0, 1 or 2), by ``_slot``: one per
    count, shared by every function."""
    if count == 0:
        return _jit.scalar(lambda: (0.0, 0.0))
    if count == 1:
        return _jit.scalar(lambda p: (_slot(p), 0.0))
    return _jit.scalar(lambda p, q: (_slot(p), _slot(q)))


def _register(public, activation, kind):
    """Make ``public`` (fastgrad.<activation><kind's suffix>) callable from @njit code."""
    variant = activation.variant.param if activation.variant else None
    signature = _Signature(public, variant)
    slots = _slots_function(len(signature.numeric))
    n_out = kind.outputs

    def build(input_types, out_type, parameter_types):
        value = _variant_value(activation, variant, parameter_types, public.__name__)
        level = _level(parameter_types, public.__name__)
        floats = [_numba_float(t) for t in input_types]
        if None in floats:
            raise errors.TypingError(
                f"fastgrad.{public.__name__}: inputs must be real numbers or arrays of them, "
                f"got {', '.join(map(str, input_types))}"
            )
        dtype = np.dtype(np.float64 if types.float64 in floats else np.float32)
        kernels = kernel_set(activation, dtype, value, level)
        scalar, flat = _loops(kernels.scalars(), kind, kernels.cast)
        run = _runner(scalar, flat, input_types, n_out, dtype, out_type, public.__name__)
        return signature.function(_IMPLEMENTATION, {"slots": slots, "run": run})

    typer = signature.function(_TYPER, {"build": build})
    overload(public, jit_options=_jit.INLINE_OPTIONS, prefer_literal=True)(typer)


def _constant_string(chosen):
    """A keyword's value when it is a string constant or omitted (its default), else
    ``_NOT_CONSTANT``."""
    if isinstance(chosen, types.StringLiteral):
        return chosen.literal_value
    if isinstance(chosen, str) or chosen is None:  # omitted: Numba passes the default
        return chosen
    if isinstance(chosen, types.Omitted):
        return chosen.value
    if isinstance(chosen, types.NoneType):
        return None
    return _NOT_CONSTANT


_NOT_CONSTANT = object()


def _level(parameter_types, name):
    """The accuracy level a call selects: a string constant, fixed when the calling
    function compiles. Omitted or None: ``"accurate"``, not the process-wide level,
    which can change after the code is compiled (and cached)."""
    chosen = _constant_string(parameter_types[ACCURACY.name])
    if chosen is _NOT_CONSTANT:
        raise errors.TypingError(
            f"fastgrad.{name}: accuracy must be a string constant in @njit code, got "
            f"{parameter_types[ACCURACY.name]}"
        )
    if chosen is None:
        return ACCURATE
    if chosen not in LEVELS:
        raise errors.TypingError(
            f"fastgrad.{name}: accuracy must be one of {', '.join(map(repr, LEVELS))}, "
            f"got {chosen!r}"
        )
    return chosen


def _variant_value(activation, variant, parameter_types, name):
    """The variant a call selects: its string constant, or the default."""
    value = activation.maths_default()
    if variant is None:
        return value
    chosen = parameter_types[variant]
    if isinstance(chosen, types.StringLiteral):
        value = chosen.literal_value
    elif isinstance(chosen, str):  # omitted: Numba passes the default itself
        value = chosen
    elif isinstance(chosen, types.Omitted):
        value = chosen.value
    else:
        raise errors.TypingError(
            f"fastgrad.{name}: {variant} must be a string constant in @njit code, got {chosen}"
        )
    if value not in activation.maths():
        raise errors.TypingError(
            f"fastgrad.{name}: {variant} must be one of "
            f"{', '.join(map(repr, activation.maths()))}, got {value!r}"
        )
    return value


def _flat_input(input_type, F):
    """A jitted function: an input as a flat array of the dtype ``F`` (a scalar: one
    element; an array of another dtype converted, as the scalar form converts)."""
    if not isinstance(input_type, types.Array):
        return _jit.scalar(lambda v: np.full(1, F(v)))
    if input_type.dtype == numba.from_dtype(np.dtype(F)):
        return _jit.scalar(lambda v: np.ascontiguousarray(v).reshape(-1))
    return _jit.scalar(lambda v: np.ascontiguousarray(v).reshape(-1).astype(F))


def _runner(scalar, flat, input_types, n_out, dtype, out_type, name):
    """The jitted body for these input types: scalars -> scalar; any array -> arrays."""
    F = dtype.type
    arrays = [isinstance(t, types.Array) for t in input_types]
    if not any(arrays):
        if not _is_none(out_type):
            raise errors.TypingError(f"fastgrad.{name}: out= needs array inputs")
        if len(arrays) == 1:
            return _jit.scalar(lambda inputs, out, a, b: scalar(inputs[0], a, b))
        return _jit.scalar(lambda inputs, out, a, b: scalar(inputs[0], inputs[1], a, b))
    with_out = not _is_none(out_type)
    if with_out:
        outs = out_type.types if isinstance(out_type, types.BaseTuple) else (out_type,)
        element = types.float64 if dtype == np.float64 else types.float32
        fits = [isinstance(o, types.Array) and o.layout == "C" and o.dtype == element for o in outs]
        if len(outs) != n_out or not all(fits):
            raise errors.TypingError(
                f"fastgrad.{name}: out= must be {'a pair of ' if n_out == 2 else ''}"
                f"C-contiguous {dtype} array{'s' if n_out == 2 else ''} in @njit code"
            )

    if len(arrays) == 2:
        g_flat, x_flat = (_flat_input(t, F) for t in input_types)
        shape_from = 1 if arrays[1] else 0
        both = all(arrays)

        @_jit.scalar
        def flat_inputs(inputs):
            g, x = inputs
            shape = np.shape(inputs[shape_from])
            if both and np.shape(g) != np.shape(x):
                raise ValueError("fastgrad: grad_out and x must have the same shape in @njit")
            gs, xs = g_flat(g), x_flat(x)
            size = max(gs.size, xs.size)
            if gs.size != size:
                gs = np.full(size, gs[0])
            if xs.size != size:
                xs = np.full(size, xs[0])
            return (gs, xs), shape

    else:
        x_flat = _flat_input(input_types[0], F)

        @_jit.scalar
        def flat_inputs(inputs):
            return (x_flat(inputs[0]),), np.shape(inputs[0])

    if n_out == 1:

        @_jit.scalar
        def run(inputs, out, a, b):
            flats, shape = flat_inputs(inputs)
            if with_out:
                if out.shape != shape:
                    raise ValueError("fastgrad: out has the wrong shape")
                result = out
            else:
                result = np.empty(shape, F)
            flat(*flats, result.reshape(-1), a, b)
            return result

        return run

    @_jit.scalar
    def run_pair(inputs, out, a, b):
        flats, shape = flat_inputs(inputs)
        if with_out:
            y, d = out
            if y.shape != shape or d.shape != shape:
                raise ValueError("fastgrad: out has the wrong shape")
        else:
            y, d = np.empty(shape, F), np.empty(shape, F)
        if not flat(*flats, y.reshape(-1), d.reshape(-1), a, b):
            raise ValueError("fastgrad: out[0] and out[1] must not overlap")
        return y, d

    return run_pair


def register_all(functions, table):
    """Register every public function of ``functions`` ({name: function})."""
    for activation in table:
        for kind in kinds_of(activation):
            _register(functions[activation.name + kind.suffix], activation, kind)
