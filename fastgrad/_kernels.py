"""The kernel generator: a scalar (forward, derivative) pair -> compiled array kernels.

Every kernel is one of the loop templates below, compiled with the activation's scalar
functions bound to ``_f``/``_df``, for one dtype: a serial loop, or the chunked loop the
threads of a parallel call share (``fastgrad._threads``). Kernels take C-contiguous 1-D
arrays only (the wrapper flattens), since 'A'-layout loops run ~4x slower. Each kernel
is compiled for one signature and called through that compiled function's own entry
point (``KernelSet.get``), not through Numba's dispatcher: the entry point takes any
C-contiguous array of the dtype, read-only ones (memory maps, np.frombuffer) included,
so a read-only input costs what a writable one does and needs no second compile.

Outputs may alias inputs, and the kernels sort that out themselves (a pointer compare
costs nanoseconds, ``np.may_share_memory`` half a microsecond): when the output *is* an
input they run a loop that reads and writes the output only (a two-array loop would fail
LLVM's runtime alias check and run scalar, ~4x slower); when it partly overlaps one, they
copy that input first, so the result is as if computed into a temporary (NumPy's rule).
The chunked kernels run on several threads at once, so that copy is made once, before
them, by ``run_chunked`` (``separate``); they handle only the in-place case themselves.
Parameters arrive as Python floats and are cast to the kernel's dtype inside (``_cast``).

Kernels are created lazily on first use and cached on disk (``cache=True``). Numba's cache
only notices edits to this file, so each kernel's name carries a digest of the math
sources (activations, elementary functions, jit policy) and of the two tables (which
scalar functions a kernel binds, ``zero_gradient_selected`` among them): editing those
recompiles.
"""

import hashlib
import pathlib
import types

import numba
import numpy as np

from . import _jit, _threads
from ._atomics import count_done, take_next
from ._kinds import (
    BY_KIND_NAME,
    DERIVATIVE_SCALAR,
    FORWARD_SCALAR,
    FROM_OUTPUT_SCALAR,
    GRADIENT_PRODUCT,
    KINDS,
    kinds_of,
)
from ._math import elementary

# ---------------------------------------------------------------- the loop templates
# The templates below are ordinary Python over four names that each kernel binds to its
# own objects: ``KernelSet._build`` compiles a copy of the template's code whose globals
# map ``_f``/``_df`` to the activation's scalar functions (the kind table's ``scalars``),
# ``_cast`` to the dtype's cast of the parameter slots and, in a chunk loop, ``_serial``
# to the serial loop, compiled inline. Globals, not arguments: a function passed as an
# argument costs a dispatch per call (~30 us) and cannot be cached on disk by Numba. The
# placeholders here only name them for the reader and the linter.


def _bound_per_kernel(*args):
    raise RuntimeError("a loop template's name, bound per kernel by KernelSet._build")


_f = _df = _times = _cast = _serial = _bound_per_kernel


@_jit.scalar
def _product(g, d):
    """grad_out * dy/dx: a zero has the product's sign (g * 0 is -0.0 for g < 0)."""
    return g * d


@_jit.scalar
def _zero_selected(g, d):
    """grad_out * dy/dx, but +0.0 where dy/dx is 0, whatever grad_out's sign: PyTorch's
    piecewise backward kernels select 0 there (``x > 0 ? g : 0``) rather than multiply.
    NaN stays NaN (|NaN| is NaN)."""
    p = g * d
    return abs(p) if d == 0 else p


# How an input and the output (same size, both C-contiguous) share memory.
_DISJOINT, _SAME, _PARTIAL = 0, 1, 2


@_jit.scalar
def _overlap(a, b):
    start_a, start_b = a.ctypes.data, b.ctypes.data
    if start_a == start_b:
        return _SAME
    if start_a < start_b + b.size * b.itemsize and start_b < start_a + a.size * a.itemsize:
        return _PARTIAL
    return _DISJOINT


def _map(x, out, a, b):
    a, b = _cast(a), _cast(b)
    relation = _overlap(x, out)
    if relation == _PARTIAL:
        x = x.copy()
    if relation == _SAME:
        for i in range(out.size):
            out[i] = _f(out[i], a, b)
    else:
        for i in range(out.size):
            out[i] = _f(x[i], a, b)


def _scaled(g, x, out, a, b):
    a, b = _cast(a), _cast(b)
    with_g, with_x = _overlap(g, out), _overlap(x, out)
    if with_g == _PARTIAL:
        g = g.copy()
    if with_x == _PARTIAL:
        x = x.copy()
    if with_g == _SAME:
        for i in range(out.size):
            out[i] = _times(out[i], _df(x[i], a, b))
    elif with_x == _SAME:
        for i in range(out.size):
            out[i] = _times(g[i], _df(out[i], a, b))
    else:
        for i in range(out.size):
            out[i] = _times(g[i], _df(x[i], a, b))


