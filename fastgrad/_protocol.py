"""NumPy's ufunc protocol for what is not a plain ndarray: pandas objects, masked arrays,
``np.matrix`` and other ndarray subclasses, and duck arrays that implement
``__array_ufunc__`` get what ``np.exp`` gives them.

NumPy's rules (NEP 13), followed here:

- An input or ``out`` whose type overrides ``__array_ufunc__`` decides: its
  ``__array_ufunc__(ufunc, "__call__", *inputs, **kwargs)`` is called (subclasses before
  their superclasses, else left to right) until one does not return ``NotImplemented``;
  if all do, or one sets ``__array_ufunc__ = None``, a ``TypeError``. The "ufunc" it
  receives is the function's ``UfuncView``: calling it calls the fastgrad function
  (keyword parameters such as ``alpha=`` pass through with the ufunc keywords), so a
  pandas ``Series`` keeps its index and name and a duck array wraps its own result.
- ndarray subclasses without their own ``__array_ufunc__`` (masked arrays, ``np.matrix``)
  are computed on as plain arrays, and each result goes through the ``__array_wrap__`` of
  the input with the highest ``__array_priority__``, with NumPy's context
  ``(ufunc, inputs, i)``: a masked array's result carries the union of the inputs' masks
  (the masked elements computed on their data, as ``np.exp`` does), a matrix stays one.
  With ``out=``, ``out`` is the result, as NumPy returns it (a masked ``out`` takes the
  inputs' masks).

Dask arrays and xarray objects keep their own path (``_duck``: lazy, labelled).
"""

import numpy as np

from . import _duck
from ._arrays import F16, F32, F64, check_out

_NDARRAY_UFUNC = np.ndarray.__array_ufunc__


class UfuncView:
    """What an ``__array_ufunc__`` implementation receives as the ufunc of a fastgrad
    function: its name, ``nin``, ``nout``, and a call that runs the function. (Not an
    ``np.ufunc``: NumPy makes those only from C loops; it has no ``reduce`` or
    ``accumulate``, which an element-wise activation has no use for.)"""

    signature = None  # element-wise: no core dimensions
    identity = None

    def __init__(self, function, nin, nout):
        self.function = function
        self.nin, self.nout, self.nargs = nin, nout, nin + nout

    @property
    def __name__(self):  # the function's public name (given after this is made)
        return self.function.__name__

    def __call__(self, *inputs, **kwargs):
        return self.function(*inputs, **kwargs)

    def __repr__(self):
        return f"<fastgrad function {self.__name__}>"


def wants_protocol(value):
    """Is ``value`` for the protocol (an ndarray subclass, or a type that defines
    ``__array_ufunc__``), rather than for conversion by ``np.asarray``? Plain ndarrays,
    Python numbers, Dask and xarray (their own path) are not."""
    kind = type(value)
    if kind is np.ndarray or kind in _duck.PYTHON_NUMBERS or _duck.is_duck(value):
        return False
    return isinstance(value, np.ndarray) or hasattr(kind, "__array_ufunc__")


def call(ufunc, inputs, out, kw):
    """The fastgrad function ``ufunc`` called on ``inputs`` by NumPy's rules (above)."""
    outs = () if out is None else (out if isinstance(out, tuple) else (out,))
    operands = (*inputs, *outs)
    overriding = []
    for value in operands:
        kind = type(value)
        method = getattr(kind, "__array_ufunc__", _NDARRAY_UFUNC)
        if method is None:
            raise TypeError(
                f"{ufunc.__name__}: {kind.__name__} objects opt out of ufuncs "
                "(__array_ufunc__ = None)"
            )
        if method is not _NDARRAY_UFUNC and kind not in [type(v) for v in overriding]:
            overriding.append(value)
    if overriding:
        return _delegate(ufunc, _numpy_order(overriding), inputs, outs, kw)
    plain = [np.asarray(v) if isinstance(v, np.ndarray) else v for v in inputs]
    if out is None:
        return _wrapped(ufunc, inputs, ufunc.function(*plain, **kw))
    plain_outs = tuple(np.asarray(o) if isinstance(o, np.ndarray) else o for o in outs)
    ufunc.function(*plain, out=plain_outs if isinstance(out, tuple) else plain_outs[0], **kw)
    for i, o in enumerate(outs):  # a subclass out updates itself (a masked out its mask)
        if isinstance(o, np.ndarray) and type(o) is not np.ndarray:
            o.__array_wrap__(o, (ufunc, operands, i), False)
    return out


