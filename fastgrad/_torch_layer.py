"""``fastgrad.torch``'s gated activations, PReLU and RReLU: autograd functions on
fastgrad's kernels (``fastgrad._gated_api``, ``_prelu``, ``_rrelu``), with PyTorch's
names and signatures where PyTorch has them (``glu``, ``prelu``, ``rrelu`` and the
``GLU``, ``PReLU``, ``RReLU`` modules) and fastgrad's for the rest (``swiglu``,
``geglu``, ``reglu`` and their ``_packed`` forms).

Each is a ``torch.autograd.Function`` whose backward is fastgrad's one-pass backward
(both input gradients, or the input's and the weight's). Where autograd records the
backward itself (``create_graph=True``: Hessians, gradient penalties), the backward is
instead the vector-Jacobian product of PyTorch's own composition (``F.silu(a) * b``,
``F.glu``, ``F.prelu``), differentiable again: a second derivative is PyTorch's, never a
silent zero. CPU tensors of float32 and float64; float16 as fastgrad computes it (in
float32); bfloat16 computed in float32 and rounded once. Imported by
``fastgrad.torch``.
"""

import inspect

import numpy as np
import torch

import fastgrad as _fg

from ._gated import GATE_FIRST, GATED
from ._gated_api import forms_of

_ACCEPTED = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _array(t, fn, what):
    """A tensor's memory as an ndarray (bfloat16 as a float32 copy), after checking it."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(
            f"fastgrad.torch.{fn}: {what} must be a torch.Tensor, got {type(t).__name__}"
        )
    if t.device.type != "cpu" or t.layout != torch.strided:
        raise ValueError(f"fastgrad.torch.{fn}: dense CPU tensors only ({what} is not)")
    if t.dtype not in _ACCEPTED:
        raise TypeError(
            f"fastgrad.torch.{fn}: float32, float64, float16 or bfloat16 tensors only, "
            f"{what} is {t.dtype}"
        )
    t = t.detach()
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def _tensor(array, like):
    """A result array as a tensor of ``like``'s dtype (bfloat16 rounded once)."""
    out = torch.from_numpy(np.ascontiguousarray(array))
    return out.to(like.dtype) if like.dtype == torch.bfloat16 else out


# ------------------------------------------------------ differentiable backward


def _composition(name, keywords, dim=None):
    """PyTorch's own computation of a gated function, differentiable to any order."""
    F = torch.nn.functional
    row_name = name.removesuffix("_packed")
    row = next(r for r in GATED if r.name == row_name)
    params = {"approximate": keywords["approximate"]} if "approximate" in keywords else {}
    activation = getattr(F, row.activation)

    def gated(a, b):
        return activation(a, **params) * b

    if row.gate != GATE_FIRST:  # glu
        return lambda x: F.glu(x, dim)
    if name.endswith("_packed"):
        return lambda x: gated(*torch.chunk(x, 2, dim))
    return gated


def _differentiable_vjp(composed, inputs, grad_out):
    """The inputs' gradients of ``composed`` given grad_out, as a graph autograd can
    differentiate again (inputs that need no gradient get None)."""
    with torch.enable_grad():
        leaves = [t if t.requires_grad else t.detach().requires_grad_(True) for t in inputs]
        y = composed(*leaves)
        grads = torch.autograd.grad(y, leaves, grad_out, create_graph=True, allow_unused=True)
    return tuple(g if t.requires_grad else None for g, t in zip(grads, inputs, strict=True))


# --------------------------------------------------------------------- gated


class _GatedPair(torch.autograd.Function):
    """f(a) * b for two tensors; backward: (grad_a, grad_b) in one pass."""

    @staticmethod
    def forward(ctx, a, b, name, keywords):
        ctx.save_for_backward(a, b)
        ctx.name, ctx.keywords = name, keywords
        y = getattr(_fg, name)(_array(a, name, "a"), _array(b, name, "b"), **keywords)
        return _tensor(y, a)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: a backward autograd can differentiate
            composed = _composition(ctx.name, ctx.keywords)
            return (*_differentiable_vjp(composed, (a, b), grad_out), None, None)
        arrays = (_array(grad_out, ctx.name, "grad_out"), a.numpy(), b.numpy())
        if a.dtype == torch.bfloat16:
            arrays = (arrays[0], _array(a, ctx.name, "a"), _array(b, ctx.name, "b"))
        grad_a, grad_b = getattr(_fg, ctx.name + "_backward")(*arrays, **ctx.keywords)
        return _tensor(grad_a, a), _tensor(grad_b, b), None, None