def _pair(x, y, d, a, b):
    # The two outputs must be separate: report an overlap before writing (the wrapper
    # raises), at the cost of a pointer compare instead of np.may_share_memory's ~0.3 us.
    # (Empty arrays share no element, wherever they point.)
    if y.size and _overlap(y, d) != _DISJOINT:
        return False
    a, b = _cast(a), _cast(b)
    with_y, with_d = _overlap(x, y), _overlap(x, d)
    if with_y == _PARTIAL or with_d != _DISJOINT:
        x = x.copy()
        with_y = _DISJOINT
    if with_y == _SAME:
        for i in range(y.size):
            xi = y[i]
            y[i] = _f(xi, a, b)
            d[i] = _df(xi, a, b)
    else:
        for i in range(y.size):
            xi = x[i]
            y[i] = _f(xi, a, b)
            d[i] = _df(xi, a, b)
    return True


# The chunked kernels: what every thread of a parallel call runs
# (``fastgrad._threads.run_parallel``). Each takes the next chunk number from
# ``counters[0]`` until none is left, runs the serial kernel (bound as ``_serial``,
# inlined) on that chunk's views, counts the chunk in ``counters[1]`` and returns True when
# its thread finished the call's last chunk. So every element is computed by the serial
# loop, whatever the chunking and thread count. Partly overlapping arrays are separated
# by the caller first (``separate``), so within a chunk they are the same or disjoint.
# The loops differ only in how many arrays they slice (all of one size): two for "map",
# three for "scaled" (g, x, out) and "pair" (x, y, d).


def _two_array_chunks(x, out, a, b, counters, chunk):
    last, start = False, take_next(counters, 0) * chunk
    while start < out.size:
        _serial(x[start : start + chunk], out[start : start + chunk], a, b)
        last = count_done(counters, 1) == (out.size - 1) // chunk
        start = take_next(counters, 0) * chunk
    return last


def _three_array_chunks(p, q, r, a, b, counters, chunk):
    last, start = False, take_next(counters, 0) * chunk
    while start < r.size:
        _serial(p[start : start + chunk], q[start : start + chunk], r[start : start + chunk], a, b)
        last = count_done(counters, 1) == (r.size - 1) // chunk
        start = take_next(counters, 0) * chunk
    return last


# The loop templates the kind table (``_kinds``) names: template -> (serial loop, the
# chunk loop the threads of a parallel call share).
_TEMPLATES = {
    "map": (_map, _two_array_chunks),
    "scaled": (_scaled, _three_array_chunks),
    "pair": (_pair, _three_array_chunks),
}


def chunk_loop(serial, template, namespace):
    """The chunked form of a serial loop ``serial(*inputs, *outputs, a, b)`` (a Python
    function) with the arrays of loop template ``template``, as a Python function to
    compile: that template's chunk loop with ``serial`` compiled inline as ``_serial``;
    ``namespace`` holds the globals ``serial`` needs."""
    inlined = _jit.scalar(types.FunctionType(serial.__code__, namespace))
    loop = _TEMPLATES[template][1]
    loop_globals = {"take_next": take_next, "count_done": count_done, "_serial": inlined}
    return types.FunctionType(loop.__code__, {**namespace, **loop_globals})


def separate(inputs, outputs):
    """The inputs of a chunked kernel call, each copied if it overlaps an output without
    being the first output itself (an input that *is* it is read by the in-place loops);
    None when the two outputs of a pair overlap. (``np.may_share_memory`` compares
    bounds only: a quarter of a microsecond; the addresses only where it says yes.)"""
    if len(outputs) == 2 and np.may_share_memory(outputs[0], outputs[1]):
        return None
    separated = []
    for arr in inputs:
        for out in outputs:
            if np.may_share_memory(arr, out) and not (out is outputs[0] and _same(arr, out)):
                arr = arr.copy()
                break
        separated.append(arr)
    return separated


def _same(a, b):
    """Same start (the arrays here have the same size, so: the same memory)."""
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def run_chunked(kernel, n_out, *args):
    """Call a chunked kernel like a serial one, ``kernel(*inputs, *outputs, a, b)``, on
    ``fastgrad.get_num_threads()`` threads; returns False (writing nothing) when the two
    outputs of a pair overlap, else True."""
    arrays, slots = args[:-2], args[-2:]
    outputs = arrays[-n_out:]
    inputs = separate(arrays[:-n_out], outputs)
    if inputs is None:
        return False
    _threads.run_parallel(kernel, (*inputs, *outputs, *slots), outputs[0].size, _threads.current)
    return True


_MATH_SOURCES = ("_jit.py", "_table.py", "_kinds.py", "_math/*.py", "activations/*.py")
_digest = None


def math_digest():
    """A digest of every source the kernels' machine code depends on, besides this file."""
    global _digest
    if _digest is None:
        root = pathlib.Path(__file__).parent
        h = hashlib.sha256()
        for pattern in _MATH_SOURCES:
            for path in sorted(root.glob(pattern)):
                h.update(path.name.encode())
                h.update(path.read_bytes())
        _digest = h.hexdigest()[:16]
    return _digest


_CASTS = {
    np.dtype(np.float32): _jit.scalar(lambda v: np.float32(v)),
    np.dtype(np.float64): _jit.scalar(lambda v: np.float64(v)),
}
_SETS = {}


