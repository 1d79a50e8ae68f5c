"""The wrapper factory: the thin Python layer between a user's arrays and a kernel.

Per call: check and coerce the inputs (dtype policy below), check ``out``, pick the
serial or parallel kernel by size, flatten, run, reshape. Errors are raised before
anything is written. The common case (a C-contiguous float32/float64 ndarray) takes a
fast path of a few attribute checks.

Dtype policy (NumPy's, as for ``np.exp``): float32 and float64 compute in their own
precision; float16 computes in float32 and returns float16; bool and integers become
float64; anything else (complex, object, strings, datetimes) is a TypeError.
"""

import functools
import inspect
import math

import numpy as np

from . import _duck, _threads
from ._kernels import kernel_set
from ._kinds import kinds_of
from ._run import run_chunked, run_half

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
# the dtype each array dtype computes in: float16 in float32 (``fastgrad._run.run_half``)
_COMPUTE_DTYPE = {_F16: _F32, _F32: _F32, _F64: _F64}
_NATIVE_FLOATS = {2: _F16, 4: _F32, 8: _F64}
_F32_MAX = float(np.finfo(np.float32).max)
_F32_SMALLEST = float(np.finfo(np.float32).smallest_subnormal)


# ---------------------------------------------------------------------------- inputs


def _result_dtype(dtype, fn, what):
    if dtype.kind == "f" and dtype.itemsize in (2, 4, 8):
        # the canonical native dtype object (``dtype.name`` is slow: avoid it when native)
        return _NATIVE_FLOATS[dtype.itemsize] if dtype.isnative else np.dtype(dtype.name)
    if dtype.kind in "biu":
        return _F64
    raise TypeError(
        f"{fn}: {what} has dtype {dtype}, which fastgrad does not support; "
        "use float16, float32 or float64 (bool and integers are converted to float64)"
    )


