"""The public functions' signatures and docstrings, built from the two tables: the
activation's math (its scalar functions' docstrings), the kind's summary, and an example
whose output is the NumPy reference's (run as a doctest by the test suite).
"""

import inspect

import numpy as np

_X = inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD)
_G = inspect.Parameter("grad_out", inspect.Parameter.POSITIONAL_OR_KEYWORD)
_Y = inspect.Parameter("y", inspect.Parameter.POSITIONAL_OR_KEYWORD)
_OUT = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
# NumPy's ufunc keywords (``_protocol.with_ufunc_keywords``)
_WHERE = inspect.Parameter("where", inspect.Parameter.KEYWORD_ONLY, default=True)
_DTYPE = inspect.Parameter("dtype", inspect.Parameter.KEYWORD_ONLY, default=None)


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


def _fast_doc(activation):
    """The fast level's math (its docstrings), after the accurate math's."""
    fast = activation.fast
    if not fast:
        return ""
    if not isinstance(fast, dict):
        return 'accuracy="fast":\n\n' + inspect.cleandoc(fast.__doc__) + "\n\n"
    return "".join(
        f'accuracy="fast", {activation.variant.param}={value!r}:\n\n'
        + inspect.cleandoc(math.__doc__)
        + "\n\n"
        for value, math in fast.items()
    )


def _from_output_doc(activation):
    """The from-output derivative's math (its own docstring), after the activation's."""
    return "Given the output:\n\n" + inspect.cleandoc(activation.from_output.__doc__) + "\n\n"


def _accuracy_doc(activation):
    """What the accuracy keyword does for this activation (``fastgrad._accuracy``)."""
    if isinstance(activation.fast, dict):
        values = ", ".join(f"{activation.variant.param}={v!r}" for v in activation.fast)
        fast = f"float32 with {values} computes with fewer operations"
    elif activation.fast:
        fast = "float32 computes with fewer operations"
    else:
        fast = "the same kernels, already within it"
    return (
        f'"accurate" (within {activation.max_ulps:g} ulps) or "fast" (within 2^-20\n'
        f"relative error; {fast}); None: the process-wide level,\n"
        f"``fastgrad.set_accuracy``."
    )


_PARAMETER_OF_INPUT = {"x": _X, "grad_out": _G, "y": _Y}


def document(fn, activation, kind, params):
    name = activation.name + kind.suffix
    head = [_PARAMETER_OF_INPUT[i] for i in kind.inputs]
    fn.__signature__ = inspect.Signature(head + [_OUT, _WHERE, _DTYPE] + params.signature)
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
        f"stays float64, float16 is computed in float32, bool and integers become the\n"
        f"float np.exp gives them (int8: float16, int16: float32, int32: float64).\n"
        f"out: {out_doc}.\n"
        f"where, dtype: as for NumPy's ufuncs (where False, out keeps its values; dtype:\n"
        f"float16, float32 or float64 to compute in and return).\n"
        f"accuracy: {_accuracy_doc(activation)}\n\n"
        f"{_math_doc(activation)}\n\n"
        f"{_fast_doc(activation)}"
        f"{_from_output_doc(activation) if kind.needs_from_output else ''}"
        f"Example::\n\n    {example}\n"
    )
    return fn