def _numpy_order(values):
    """Subclasses before their superclasses, otherwise left to right (NumPy's order)."""
    ordered = []
    for value in values:
        position = next(
            (i for i, v in enumerate(ordered) if issubclass(type(value), type(v))), len(ordered)
        )
        ordered.insert(position, value)
    return ordered


def _delegate(ufunc, overriding, inputs, outs, kw):
    kwargs = dict(kw)
    if outs:
        kwargs["out"] = outs  # NumPy passes out= to __array_ufunc__ as a tuple
    for value in overriding:
        result = type(value).__array_ufunc__(value, ufunc, "__call__", *inputs, **kwargs)
        if result is not NotImplemented:
            return result
    names = ", ".join(sorted({type(v).__name__ for v in overriding}))
    raise TypeError(
        f"{ufunc.__name__}: operand type(s) all returned NotImplemented from "
        f"__array_ufunc__: {names}"
    )


def _wrapped(ufunc, inputs, result):
    """Each result through the ``__array_wrap__`` of the ndarray-subclass input with the
    highest ``__array_priority__`` (the first of equals)."""
    subclassed = [v for v in inputs if isinstance(v, np.ndarray) and type(v) is not np.ndarray]
    if not subclassed:
        return result
    wrapper = max(subclassed, key=lambda v: getattr(v, "__array_priority__", 0.0))
    results = result if isinstance(result, tuple) else (result,)
    wrapped = []
    for i, res in enumerate(results):
        array = np.asarray(res)
        context = (ufunc, inputs, i)
        wrapped.append(wrapper.__array_wrap__(array, context, array.ndim == 0))
    return tuple(wrapped) if isinstance(result, tuple) else wrapped[0]


# ufunc keywords besides out=: the general path takes them (the fast path never sees them)
UFUNC_KEYWORDS = frozenset({"where", "dtype"})


def with_ufunc_keywords(function, inputs, out, kw):
    """``function(*inputs, out=out, **kw)`` with NumPy's ``dtype=`` (the dtype to
    compute and return: float16, float32 or float64, the inputs cast to it with
    ``casting="same_kind"``) and ``where=`` (a boolean array broadcast to the result:
    where False, ``out`` keeps its values; without ``out`` those elements are
    unspecified, as NumPy's, here the computed values)."""
    fn = function.__name__
    kw = dict(kw)
    where, dtype = kw.pop("where", True), kw.pop("dtype", None)
    if dtype is not None:
        inputs = [_cast(v, _float_dtype(dtype, fn), fn) for v in inputs]
    if where is True:
        return function(*inputs, out=out, **kw)
    where = np.asarray(where)
    if where.dtype != np.bool_:
        raise TypeError(f"{fn}: where must be an array of booleans, got dtype {where.dtype}")
    result = function(*inputs, **kw)
    results = result if isinstance(result, tuple) else (result,)
    shape = np.shape(results[0])
    try:
        np.broadcast_to(where, shape)
    except ValueError:
        raise ValueError(
            f"{fn}: where has shape {where.shape}, which does not broadcast to the "
            f"result's shape {shape}"
        ) from None
    if out is None:
        return result
    outs = out if isinstance(out, tuple) else (out,)
    if len(outs) != len(results):
        raise TypeError(f"{fn}: out must be a pair of arrays (y_out, grad_out)")
    for i, o in enumerate(outs):
        check_out(o, shape, np.asarray(results[0]).dtype, fn, "out" if o is out else f"out[{i}]")
    for o, r in zip(outs, results, strict=True):
        np.copyto(o, r, where=where)
    return out


def _float_dtype(dtype, fn):
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{fn}: dtype={dtype!r} is not a dtype") from None
    if dtype not in (F16, F32, F64):
        raise TypeError(f"{fn}: dtype must be float16, float32 or float64, got {dtype}")
    return dtype


def _cast(value, dtype, fn):
    if type(value) in _duck.PYTHON_NUMBERS:
        return value  # takes the array's dtype, as in NumPy
    array = np.asarray(value)
    if not np.can_cast(array.dtype, dtype, "same_kind"):
        raise TypeError(
            f"{fn}: cannot cast an input from {array.dtype} to dtype={dtype} "
            "(casting='same_kind', as ufuncs)"
        )
    return array.astype(dtype, copy=False)