def _coerce(x, fn, what):
    """(C-contiguous array in the result dtype, result dtype) for any input."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{fn}: {what} is a masked array; fastgrad would compute over the masked "
            "values and drop the mask: pass x.filled(...) or x.data, and re-apply the mask"
        )
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError, RuntimeError) as exc:  # RuntimeError: a torch
            # tensor that requires grad refuses conversion
            raise TypeError(f"{fn}: {what} is not an array of numbers ({exc})") from None
    result = _result_dtype(x.dtype, fn, what)
    return np.asarray(x, dtype=result, order="C"), result


def _coerce_pair(grad_out, x, fn, what="x"):
    """Both inputs as C-contiguous arrays of one shape (NumPy's broadcasting: a scalar or
    smaller grad_out, or x, is repeated) and the result dtype."""
    x, x_result = _coerce(x, fn, what)
    if type(grad_out) in _duck.PYTHON_NUMBERS:  # NumPy's rule: a Python number takes x's dtype
        try:
            with np.errstate(over="ignore"):  # 1e300 in float32: inf, quietly
                g, g_result = np.asarray(grad_out, dtype=x_result), x_result
        except OverflowError:
            raise ValueError(f"{fn}: grad_out {grad_out!r:.40} is too large for a float") from None
    else:
        g, g_result = _coerce(grad_out, fn, "grad_out")
    if g.shape != x.shape:
        try:
            shape = np.broadcast_shapes(g.shape, x.shape)
        except ValueError:
            raise ValueError(
                f"{fn}: grad_out and {what} must have broadcastable shapes, got {g.shape} "
                f"and {x.shape}"
            ) from None
        g = np.ascontiguousarray(np.broadcast_to(g, shape))
        x = np.ascontiguousarray(np.broadcast_to(x, shape))
    if g_result is x_result:
        return g, x, x_result
    result = np.promote_types(g_result, x_result)
    return g.astype(result, copy=False), x.astype(result, copy=False), result


def _direct_out(out, like):
    """Can the kernel write straight into ``out``? (ndarray, like's dtype and shape,
    C-contiguous, writeable). Anything else goes through ``_check_out``."""
    if type(out) is not np.ndarray or out.dtype is not like.dtype or out.shape != like.shape:
        return False
    flags = out.flags
    return flags.c_contiguous and flags.writeable


def _writable_1d(out, dtype, size):
    """``_direct_out`` for a 1-D result, testing ints instead of shape tuples (fast paths)."""
    if type(out) is not np.ndarray or out.dtype is not dtype or out.ndim != 1 or out.size != size:
        return False
    flags = out.flags
    return flags.c_contiguous and flags.writeable


def _duck_dtype(inputs, fn):
    """The result dtype for Dask/xarray inputs, by the dtype policy (a Python number
    beside them takes the array's dtype, as in NumPy)."""
    arrays = [v for v in inputs if type(v) not in _duck.PYTHON_NUMBERS]
    return np.result_type(*(_result_dtype(np.dtype(v.dtype), fn, "input") for v in arrays))


def _check_out(out, shape, dtype, fn, what="out"):
    """Raise for an unusable ``out``; a usable one is written through a temporary."""
    if isinstance(out, np.ma.MaskedArray):
        raise TypeError(f"{fn}: {what} is a masked array; pass a plain numpy.ndarray")
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: {what} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype and out.dtype.newbyteorder("=") != dtype:  # any byte order
        raise TypeError(f"{fn}: {what} has dtype {out.dtype}, the result's dtype is {dtype}")
    if out.shape != shape:
        raise ValueError(f"{fn}: {what} has shape {out.shape}, the result's shape is {shape}")
    if not out.flags.writeable:
        raise ValueError(f"{fn}: {what} is read-only")


def _flat(a):
    return a if a.ndim == 1 else a.reshape(-1)


def _finish(res, result):
    """Cast a computed array to the result dtype; 0-d gives a NumPy scalar, as ufuncs do."""
    if res.dtype is not result:
        with np.errstate(over="ignore", under="ignore"):  # float32 -> float16: quietly
            res = res.astype(result)
    return res if res.ndim else res[()]


def _store(out, res):
    """Copy a temporary result into a strided or float16 ``out``."""
    with np.errstate(over="ignore", under="ignore"):
        out[...] = res


# ---------------------------------------------------------------------------- slots


class _Params:
    """Turns keyword parameters into the variant (which kernels) and the kernel slots
    (a, b), as Python floats."""

    def __init__(self, activation):
        self.to_slots = activation.params
        self.variant = activation.variant
        self.signature = []
        if self.to_slots is not None:
            self.signature = [
                inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
                for p in inspect.signature(self.to_slots).parameters.values()
            ]
        self.required = [p.name for p in self.signature if p.default is p.empty]
        self.values = list(activation.maths())
        if self.variant is not None:
            self.signature.append(
                inspect.Parameter(
                    self.variant.param, inspect.Parameter.KEYWORD_ONLY, default=self.values[0]
                )
            )
        self.names = [p.name for p in self.signature]
        # (variant value, a, b) of a call without keywords; with a required parameter no
        # call goes without them (the slots are then placeholders, never used)
        self.default_slots = (0.0, 0.0)
        if not self.required and self.to_slots:
            self.default_slots = tuple(self.to_slots())
        self.default = (self.values[0], *self.default_slots)

    def resolve(self, params, compute, fn):
        """(variant value, a, b) for keyword ``params``, validated; the slots
        representable in the ``compute`` dtype."""
        if not self.names and params:
            raise TypeError(f"{fn}() takes no parameters, got {', '.join(params)}")
        unknown = [k for k in params if k not in self.names]
        if unknown:
            raise TypeError(
                f"{fn}() got unexpected parameter(s) {', '.join(unknown)}; "
                f"its parameters are {', '.join(self.names)}"
            )
        missing = [k for k in self.required if k not in params]
        if missing:
            raise TypeError(f"{fn}() missing required parameter(s): {', '.join(missing)}")
        value = self.values[0]
        if self.variant is not None and self.variant.param in params:
            params = dict(params)
            value = params.pop(self.variant.param)
            if not isinstance(value, str) or value not in self.values:
                choices = ", ".join(repr(v) for v in self.values)
                raise ValueError(
                    f"{fn}: {self.variant.param} must be one of {choices}, got {value!r}"
                )
        try:
            slots = self.to_slots(**params) if self.to_slots else (0.0, 0.0)
        except OverflowError:  # an int too large for a float: a value out of range
            big = ", ".join(f"{k}={v!r:.40}" for k, v in params.items())
            raise ValueError(f"{fn}: a parameter is too large for a float ({big})") from None
        if compute is _F32:
            for slot in slots:
                magnitude = abs(slot)
                if math.isfinite(slot) and (
                    magnitude > _F32_MAX or 0 < magnitude < _F32_SMALLEST / 2
                ):
                    raise ValueError(
                        f"{fn}: the parameter value {slot!r} is not representable in "
                        "float32, the dtype this call computes in"
                    )
        return (value, *slots)


# ---------------------------------------------------------------------------- wrappers
# Each call is: the input as a C-contiguous array of the result dtype (``_as_array``), the kernel
# and its slots (``pick``), then the kernel into a new array or ``out``. At n = 1e3 the
# kernel runs in well under a microsecond, so the common path makes few Python calls.


def _as_array(x, fn):
    """(C-contiguous float32/float64 array, result dtype): ``x`` itself when it is one."""
    if type(x) is np.ndarray and (x.dtype is _F32 or x.dtype is _F64) and x.flags.c_contiguous:
        return x, x.dtype
    return _coerce(x, fn, "x")


def _kernel_picker(activation, kind, params, fn):
    """(pick, fast), the two ways a call of ``kind`` finds its kernel and slots, each
    returning (kernel, a, b) with kernel called as ``kernel(*inputs, *outputs, a, b)``:
    ``pick(inputs, kw)``, the general path's, for any input arrays (the last one's dtype
    and size: serial, or the chunked kernel run on threads; compiled on first use) and
    the variant and slots the keywords select; ``fast(x, kw)``, the fast path's (below)."""
    sets = {
        (value, dt): kernel_set(activation, dt, value)
        for value in activation.maths()
        for dt in (_F32, _F64)
    }
    default, required = params.default, bool(params.required)
    # The default variant's [serial, chunked] per dtype, None until compiled, indexed on
    # the fast path; none when a parameter is required (a call without keywords must raise)
    k32, k64 = (
        (None, None) if required else kernel_set(activation, dt).compiled[kind.name]
        for dt in (_F32, _F64)
    )
    a0, b0 = params.default_slots
    n_out = kind.outputs
    # the backward from the output is a multiply-add per element: memory-bound whatever
    # the activation
    memory_bound = activation.memory_bound or kind.needs_from_output
    threshold = _threads.parallel_min_size(memory_bound)
    resolved = {}  # (dtype, keywords, their types) -> (serial kernel, a, b)

    def pick(inputs, kw):
        arr = inputs[-1]
        dtype = arr.dtype
        parallel = arr.size >= threshold and _threads.current > 1
        compute = _COMPUTE_DTYPE[dtype]
        value, a, b = params.resolve(kw, compute, fn) if kw or required else default
        if dtype is _F16:
            serial = sets[value, compute].get(kind.name, False)
            threads = _threads.current if parallel else 1
            return functools.partial(run_half, serial, n_out, threads), a, b
        kernel = sets[value, dtype].get(kind.name, parallel)
        if parallel:
            kernel = functools.partial(run_chunked, kernel, n_out)
        return kernel, a, b

    # (serial kernel, a0, b0) per dtype for calls without keywords, once compiled: the
    # fast path returns it as it is (building a tuple per call cost ~400 instructions)
    plain32 = plain64 = None

    def remember_plain(dtype):
        nonlocal plain32, plain64
        kernel = (k32 if dtype is _F32 else k64)[0]
        if kernel is None:  # not compiled yet: the general path compiles it
            return _NO_KERNEL
        triple = (kernel, a0, b0)
        if dtype is _F32:
            plain32 = triple
        else:
            plain64 = triple
        return triple

    def remember(key, dtype, kw):
        """Validate keyword parameters not seen before (raising before anything is
        written); remember and return (serial kernel, a, b) once the kernel is compiled."""
        value, a, b = params.resolve(kw, dtype, fn)
        kernel = sets[value, dtype].compiled[kind.name][0]
        if kernel is None:  # not compiled yet: the general path compiles it
            return _NO_KERNEL
        if len(resolved) >= _RESOLVED_MAX:
            resolved.clear()
        resolved[key] = hit = (kernel, a, b)
        return hit

    def fast(x, kw):
        """The fast path's (kernel, a, b): the compiled serial kernel for a 1-D
        C-contiguous float32/float64 ndarray small enough for one thread, and the slots
        of the keyword parameters; kernel None where the general path must run (not
        compiled yet, a parallel call, any other input, an unhashable parameter).
        Read-only inputs qualify: the kernels never write their inputs. Validated
        parameters are remembered per dtype, keyed by value and ``_identity`` (1, 1.0
        and True, and 0.0 and -0.0, compare equal but are different parameters). Tests
        ints and identities only and returns a remembered tuple: a 1e3-element call is
        ~1.5 us, so each avoided tuple or call counts."""
        if type(x) is not np.ndarray or x.ndim != 1:
            return _NO_KERNEL
        dtype = x.dtype
        if dtype is not _F32 and dtype is not _F64:
            return _NO_KERNEL
        if (x.size >= threshold and _threads.current > 1) or not x.flags.c_contiguous:
            return _NO_KERNEL
        if kw:
            key = _params_key(dtype, kw)
            try:
                hit = resolved.get(key)
            except TypeError:  # an unhashable value: the general path validates it
                return _NO_KERNEL
            return hit or remember(key, dtype, kw)
        return (plain32 if dtype is _F32 else plain64) or remember_plain(dtype)

    return pick, fast


def _params_key(dtype, kw):
    """The ``resolved`` key of a call's keyword parameters. Equal keys must mean the same
    parameters, and Python's equality does not tell 1, 1.0 and True apart, nor 0.0 and
    -0.0: for those the key carries each value's ``_identity``. When every value is a
    nonzero float (the usual call) equality is identity and the names and values suffice,
    which halves the key's cost (0.37 vs 0.68 us for two parameters, AMD EPYC). The two
    forms never compare equal: their lengths differ for the same names."""
    for value in kw.values():
        if type(value) is not float or value == 0.0:
            return (dtype, *kw.items(), *map(_identity, kw.values()))
    return (dtype, *kw.items())


def _identity(value):
    """What tells apart parameter values that compare equal: the type, and a float's
    sign (0.0 == -0.0, but threshold's value=-0.0 must give -0.0)."""
    return (type(value), math.copysign(1.0, value)) if type(value) is float else type(value)


# How many validated parameter sets each function remembers (a sweep over many values
# starts afresh, rather than growing without bound).
_RESOLVED_MAX = 256
# The fast path's answer where the general path must run.
_NO_KERNEL = (None, 0.0, 0.0)


def _into_out(kernel, inputs, like, result, out, a, b, fn_name):
    """Run a one-output kernel on flat ``inputs`` into ``out``."""
    if _direct_out(out, like):
        kernel(*inputs, _flat(out), a, b)
        return out
    _check_out(out, like.shape, result, fn_name)
    res = np.empty_like(like)
    kernel(*inputs, _flat(res), a, b)
    _store(out, res)
    return out


def _into_pair(kernel, flat, like, result, out, a, b, fn_name, overlap):
    """Run a pair kernel (one input, (y, dy/dx) out) on ``flat``, into new arrays or the
    pair ``out``. The kernel itself refuses overlapping outputs (it returns False before
    writing); ``overlap`` is the error's message."""
    if out is None:
        y, d = np.empty_like(like), np.empty_like(like)
        kernel(flat, _flat(y), _flat(d), a, b)
        return _finish(y, result), _finish(d, result)
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"{fn_name}: out must be a pair of arrays (y_out, grad_out)")
    y_out, d_out = out
    if _direct_out(y_out, like) and _direct_out(d_out, like):
        if not kernel(flat, _flat(y_out), _flat(d_out), a, b):
            raise ValueError(overlap)
        return out
    _check_out(y_out, like.shape, result, fn_name, "out[0]")
    _check_out(d_out, like.shape, result, fn_name, "out[1]")
    if np.may_share_memory(y_out, d_out):
        raise ValueError(overlap)
    y, d = np.empty_like(like), np.empty_like(like)
    kernel(flat, _flat(y), _flat(d), a, b)
    _store(y_out, y)
    _store(d_out, d)
    return out


