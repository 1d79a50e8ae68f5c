"""The public functions' signatures and docstrings, built from the two tables: the
activation's math (its scalar functions' docstrings), the kind's summary, and an example
whose output is the NumPy reference's (run as a doctest by the test suite).
"""

import inspect

import numpy as np

from ._gated import GATE_FIRST

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


# ------------------------------------------------------------ the gated activations


def _gated_example(row, form):
    """A doctest of a gated function (run by the test suite), its output the NumPy
    reference's."""
    from . import reference

    a, b, g = np.array([-2.0, 0.0, 2.0]), np.array([0.5, 1.0, 3.0]), np.full(3, 0.5)
    x = np.concatenate([a, b])
    name = row.name + form.suffix
    values = {"a": a, "b": b, "x": x, "grad_out": g}
    spelled = {"a": "a", "b": "b", "x": "x", "grad_out": "np.full(3, 0.5)"}
    args = [values[i] for i in form.inputs]
    value = getattr(reference, name)(*args)
    shown = "[0]" if form.outputs == 2 else ""
    value = value[0] if form.outputs == 2 else value
    setup = (
        ">>> x = np.array([-2.0, 0.0, 2.0, 0.5, 1.0, 3.0])  # a | b\n"
        if form.packed
        else ">>> a, b = np.array([-2.0, 0.0, 2.0]), np.array([0.5, 1.0, 3.0])\n"
    )
    call = f"fg.{name}({', '.join(spelled[i] for i in form.inputs)}){shown}"
    return f">>> import numpy as np, fastgrad as fg\n{setup}>>> {call}.round(6)\n{value.round(6)!r}"


def gated_doc(row, form):
    """The docstring of a gated function: its math (``_gated``), conventions, accuracy,
    arrays and an example."""
    f = row.activation
    gate_first = row.gate == GATE_FIRST
    u, v = ("a", "b") if gate_first else ("b", "a")
    formula = f"{f}({u}) * {v}" if gate_first else f"{v} * {f}({u})"
    bounds = row.bounds()
    base = row.base
    kink = (
        f"\nwhere {f}'s derivative is 0 the gradient of {u} is +0.0 whatever grad_out's sign\n"
        f"(PyTorch's {f} backward selects 0 there)."
        if base.zero_gradient_selected
        else ""
    )
    packed = (
        "dim: the axis of x halved (its length even): a is the first half, b the second;\n"
        "the halves are read where they lie, and the backward's out= may be x itself.\n"
        if form.packed
        else "a, b: arrays of one shape; the backward's out= may be (a, b) themselves.\n"
    )
    variant = (
        f"approximate: gelu's form, {', '.join(repr(v) for v in base.maths())}.\n"
        if row.variant
        else ""
    )
    example = _gated_example(row, form).replace("\n", "\n    ")
    out = "a pair of arrays (grad_a, grad_b)" if form.outputs == 2 else "an array of the result"
    return (
        f"{row.title}: {form.summary.format(formula=formula)}.\n\n"
        f"    y = {formula}\n"
        f"    grad_{u} = grad_out * {v} * {f}'({u})   (grad_out * {v} first, as autograd)\n"
        f"    grad_{v} = grad_out * {f}({u})\n\n"
        f"{f} and {f}' are computed as ``fastgrad.{f}`` computes them (its docstring: the\n"
        f"stable forms, the limits, the kinks).{kink}\n"
        f"The backward reads only grad_out and the inputs ({f} and {f}' recomputed, nothing\n"
        f"saved) and allocates only its outputs.\n\n"
        f"Accuracy (float32, float64, against mpmath): y and grad_{v} within "
        f"{bounds['forward']:g} ulps,\n"
        f"grad_{u} within {bounds['grad_u']:g} ({f} itself within {base.max_ulps:g}; "
        f"``fastgrad._gated``).\n\n"
        f"{packed}"
        f"{variant}"
        f"Arrays: float32 and float64 computed in their own precision, float16 in float32, bool\n"
        f"and integers converted as np.exp converts them; any shape (strided inputs copied).\n"
        f"out: {out} to write into (C-contiguous: directly).\n"
        f"accuracy: as for ``fastgrad.{f}``; None: the process-wide level.\n\n"
        f"Example::\n\n    {example}\n"
    )


# ------------------------------------------------------- the bias epilogue (``_bias``)

