"""The wrapper factory: the thin Python layer between a user's arrays and a kernel.

Per call: the inputs as C-contiguous arrays of the result dtype (``_arrays``: NumPy's
dtype policy, broadcasting), the kernel and its slots (``pick``: the keyword parameters
by ``_params``, serial or on threads by size), then the kernel into a new array or
``out``, reshaped. Errors are raised before anything is written. At n = 1e3 a kernel runs
in well under a microsecond, so the common case (1-D C-contiguous float32/float64
ndarrays) takes a fast path of a few attribute tests: the code marked HOT below, where
each Python call and tuple counts (``tools/call_cost.py`` counts its instructions). The
docstrings and signatures are ``_docs``'.
"""

import functools

import numpy as np

from . import _accuracy, _duck, _protocol, _threads
from ._accuracy import FAST
from ._arrays import (
    COMPUTE_DTYPE,
    F16,
    F32,
    F64,
    as_array,
    coerce_pair,
    duck_dtype,
    finish,
    flattened,
    into_out,
    into_pair,
    writable_1d,
)
from ._docs import document
from ._kernels import kernel_set
from ._kinds import kinds_of
from ._params import Params, params_key
from ._run import run_chunked, run_half, run_repeated_grad_out


def _kernel_picker(activation, kind, params, fn):
    """(pick, fast), the two ways a call of ``kind`` finds its kernel and slots, each
    returning (kernel, a, b) with kernel called as ``kernel(*inputs, *outputs, a, b)``:
    ``pick(inputs, kw)``, the general path's, for any input arrays (the last one's dtype
    and size: serial, or the chunked kernel run on threads; compiled on first use) and
    the variant, accuracy level and slots the keywords select; ``fast(x, kw)``, the fast
    path's (below)."""
    default, required = params.default, bool(params.required)
    a0, b0 = params.default_slots
    n_out = kind.outputs
    # the backward from the output is a multiply-add per element: memory-bound whatever
    # the activation
    memory_bound = activation.memory_bound or kind.needs_from_output
    threshold = _threads.parallel_min_size(memory_bound)
    resolved = {}  # (dtype, keywords, their types) -> (serial kernel, a, b)

    def kernels_for(dtype, value, level):
        """A call's kernel set: its variant value in its dtype, at its level (None: the
        process-wide one)."""
        return kernel_set(activation, dtype, value, level or _accuracy.current)

    def pick(inputs, kw):
        """(kernel, a, b) for the input arrays: the kernel serial, chunked on threads,
        through float16 blocks, or with a grad_out of one element repeated (where x has
        more)."""
        arr = inputs[-1]
        dtype = arr.dtype
        parallel = arr.size >= threshold and _threads.current > 1
        compute = COMPUTE_DTYPE[dtype]
        value, level, a, b = params.resolve(kw, compute, fn) if kw or required else default
        threads = _threads.current if parallel else 1
        if dtype is F16:  # rounding to float16 hides the fast level's error (``_accuracy``)
            serial = kernel_set(activation, compute, value, FAST).get(kind.name, False)
            return functools.partial(run_half, serial, n_out, threads), a, b
        kernels = kernels_for(dtype, value, level)
        if len(inputs) == 2 and inputs[0].size != arr.size:  # one period of x, repeated
            serial = kernels.get(kind.name, False)
            return functools.partial(run_repeated_grad_out, serial, threads), a, b
        kernel = kernels.get(kind.name, parallel)
        if parallel:
            kernel = functools.partial(run_chunked, kernel, n_out)
        return kernel, a, b

    # (serial kernel, a0, b0) per dtype for calls without keywords, once compiled, at
    # the process-wide level: the fast path returns it as it is (building a tuple per
    # call cost ~400 instructions)
    plain32 = plain64 = None

    def remember_plain(dtype):
        nonlocal plain32, plain64
        if required:  # a call without keywords must raise: the general path does
            return _NO_KERNEL
        kernels = kernels_for(dtype, None, None)
        kernel = kernels.compiled[kind.name][0]
        if kernel is None:  # not compiled yet: the general path compiles it
            return _NO_KERNEL
        triple = (kernel, a0, b0)
        if dtype is F32:
            plain32 = triple
        else:
            plain64 = triple
        return triple

    def remember(key, dtype, kw):
        """Validate keyword parameters not seen before (raising before anything is
        written); remember and return (serial kernel, a, b) once the kernel is compiled."""
        if not _protocol.UFUNC_KEYWORDS.isdisjoint(kw):  # where=, dtype=: the general path
            return _NO_KERNEL
        value, level, a, b = params.resolve(kw, dtype, fn)
        kernels = kernels_for(dtype, value, level)
        kernel = kernels.compiled[kind.name][0]
        if kernel is None:  # not compiled yet: the general path compiles it
            return _NO_KERNEL
        if len(resolved) >= _RESOLVED_MAX:
            resolved.clear()
        resolved[key] = hit = (kernel, a, b)
        return hit

    def forget():
        """The process-wide level changed: what was remembered for the old one goes."""
        nonlocal plain32, plain64
        plain32 = plain64 = None
        resolved.clear()

    _accuracy.on_change(forget)

    # HOT: every fast-path call runs this
    def fast(x, kw):
        """The fast path's (kernel, a, b): the compiled serial kernel for a 1-D
        C-contiguous float32/float64 ndarray small enough for one thread, and the slots
        of the keyword parameters; kernel None where the general path must run (not
        compiled yet, a parallel call, any other input, an unhashable parameter).
        Read-only inputs qualify: the kernels never write their inputs. Validated
        parameters are remembered per dtype, keyed by value and identity
        (``params_key``: 1, 1.0 and True, and 0.0 and -0.0, compare equal but are
        different parameters). Tests
        ints and identities only and returns a remembered tuple: a 1e3-element call is
        ~1.5 us, so each avoided tuple or call counts."""
        if type(x) is not np.ndarray or x.ndim != 1:
            return _NO_KERNEL
        dtype = x.dtype
        if dtype is not F32 and dtype is not F64:
            return _NO_KERNEL
        if (x.size >= threshold and _threads.current > 1) or not x.flags.c_contiguous:
            return _NO_KERNEL
        if kw:
            key = params_key(dtype, kw)
            try:
                hit = resolved.get(key)
            except TypeError:  # an unhashable value: the general path validates it
                return _NO_KERNEL
            return hit or remember(key, dtype, kw)
        return (plain32 if dtype is F32 else plain64) or remember_plain(dtype)

    return pick, fast