def kernel_set(activation, dtype, variant=None):
    """The process-wide KernelSet of an activation (one of its variants) in a dtype."""
    if variant is None:
        variant = activation.maths_default()
    key = (activation.name, variant, np.dtype(dtype))
    if key not in _SETS:
        _SETS[key] = KernelSet(activation, dtype, variant=variant)
    return _SETS[key]


class KernelSet:
    """The kernels of one activation (one variant's math) in one dtype, compiled on first
    use. ``variant``: a value of the activation's variant parameter (None: the default)."""

    def __init__(self, activation, dtype, cache=True, variant=None):
        self.activation = activation
        maths = activation.maths()
        self.variant = activation.maths_default() if variant is None else variant
        self.math = maths[self.variant]
        self.cache = cache
        self.dtype = np.dtype(dtype)
        self._scalars = None
        # compiled[name][parallel]: the entry point, filled by get() on first use; the
        # wrappers index it directly on their hot path (cheaper than a method call).
        self.compiled = {kind.name: [None, None] for kind in KINDS}
        self._dispatchers = {}

    def scalars(self):
        """{scalar name (``_kinds``): the activation's scalar function in this dtype}:
        forward, derivative, and the derivative given the output where it has one."""
        if self._scalars is None:
            F, m = self.dtype.type, elementary(self.dtype)
            forward, derivative = self.math(F, m)
            from_output = self.activation.from_output
            self._scalars = {
                FORWARD_SCALAR: forward,
                DERIVATIVE_SCALAR: derivative,
                FROM_OUTPUT_SCALAR: from_output and from_output(F, m),
                GRADIENT_PRODUCT: (
                    _zero_selected if self.activation.zero_gradient_selected else _product
                ),
            }
        return self._scalars

    def names(self):
        """The names of the kernels this activation has (``_kinds.kinds_of``)."""
        return tuple(kind.name for kind in kinds_of(self.activation))

    def get(self, name, parallel):
        """Kernel ``name`` (serial, or chunked if ``parallel``) as a callable: the compiled
        function's entry point, ``kernel(*inputs, *outputs, a, b[, counters, chunk])``.

        Numba's dispatcher types every argument on every call and, for a read-only array,
        finds no exact match: it converted (~1300 instructions per argument) or, with
        compiling open, compiled a second specialisation. The entry point only unboxes
        the arrays (checking the item size); writeability is a compile-time notion that
        these kernels, which never write their inputs, do not need. So the wrappers
        guarantee what the dispatcher would have checked: 1-D, C-contiguous, the dtype."""
        slot = self.compiled[name]
        if slot[parallel] is None:
            with _jit.compiling():  # one thread builds it; the others then find it
                if slot[parallel] is None:
                    dispatcher = self.dispatcher(name, parallel)
                    signature = dispatcher.signatures[0]
                    slot[parallel] = dispatcher.overloads[signature].entry_point
        return slot[parallel]

    def dispatcher(self, name, parallel):
        """The Numba dispatcher of kernel ``name``, compiled for its one signature (for
        inspecting its code: ``inspect_llvm``, ``inspect_asm``)."""
        key = (name, parallel)
        if key not in self._dispatchers:
            with _jit.compiling():
                if key not in self._dispatchers:
                    self._dispatchers[key] = self._build(name, parallel)
        return self._dispatchers[key]

    def _build(self, name, parallel):
        kind = BY_KIND_NAME[name]
        serial = _TEMPLATES[kind.template][0]
        scalars = self.scalars()
        bound = {glob: scalars[which] for glob, which in kind.scalars}
        qualname = "__".join(
            (
                self.activation.name,
                *([] if self.variant is None else [self.variant]),
                name,
                self.dtype.name,
                "chunked" if parallel else "serial",
                math_digest(),
            )
        )
        namespace = {
            "__name__": __name__,
            "_cast": _CASTS[self.dtype],
            "_overlap": _overlap,
            "_DISJOINT": _DISJOINT,
            "_SAME": _SAME,
            "_PARTIAL": _PARTIAL,
            **bound,
        }
        if parallel:
            fn = chunk_loop(serial, kind.template, namespace)
        else:
            fn = types.FunctionType(serial.__code__, namespace)
        fn.__name__ = fn.__qualname__ = qualname
        dispatcher = _jit.kernel(fn, cache=self.cache)
        return _jit.compile_kernel(dispatcher, self._signature(name, parallel))

    def _signature(self, name, parallel):
        """The argument types of a call: C-contiguous 1-D arrays of the dtype, then the
        two parameter slots as Python floats; a chunked kernel's then its counters and
        chunk size."""
        kind = BY_KIND_NAME[name]
        element = numba.from_dtype(self.dtype)
        n_arrays = len(kind.inputs) + kind.outputs
        arrays = (numba.types.Array(element, 1, "C"),) * n_arrays
        chunking = (numba.types.Array(numba.types.int64, 1, "C"), numba.types.int64)
        return arrays + (numba.types.float64,) * 2 + (chunking if parallel else ())