_H = inspect.Parameter("h", inspect.Parameter.POSITIONAL_OR_KEYWORD)
_B = inspect.Parameter("b", inspect.Parameter.POSITIONAL_OR_KEYWORD)
# direction -> (its arrays, what it computes, what out= is)
_BIAS_FORMS = {
    "forward": ((_H, _B), "y = f(h + b)", "an array of h's shape (may be h itself)"),
    "fwd_grad": (
        (_H, _B),
        "(y, d) = (f(h + b), f'(h + b)) in one pass",
        "a pair (y, d) of arrays of h's shape (y may be h itself)",
    ),
    "backward": (
        (_G, _H, _B),
        "(grad_h, grad_b) = (grad_out * f'(h + b), grad_h summed over the rows) in one pass",
        "a pair (grad_h, grad_b) (grad_h may be grad_out or h itself)",
    ),
    "backward_from_grad": (
        (_G, inspect.Parameter("d", inspect.Parameter.POSITIONAL_OR_KEYWORD)),
        "(grad_h, grad_b) = (grad_out * d, grad_h summed over the rows) in one pass, d the\n"
        "derivative f'(h + b) that f_bias_fwd_grad returned",
        "a pair (grad_h, grad_b) (grad_h may be grad_out or d itself)",
    ),
}


def _bias_example(activation, direction):
    """A doctest of an epilogue function (run by the test suite); the output shown is the
    NumPy reference's of h + b."""
    from . import reference

    name, params = activation.name, activation.default_params
    kw = "".join(f", {k}={v!r}" for k, v in params.items())
    h = np.array([[-2.0, 0.0, 2.0], [1.0, -1.0, 0.5]])
    b = np.array([0.5, 0.0, -1.0])
    setup = (
        ">>> import numpy as np, fastgrad as fg\n"
        ">>> h = np.array([[-2.0, 0.0, 2.0], [1.0, -1.0, 0.5]])\n"
        ">>> b = np.array([0.5, 0.0, -1.0])\n"
    )
    if direction == "backward":
        grad_b = getattr(reference, name + "_backward")(np.ones((2, 3)), h + b, **params).sum(0)
        call = f"grad_h, grad_b = fg.{name}_bias_backward(np.ones((2, 3)), h, b{kw})"
        return f"{setup}>>> {call}\n>>> grad_b.round(6)\n{grad_b.round(6)!r}"
    if direction == "backward_from_grad":
        grad_b = getattr(reference, name + "_backward")(np.ones((2, 3)), h + b, **params).sum(0)
        saved = f">>> y, d = fg.{name}_bias_fwd_grad(h, b{kw})\n"
        call = f"grad_h, grad_b = fg.{name}_bias_backward_from_grad(np.ones((2, 3)), d)"
        return f"{setup}{saved}>>> {call}\n>>> grad_b.round(6)\n{grad_b.round(6)!r}"
    y = getattr(reference, name)(h + b, **params)
    shown = "[0]" if direction == "fwd_grad" else ""
    suffix = "_bias_fwd_grad" if direction == "fwd_grad" else "_bias"
    return f"{setup}>>> fg.{name}{suffix}(h, b{kw}){shown}.round(6)\n{y.round(6)!r}"


def bias_doc(fn, activation, direction, params):
    """The signature and docstring of an epilogue function (``_bias``)."""
    arrays, computes, out = _BIAS_FORMS[direction]
    keywords = [] if direction == "backward_from_grad" else params.signature
    fn.__signature__ = inspect.Signature([*arrays, _OUT, *keywords])
    f = activation.name
    example = _bias_example(activation, direction).replace("\n", "\n    ")
    accuracy = (
        "(d carries the parameters and accuracy level it was computed with.)\n\n"
        if direction == "backward_from_grad"
        else f"accuracy: {_accuracy_doc(activation)}\n\n"
    )
    fn.__doc__ = (
        f"{activation.title} after a bias, the dense layer's epilogue: {computes}.\n\n"
        f"h: any shape; b: 1-D, h.shape[-1] elements, added along h's last axis (the\n"
        f"layout of ``torch.nn.functional.linear``). h + b is rounded to the dtype first:\n"
        f"y, d and grad_h have the bits of ``fg.{f}(h + b)``, ``fg.{f}_grad(h + b)`` and\n"
        f"``fg.{f}_backward(grad_out, h + b)``, the kinks and limits of ``fg.{f}``.\n"
        f"grad_b, b's shape, is summed in float64 per block of rows, the blocks in order:\n"
        f"the same bits whatever the thread count, within 0.5 ulp (float32) +\n"
        f"``fastgrad._bias.grad_bias_bound(h.shape)`` * sum |grad_h| of the exact sum.\n"
        f"dtype: NumPy's for h + b (float16 computed as the unfused sequence is).\n"
        f"out: {out}.\n"
        f"{accuracy}"
        f"{_math_doc(activation)}\n\n"
        f"Example::\n\n    {example}\n"
    )
    return fn
