"""``fastgrad.torch``'s softmax family: ``softmax``, ``log_softmax``, ``softmin``,
``logsumexp`` and the ``Softmax``, ``LogSoftmax``, ``Softmin`` modules, with PyTorch's
names and signatures, as autograd functions on fastgrad's kernels (``fastgrad._softmax``).

The forward saves its output (softmax, log_softmax, softmin) or its input and result
(logsumexp), and the backward is fastgrad's backward from them, PyTorch's contract.
Under ``create_graph=True`` (Hessians, gradient penalties) the backward is the
vector-Jacobian product of PyTorch's own function instead, differentiable again: a
second derivative is PyTorch's, never a silent zero. Imported by ``fastgrad.torch``.
"""

import torch

import fastgrad as _fg

from ._torch_layer import _array, _differentiable_vjp, _tensor


def _cast(input, dtype, fn):
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"fastgrad.torch.{fn}: input must be a torch.Tensor")
    return input if dtype is None else input.to(dtype)


class _FromOutput(torch.autograd.Function):
    """softmax, log_softmax, softmin: y saved, backward from y."""

    @staticmethod
    def forward(ctx, x, dim, name):
        y = _tensor(getattr(_fg, name)(_array(x, name, "input"), dim), x)
        ctx.save_for_backward(x, y)
        ctx.dim, ctx.name = dim, name
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: PyTorch's own, differentiable again
            composed = getattr(torch.nn.functional, ctx.name)
            (grad_x,) = _differentiable_vjp(lambda t: composed(t, ctx.dim), (x,), grad_out)
            return grad_x, None, None
        backward = getattr(_fg, ctx.name + "_backward")
        arrays = (_array(grad_out, ctx.name, "grad_out"), _array(y, ctx.name, "output"))
        return _tensor(backward(*arrays, ctx.dim), x), None, None


class _LogSumExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, dim, keepdim):
        result = _tensor(_fg.logsumexp(_array(x, "logsumexp", "input"), dim, keepdim), x)
        ctx.save_for_backward(x, result)
        ctx.dim, ctx.keepdim = dim, keepdim
        return result

    @staticmethod
    def backward(ctx, grad_out):
        x, result = ctx.saved_tensors
        if torch.is_grad_enabled():
            composed = lambda t: torch.logsumexp(t, ctx.dim, ctx.keepdim)  # noqa: E731
            (grad_x,) = _differentiable_vjp(composed, (x,), grad_out)
            return grad_x, None, None
        grad = _fg.logsumexp_backward(
            _array(grad_out, "logsumexp", "grad_out"),
            _array(x, "logsumexp", "input"),
            _array(result, "logsumexp", "result"),
            ctx.dim,
            ctx.keepdim,
        )
        return _tensor(grad, x), None, None


def softmax(input, dim, dtype=None):
    """``torch.nn.functional.softmax`` on fastgrad's kernels (``fastgrad.softmax``)."""
    return _FromOutput.apply(_cast(input, dtype, "softmax"), dim, "softmax")


def log_softmax(input, dim, dtype=None):
    """``torch.nn.functional.log_softmax`` on fastgrad's kernels."""
    return _FromOutput.apply(_cast(input, dtype, "log_softmax"), dim, "log_softmax")


def softmin(input, dim, dtype=None):
    """``torch.nn.functional.softmin`` on fastgrad's kernels."""
    return _FromOutput.apply(_cast(input, dtype, "softmin"), dim, "softmin")


def logsumexp(input, dim, keepdim=False):
    """``torch.logsumexp`` on fastgrad's kernels (dim an int or a tuple of ints)."""
    dim = tuple(dim) if isinstance(dim, list) else dim
    return _LogSumExp.apply(_cast(input, None, "logsumexp"), dim, keepdim)


class Softmax(torch.nn.Softmax):
    """``torch.nn.Softmax`` on fastgrad's kernels (``fastgrad.torch.softmax``)."""

    def forward(self, input):
        return softmax(input, self.dim)


class LogSoftmax(torch.nn.LogSoftmax):
    """``torch.nn.LogSoftmax`` on fastgrad's kernels."""

    def forward(self, input):
        return log_softmax(input, self.dim)


class Softmin(torch.nn.Softmin):
    """``torch.nn.Softmin`` on fastgrad's kernels."""

    def forward(self, input):
        return softmin(input, self.dim)


MODULES = {"Softmax": Softmax, "LogSoftmax": LogSoftmax, "Softmin": Softmin}
for _module in MODULES.values():
    _module.__module__ = "fastgrad.torch"
FUNCTIONS = {
    "softmax": softmax,
    "log_softmax": log_softmax,
    "softmin": softmin,
    "logsumexp": logsumexp,
}
