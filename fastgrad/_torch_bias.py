"""``fastgrad.torch``'s dense-layer epilogue: ``<f>_bias(h, b, **params)``, an autograd
function of (h, b) per activation (PyTorch's functional name, ``gelu_bias``,
``leaky_relu_bias``), on fastgrad's kernels (``fastgrad._bias``):

    y = f(h + b)   forward: ``fastgrad.<f>_bias_fwd_grad``, y and d = f'(h + b) in one
                   pass, d saved (``fastgrad.<f>_bias`` where no gradient is wanted)
    backward:      ``fastgrad.<f>_bias_backward_from_grad``: grad_h and grad_b in one pass

The parameters are PyTorch's, with PyTorch's defaults (softplus's threshold=20), and
``accuracy=``. Under ``create_graph=True`` the backward is the vector-Jacobian product of
``fastgrad.torch.<f>(h + b)``, which autograd can differentiate again (its second
derivative is fastgrad.torch's): a second derivative is never a silent zero. Imported by
``fastgrad.torch``.

    >>> lin = torch.nn.Linear(784, 1024, bias=False)  # the bias is the epilogue's
    >>> b = torch.nn.Parameter(torch.zeros(1024))
    >>> y = fastgrad.torch.gelu_bias(lin(x), b)        # x @ W.T, then gelu(. + b)
"""

import torch

import fastgrad as _fg

from ._torch_layer import _array, _differentiable_vjp, _tensor


class _BiasActivation(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, b, name, keywords, composed):
        ctx.name, ctx.keywords, ctx.composed = name, keywords, composed
        arrays = (_array(h, name + "_bias", "h"), _array(b, name + "_bias", "b"))
        if not any(ctx.needs_input_grad[:2]):  # no backward will come: the forward alone
            ctx.save_for_backward(h, b, None)
            return _tensor(getattr(_fg, name + "_bias")(*arrays, **keywords), h)
        # f and f' in one loop (their subexpressions shared), d saved for the backward
        y, d = getattr(_fg, name + "_bias_fwd_grad")(*arrays, **keywords)
        ctx.save_for_backward(h, b, _tensor(d, h))
        return _tensor(y, h)

    @staticmethod
    def backward(ctx, grad_out):
        h, b, d = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: differentiable again
            composed = lambda h, b: ctx.composed(h + b, **ctx.keywords)  # noqa: E731
            grad_h, grad_b = _differentiable_vjp(composed, (h, b), grad_out)
            return grad_h, grad_b, None, None, None
        fn = ctx.name + "_bias_backward_from_grad"
        grad_h, grad_b = getattr(_fg, fn)(_array(grad_out, fn, "grad_out"), _array(d, fn, "d"))
        return _tensor(grad_h, h), _tensor(grad_b, b), None, None, None


def bias_functions(table, elementwise):
    """{``<torch name>_bias``: function} for every activation of the table;
    ``elementwise``: fastgrad.torch's functions by PyTorch's name (differentiable to any
    order: the create_graph backward composes them)."""
    functions = {}
    for activation in table:
        name, torch_name = activation.name, activation.torch_function
        defaults = dict(activation.torch_defaults)
        composed = elementwise[torch_name]

        public = torch_name + "_bias"

        def function(
            h, b, _name=name, _defaults=defaults, _composed=composed, _public=public, **params
        ):
            for what, t in (("h", h), ("b", b)):
                if not isinstance(t, torch.Tensor):
                    raise TypeError(f"fastgrad.torch.{_public}: {what} must be a torch.Tensor")
            keywords = {**_defaults, **params}
            return _BiasActivation.apply(h, b, _name, keywords, _composed)

        function.__name__ = function.__qualname__ = public
        function.__module__ = "fastgrad.torch"
        function.__doc__ = (
            f"``torch.nn.functional.{torch_name}(h + b)`` as one autograd function of (h, b)"
            f" on fastgrad's\nepilogue kernels (``fastgrad.{name}_bias``, "
            f"``fastgrad.{name}_bias_backward``): b along\nh's last axis, grad_b from the "
            f"same pass as grad_h. PyTorch's parameters and defaults,\nand accuracy=."
        )
        functions[public] = function
    return functions