def _make_function(activation, kind, params):
    """The public function of one activation and kind: one factory for every kind,
    driven by the kind's arrays in and out. A call takes the fast path (1-D C-contiguous
    float32/float64 ndarrays, a writable 1-D ``out`` or none: a few attribute tests, then
    the compiled kernel) or the general one (``general``: Dask/xarray, coercion,
    broadcasting, any shape, checked ``out``), the same for every kind."""
    fn_name = activation.name + kind.suffix
    pick, fast = _kernel_picker(activation, kind, params, fn_name)
    n_out, two_inputs = kind.outputs, len(kind.inputs) == 2
    what = kind.inputs[-1]  # the second input's name in error messages (x or y)
    overlap = f"{fn_name}: out[0] and out[1] must not overlap"

    def general(inputs, out, kw):
        if any(map(_duck.is_duck, inputs)):
            dtype = functools.partial(_duck_dtype, inputs, fn_name)  # for Dask results
            return _duck.call(public, inputs, out, kw, n_out, dtype)
        if two_inputs:
            g, arr, result = _coerce_pair(*inputs, fn_name, what)
            arrays = (g, arr)
        else:
            arr, result = _as_array(inputs[0], fn_name)
            arrays = (arr,)
        kernel, a, b = pick(arrays, kw)
        flats = [_flat(v) for v in arrays]
        if n_out == 2:
            return _into_pair(kernel, flats[0], arr, result, out, a, b, fn_name, overlap)
        if out is not None:
            return _into_out(kernel, flats, arr, result, out, a, b, fn_name)
        res = np.empty_like(arr)
        kernel(*flats, _flat(res), a, b)
        return res if res.dtype is result and res.ndim else _finish(res, result)

    # The fast paths, one per shape of call: each finds its kernel with ``fast`` and
    # spells out the rest (at 1e3 elements each Python call counts).
    if n_out == 2:

        def public(x, *, out=None, **kw):
            kernel, a, b = fast(x, kw)
            if kernel is not None:
                dtype, size = x.dtype, x.size
                if out is None:
                    y, d = np.empty(size, dtype), np.empty(size, dtype)
                    kernel(x, y, d, a, b)
                    return y, d
                if (
                    type(out) is tuple
                    and len(out) == 2
                    and _writable_1d(out[0], dtype, size)
                    and _writable_1d(out[1], dtype, size)
                ):
                    if not kernel(x, out[0], out[1], a, b):
                        raise ValueError(overlap)
                    return out
            return general((x,), out, kw)

    elif not two_inputs:

        def public(x, *, out=None, **kw):
            kernel, a, b = fast(x, kw)
            if kernel is not None:
                if out is None:
                    res = np.empty(x.size, x.dtype)
                    kernel(x, res, a, b)
                    return res
                if _writable_1d(out, x.dtype, x.size):
                    kernel(x, out, a, b)
                    return out
            return general((x,), out, kw)

    else:

        def backward(grad_out, x, *, out=None, **kw):
            kernel, a, b = fast(x, kw)
            if (
                kernel is not None
                and type(grad_out) is np.ndarray
                and grad_out.dtype is x.dtype
                and grad_out.ndim == 1
                and grad_out.size == x.size
                and grad_out.flags.c_contiguous
            ):
                if out is None:
                    res = np.empty(x.size, x.dtype)
                    kernel(grad_out, x, res, a, b)
                    return res
                if _writable_1d(out, x.dtype, x.size):
                    kernel(grad_out, x, out, a, b)
                    return out
            return general((grad_out, x), out, kw)

        def backward_from_output(grad_out, y, *, out=None, **kw):
            return backward(grad_out, y, out=out, **kw)

        # keyword calls of the backward from the output pass y=
        public = backward_from_output if what == "y" else backward

    return public


