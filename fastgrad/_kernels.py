"""The kernel generator: activations x kinds x dtypes -> compiled array kernels, cached.

Every kernel is a kind's loop template (``_templates``), compiled with the activation's
scalar functions bound to its names (``_f``, ``_df``, ``_times``), for one dtype: the
serial loop, or the chunk loop the threads of a parallel call share (run by
``_run.run_chunked``). Kernels take C-contiguous 1-D arrays only (the wrapper flattens),
since 'A'-layout loops run ~4x slower. Each kernel is compiled for one signature and
called through that compiled function's own entry point (``KernelSet.get``), not through
Numba's dispatcher: the entry point takes any C-contiguous array of the dtype, read-only
ones (memory maps, np.frombuffer) included, so a read-only input costs what a writable
one does and needs no second compile. Parameters arrive as Python floats and are cast
to the kernel's dtype inside (``_cast``).

Kernels are created lazily on first use and cached on disk (``cache=True``). Numba's cache
only notices edits to the file a kernel's code comes from, so each kernel's name carries
a digest of the math sources (activations, elementary functions, jit policy), of the loop
templates and of the two tables (which scalar functions a kernel binds,
``zero_gradient_selected`` among them): editing those recompiles.
"""

import hashlib
import pathlib

import numba
import numpy as np

from . import _jit
from ._accuracy import ACCURATE, FAST
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


_MATH_SOURCES = (
    "_jit.py",
    "_templates.py",
    "_table.py",
    "_kinds.py",
    "_math/*.py",
    "activations/*.py",
)
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


_F32 = np.dtype(np.float32)
_CASTS = {
    np.dtype(np.float32): _jit.scalar(lambda v: np.float32(v)),
    np.dtype(np.float64): _jit.scalar(lambda v: np.float64(v)),
}
_SETS = {}


def kernel_set(activation, dtype, variant=None, level=ACCURATE):
    """The process-wide KernelSet of an activation (one of its variants) in a dtype, at an
    accuracy level (``_accuracy``). The fast level has its own kernels only in float32
    and where the row has fast math; elsewhere it is the accurate set itself (nothing
    compiled twice)."""
    if variant is None:
        variant = activation.maths_default()
    dtype = np.dtype(dtype)
    if level == FAST and (dtype != _F32 or activation.fast_math(variant) is None):
        level = ACCURATE
    key = (activation.name, variant, level, dtype)
    if key not in _SETS:
        _SETS[key] = KernelSet(activation, dtype, variant=variant, level=level)
    return _SETS[key]


class KernelSet:
    """The kernels of one activation (one variant's math) in one dtype at one accuracy
    level, compiled on first use. ``variant``: a value of the activation's variant
    parameter (None: the default); ``level``: ``_accuracy.FAST`` computes with the row's
    fast math (which must exist)."""

    def __init__(self, activation, dtype, cache=True, variant=None, level=ACCURATE):
        self.activation = activation
        maths = activation.maths()
        self.variant = activation.maths_default() if variant is None else variant
        self.level = level
        self.math = maths[self.variant] if level == ACCURATE else activation.fast_math(variant)
        self.cache = cache
        self.dtype = np.dtype(dtype)
        self.cast = _CASTS[self.dtype]  # a parameter slot (a Python float) -> the dtype
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
        template = kind.template
        scalars = self.scalars()
        bound = {glob: scalars[which] for glob, which in kind.scalars}
        bound["_cast"] = self.cast
        qualname = "__".join(
            (
                self.activation.name,
                *([] if self.variant is None else [self.variant]),
                *([] if self.level == ACCURATE else [self.level]),
                name,
                self.dtype.name,
                "chunked" if parallel else "serial",
                math_digest(),
            )
        )
        if parallel:
            fn = template.chunked(template.serial, bound)
        else:
            fn = template.bind(template.serial, bound)
        fn.__name__ = fn.__qualname__ = qualname
        dispatcher = _jit.kernel(fn, cache=self.cache)
        return _jit.compile_kernel(dispatcher, self._signature(name, parallel))

    def _signature(self, name, parallel):
        """The argument types of a call: C-contiguous 1-D arrays of the dtype, then the
        two parameter slots as Python floats; a chunked kernel's then its counters and
        chunk size."""
        kind = BY_KIND_NAME[name]
        element = numba.from_dtype(self.dtype)
        n_arrays = kind.template.inputs + kind.template.outputs
        arrays = (numba.types.Array(element, 1, "C"),) * n_arrays
        chunking = (numba.types.Array(numba.types.int64, 1, "C"), numba.types.int64)
        return arrays + (numba.types.float64,) * 2 + (chunking if parallel else ())