class _GatedPacked(torch.autograd.Function):
    """f(a) * b (or a * f(b), glu) for the halves of one tensor along dim."""

    @staticmethod
    def forward(ctx, x, dim, name, keywords):
        ctx.save_for_backward(x)
        ctx.dim, ctx.name, ctx.keywords = dim, name, keywords
        return _tensor(getattr(_fg, name)(_array(x, name, "input"), dim, **keywords), x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        if torch.is_grad_enabled():
            composed = _composition(ctx.name, ctx.keywords, ctx.dim)
            return (*_differentiable_vjp(composed, (x,), grad_out), None, None, None)
        fn = getattr(_fg, ctx.name + "_backward")
        grad_x = fn(
            _array(grad_out, ctx.name, "grad_out"),
            _array(x, ctx.name, "x"),
            ctx.dim,
            **ctx.keywords,
        )
        return _tensor(grad_x, x), None, None, None


def _gated_function(row, form):
    name = row.name + form.suffix
    variant = row.variant

    if not form.packed:

        def call(a, b, approximate="none", *, accuracy=None):
            keywords = {"accuracy": accuracy, **({"approximate": approximate} if variant else {})}
            return _GatedPair.apply(a, b, name, keywords)

    else:

        def call(input, dim=-1, approximate="none", *, accuracy=None):
            keywords = {"accuracy": accuracy, **({"approximate": approximate} if variant else {})}
            return _GatedPacked.apply(input, dim, name, keywords)

    parameters = list(inspect.signature(call).parameters.values())
    if not variant:
        parameters = [p for p in parameters if p.name != "approximate"]
    call.__signature__ = inspect.Signature(parameters)
    call.__name__ = call.__qualname__ = name
    call.__module__ = "fastgrad.torch"
    call.__doc__ = (
        f"``fastgrad.{name}`` as an autograd function of torch tensors (its backward "
        f"``fastgrad.{name}_backward``, not differentiable again)."
    )
    return call


# the forward forms (the backward ones are the autograd functions' backward)
GATED_FUNCTIONS = {
    row.name + form.suffix: _gated_function(row, form)
    for row in GATED
    for form in forms_of(row)
    if not form.suffix.endswith("_backward")
}
assert all(row.gate == GATE_FIRST or row.name == "glu" for row in GATED)


# --------------------------------------------------------------------- PReLU


class _PReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return _tensor(_fg.prelu(_array(x, "prelu", "input"), _array(weight, "prelu", "weight")), x)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        if torch.is_grad_enabled():
            composed = torch.nn.functional.prelu
            return _differentiable_vjp(composed, (x, weight), grad_out)
        grad_x, grad_w = _fg.prelu_backward(
            _array(grad_out, "prelu", "grad_out"),
            _array(x, "prelu", "input"),
            _array(weight, "prelu", "weight"),
        )
        return _tensor(grad_x, x), _tensor(np.asarray(grad_w), weight)


def prelu(input, weight):
    """``torch.nn.functional.prelu`` on fastgrad's kernels: the weight's gradient reduced
    in the same pass as the input's (``fastgrad.prelu_backward``)."""
    return _PReLU.apply(input, weight)


class PReLU(torch.nn.PReLU):
    """``torch.nn.PReLU`` on fastgrad's kernels (``fastgrad.torch.prelu``)."""

    def forward(self, input):
        return prelu(input, self.weight)


# --------------------------------------------------------------------- RReLU


class _RReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lower, upper, training, seed):
        array = _array(x, "rrelu", "input")
        y, slopes = _fg.rrelu_fwd_grad(array, lower, upper, training, generator=seed)
        ctx.save_for_backward(_tensor(slopes, x))
        return _tensor(y, x)

    @staticmethod
    def backward(ctx, grad_out):
        (slopes,) = ctx.saved_tensors
        # linear in grad_out with constant slopes: differentiable as it stands (the
        # second derivative in x is 0 away from 0, as for PyTorch's)
        return grad_out * slopes, None, None, None, None


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, *, generator=None):
    """``torch.nn.functional.rrelu`` on fastgrad's kernels. In training the slopes are
    drawn by NumPy from a seed taken from ``generator`` (a ``torch.Generator``; None:
    PyTorch's default one), so ``torch.manual_seed`` makes them reproducible; they are
    kept for the backward, as PyTorch keeps its noise. ``inplace=True`` is refused."""
    if inplace:
        raise ValueError("fastgrad.torch.rrelu: inplace=True is not supported")
    seed = None
    if training:
        seed = int(torch.randint(0, 2**62, (), generator=generator))
    return _RReLU.apply(input, lower, upper, training, seed)


class RReLU(torch.nn.RReLU):
    """``torch.nn.RReLU`` on fastgrad's kernels (``fastgrad.torch.rrelu``): slopes drawn
    in training mode, the mean slope in eval mode."""

    def forward(self, input):
        return rrelu(input, self.lower, self.upper, self.training)


class GLU(torch.nn.GLU):
    """``torch.nn.GLU`` on fastgrad's kernels (``fastgrad.torch.glu``)."""

    def forward(self, input):
        return GATED_FUNCTIONS["glu"](input, self.dim)


MODULES = {"GLU": GLU, "PReLU": PReLU, "RReLU": RReLU}
for _module in MODULES.values():
    _module.__module__ = "fastgrad.torch"
FUNCTIONS = {**GATED_FUNCTIONS, "prelu": prelu, "rrelu": rrelu}