# ---------------------------------------------------------------------------- assembly

_X = inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)
_G = inspect.Parameter("grad_out", inspect.Parameter.POSITIONAL_OR_KEYWORD)
_Y = inspect.Parameter("y", inspect.Parameter.POSITIONAL_OR_KEYWORD)
_OUT = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)


def _example(activation, kind):
    """A doctest (run by the test suite); the output shown is the NumPy reference's.
    Required parameters take the table's example values; a pair shows its derivative."""
    from . import reference

    name = activation.name
    params = activation.default_params
    kw = "".join(f", {k}={v!r}" for k, v in params.items())
    x = np.array([-2.0, 0.0, 2.0])
    spelled = {"x": "x", "grad_out": "np.full(3, 0.5)", "y": f"fg.{name}(x)"}
    values = {"x": x, "grad_out": np.full(3, 0.5)}
    if "y" in kind.inputs:
        values["y"] = getattr(reference, name)(x, **params)
    shown = "[1]" if kind.outputs == 2 else ""
    call = f"fg.{name}{kind.suffix}({', '.join(spelled[i] for i in kind.inputs)}{kw}){shown}"
    value = getattr(reference, name + kind.suffix)(*(values[i] for i in kind.inputs), **params)
    value = value[1] if kind.outputs == 2 else value
    return (
        ">>> import numpy as np, fastgrad as fg\n"
        ">>> x = np.array([-2.0, 0.0, 2.0])\n"
        f">>> {call}.round(6)\n{value.round(6)!r}"
    )


