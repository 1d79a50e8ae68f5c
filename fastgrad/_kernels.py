"""The kernel generator: a scalar (forward, derivative) pair -> compiled array kernels.

Every kernel is one of the loop templates below, compiled with the activation's scalar
functions bound to ``_f``/``_df``, for one dtype, serial or ``prange``-parallel (the same
template: ``parallel=False`` runs ``prange`` as ``range``). Kernels take C-contiguous 1-D
arrays only (the wrapper flattens), since 'A'-layout loops run ~4x slower.

The ``*_into_*`` templates write back into an input array: when the output *is* an input,
a two-array loop fails LLVM's runtime alias check and runs scalar, a one-array loop
does not.

Kernels are created lazily on first use and cached on disk (``cache=True``). Numba's cache
only notices edits to this file, so each kernel's name carries a digest of the math
sources (activations, elementary functions, jit policy): editing those recompiles.
"""

import hashlib
import pathlib
import types

import numpy as np
from numba import prange

from . import _jit
from ._math import elementary


def _map(x, out, a, b):
    for i in prange(x.size):
        out[i] = _f(x[i], a, b)  # noqa: F821 (bound per kernel)


def _map_into_x(x, a, b):
    for i in prange(x.size):
        x[i] = _f(x[i], a, b)  # noqa: F821


def _scaled(g, x, out, a, b):
    for i in prange(x.size):
        out[i] = g[i] * _df(x[i], a, b)  # noqa: F821


def _scaled_into_g(g, x, a, b):
    for i in prange(x.size):
        g[i] = g[i] * _df(x[i], a, b)  # noqa: F821


def _scaled_into_x(g, x, a, b):
    for i in prange(x.size):
        x[i] = g[i] * _df(x[i], a, b)  # noqa: F821


def _pair(x, y, d, a, b):
    for i in prange(x.size):
        xi = x[i]
        y[i] = _f(xi, a, b)  # noqa: F821
        d[i] = _df(xi, a, b)  # noqa: F821


def _pair_into_x(x, d, a, b):
    for i in prange(x.size):
        xi = x[i]
        x[i] = _f(xi, a, b)  # noqa: F821
        d[i] = _df(xi, a, b)  # noqa: F821


# kernel name -> (template, {template global: which scalar of the pair})
_FWD = {"_f": 0}
_DER = {"_f": 1}
_BOTH = {"_f": 0, "_df": 1}
_KERNELS = {
    "forward": (_map, _FWD),
    "forward_into_x": (_map_into_x, _FWD),
    "grad": (_map, _DER),
    "grad_into_x": (_map_into_x, _DER),
    "backward": (_scaled, {"_df": 1}),
    "backward_into_g": (_scaled_into_g, {"_df": 1}),
    "backward_into_x": (_scaled_into_x, {"_df": 1}),
    "fwd_grad": (_pair, _BOTH),
    "fwd_grad_into_x": (_pair_into_x, _BOTH),
}
KERNEL_NAMES = tuple(_KERNELS)

_MATH_SOURCES = ("_jit.py", "_math/*.py", "activations/*.py")
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


_SETS = {}


def kernel_set(activation, dtype):
    """The process-wide KernelSet of an activation in a dtype."""
    key = (activation.name, np.dtype(dtype))
    if key not in _SETS:
        _SETS[key] = KernelSet(activation, dtype)
    return _SETS[key]


class KernelSet:
    """The kernels of one activation in one dtype, compiled on first use."""

    def __init__(self, activation, dtype, cache=True):
        self.activation = activation
        self.cache = cache
        self.dtype = np.dtype(dtype)
        self.scalar_type = self.dtype.type
        self._scalars = None
        # compiled[name][parallel]: filled by get() on first use; the wrappers index it
        # directly on their hot path (cheaper than a method call with a tuple key).
        self.compiled = {name: [None, None] for name in _KERNELS}

    def scalars(self):
        """The activation's scalar (forward, derivative) in this dtype."""
        if self._scalars is None:
            self._scalars = self.activation.math(self.scalar_type, elementary(self.dtype))
        return self._scalars

    def get(self, name, parallel):
        slot = self.compiled[name]
        if slot[parallel] is None:
            slot[parallel] = self._build(name, parallel)
        return slot[parallel]

    def _build(self, name, parallel):
        template, binding = _KERNELS[name]
        pair = self.scalars()
        bound = {glob: pair[which] for glob, which in binding.items()}
        qualname = "__".join(
            (
                self.activation.name,
                name,
                self.dtype.name,
                "parallel" if parallel else "serial",
                math_digest(),
            )
        )
        namespace = {"__name__": __name__, "prange": prange, **bound}
        fn = types.FunctionType(template.__code__, namespace, qualname)
        fn.__qualname__ = qualname
        return _jit.kernel(fn, parallel=parallel, cache=self.cache)