# How many validated parameter sets each function remembers (a sweep over many values
# starts afresh, rather than growing without bound).
_RESOLVED_MAX = 256
# The fast path's answer where the general path must run.
_NO_KERNEL = (None, 0.0, 0.0)


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
        if any(map(_protocol.wants_protocol, inputs)) or _protocol_out(out):
            return _protocol.call(ufunc, inputs, out, kw)
        if not _protocol.UFUNC_KEYWORDS.isdisjoint(kw):
            return _protocol.with_ufunc_keywords(public, inputs, out, kw)
        if any(map(_duck.is_duck, inputs)):
            dtype = functools.partial(duck_dtype, inputs, fn_name)  # for Dask results
            return _duck.call(public, inputs, out, kw, n_out, dtype)
        if two_inputs:
            g, arr, result = coerce_pair(*inputs, fn_name, what)
            if g.size != arr.size and arr.dtype is F16:  # float16 blocks take full arrays
                g = np.ascontiguousarray(np.broadcast_to(g.reshape(()), arr.shape))
            arrays = (g, arr)
        else:
            arr, result = as_array(inputs[0], fn_name)
            arrays = (arr,)
        kernel, a, b = pick(arrays, kw)
        flats = [flattened(v) for v in arrays]
        if n_out == 2:
            return into_pair(kernel, flats[0], arr, result, out, a, b, fn_name, overlap)
        if out is not None:
            return into_out(kernel, flats, arr, result, out, a, b, fn_name)
        res = np.empty_like(arr)
        kernel(*flats, flattened(res), a, b)
        return res if res.dtype is result and res.ndim else finish(res, result)

    # HOT: the fast paths, one per shape of call: each finds its kernel with ``fast`` and
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
                    and writable_1d(out[0], dtype, size)
                    and writable_1d(out[1], dtype, size)
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
                if writable_1d(out, x.dtype, x.size):
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
                if writable_1d(out, x.dtype, x.size):
                    kernel(grad_out, x, out, a, b)
                    return out
            return general((grad_out, x), out, kw)

        def backward_from_output(grad_out, y, *, out=None, **kw):
            return backward(grad_out, y, out=out, **kw)

        # keyword calls of the backward from the output pass y=
        public = backward_from_output if what == "y" else backward

    ufunc = _protocol.UfuncView(public, len(kind.inputs), n_out)
    return public


def _protocol_out(out):
    if out is None or type(out) is np.ndarray:
        return False
    return any(map(_protocol.wants_protocol, out if isinstance(out, tuple) else (out,)))


def build_public_functions(table):
    """{public name: function} for every activation in the table and every kind."""
    functions = {}
    for act in table:
        params = Params(act)
        for kind in kinds_of(act):
            fn = _make_function(act, kind, params)
            functions[act.name + kind.suffix] = document(fn, act, kind, params)
    return functions