def _math_doc(activation):
    """The math docstring; with variants, each variant's under its parameter value."""
    maths = activation.maths()
    if activation.variant is None:
        return inspect.cleandoc(activation.doc)
    return "\n\n".join(
        f"{activation.variant.param}={value!r}:\n\n{inspect.cleandoc(math.__doc__)}"
        for value, math in maths.items()
    )


def _from_output_doc(activation):
    """The from-output derivative's math (its own docstring), after the activation's."""
    return "Given the output:\n\n" + inspect.cleandoc(activation.from_output.__doc__) + "\n\n"


_PARAMETER_OF_INPUT = {"x": _X, "grad_out": _G, "y": _Y}


def _document(fn, activation, kind, params):
    name = activation.name + kind.suffix
    head = [_PARAMETER_OF_INPUT[i] for i in kind.inputs]
    fn.__signature__ = inspect.Signature(head + [_OUT] + params.signature)
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = "fastgrad"
    out_doc = (
        "a pair of arrays (y_out, grad_out) to write into"
        if kind.outputs == 2
        else "an array of the result's shape and dtype to write into (may be an input)"
    )
    example = _example(activation, kind).replace("\n", "\n    ")
    fn.__doc__ = (
        f"{activation.title}: {kind.summary}.\n\n"
        f"Returns {kind.returns}, in the input's shape; float32 stays float32, float64\n"
        f"stays float64, float16 is computed in float32, bool/int become float64.\n"
        f"out: {out_doc}.\n\n"
        f"{_math_doc(activation)}\n\n"
        f"{_from_output_doc(activation) if kind.needs_from_output else ''}"
        f"Example::\n\n    {example}\n"
    )
    return fn


def build_public_functions(table):
    """{public name: function} for every activation in the table and every kind."""
    functions = {}
    for act in table:
        params = _Params(act)
        for kind in kinds_of(act):
            fn = _make_function(act, kind, params)
            functions[act.name + kind.suffix] = _document(fn, act, kind, params)
    return functions
