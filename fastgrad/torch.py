"""fastgrad's kernels as PyTorch autograd functions, with ``torch.nn.functional``'s
signatures: ``fastgrad.torch.gelu(t, approximate="tanh")``, ``fastgrad.torch.elu(t, 1.0)``.

Importing this module imports PyTorch (``import fastgrad`` never does). Each function
runs fastgrad's forward on the tensor's memory (CPU, float32 or float64; a tensor that
needs it is made contiguous) and, on the backward pass, fastgrad's accurate
``f_backward(grad_out, x)`` from the saved input. So the gradients are fastgrad's: in
the tails they keep their digits where PyTorch's sigmoid and tanh backward (from the
output) cancel to 0. Parameters are PyTorch's, defaults included (``softplus``'s
``threshold=20``); ``inplace=True`` is refused (autograd would need the input the
in-place forward overwrote). The keyword-only ``accuracy`` chooses fastgrad's level
(``"accurate"``, ``"fast"``; None: ``fastgrad.get_accuracy()``) for the forward and
the backward alike.

    >>> import torch, fastgrad.torch as fgt
    >>> t = torch.linspace(-3, 3, 5, dtype=torch.float64, requires_grad=True)
    >>> fgt.gelu(t).sum().backward()
"""

import inspect

import numpy as np
import torch

import fastgrad as _fg

from ._params import ACCURACY
from ._table import TABLE


def _check(t, fn):
    if not isinstance(t, torch.Tensor):
        raise TypeError(
            f"fastgrad.torch.{fn}: input must be a torch.Tensor, got {type(t).__name__}"
        )
    if t.device.type != "cpu":
        raise ValueError(f"fastgrad.torch.{fn}: CPU tensors only, got one on {t.device}")
    if t.layout != torch.strided:
        raise TypeError(f"fastgrad.torch.{fn}: dense tensors only, got layout {t.layout}")
    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"fastgrad.torch.{fn}: float32 or float64 tensors only, got {t.dtype}")


def _numpy(t):
    return t.detach().contiguous().numpy()


def _tensor(array):
    return torch.from_numpy(np.asarray(array))


def _second_derivative_term(activation, params, x, grad_out, grad_grad):
    """``grad_grad * grad_out * f''(x)``: the gradient of ``grad_out * f'(x)`` with respect
    to x, by PyTorch's autograd of its own functional (differentiable again when the
    caller builds a graph: third derivatives)."""
    if activation.linear_pieces:  # f'' = 0 (PyTorch has no double backward for some)
        return torch.zeros_like(x)
    create = torch.is_grad_enabled()
    functional = getattr(torch.nn.functional, activation.torch_function)
    # PyTorch's keywords (fastgrad.torch's defaults are PyTorch's; a None left to it;
    # fastgrad's accuracy level is not PyTorch's to know)
    kwargs = {k: v for k, v in params.items() if v is not None and k != ACCURACY.name}
    with torch.enable_grad():
        xr = x if (create and x.requires_grad) else x.detach().requires_grad_(True)
        (first,) = torch.autograd.grad(functional(xr, **kwargs), xr, grad_out, create_graph=True)
        if not first.requires_grad:  # f' does not depend on x anywhere (PyTorch's graph)
            return torch.zeros_like(x)
        (second,) = torch.autograd.grad(
            first, xr, grad_grad, create_graph=create, allow_unused=True
        )
    return torch.zeros_like(x) if second is None else second


def _autograd_functions(activation):
    """torch.autograd.Functions running fastgrad's ``name`` and ``name_backward``: the
    activation, and its backward as a function of (grad_out, x) of its own, so that the
    gradient is differentiable when autograd builds a graph (``create_graph=True``)."""
    name = activation.name
    forward, backward = getattr(_fg, name), getattr(_fg, name + "_backward")

    def backward_forward_pass(ctx, grad_out, x, params):
        ctx.params = params
        ctx.save_for_backward(grad_out, x)
        return _tensor(backward(_numpy(grad_out), _numpy(x), **params))

    def backward_backward_pass(ctx, grad_grad):
        grad_out, x = ctx.saved_tensors
        wants_grad_out, wants_x = ctx.needs_input_grad[:2]
        d_grad_out = d_x = None
        if wants_grad_out:  # d(grad_out * f'(x)) / d(grad_out) = f'(x)
            d_grad_out = backward_function.apply(grad_grad, x, ctx.params)
        if wants_x:
            d_x = _second_derivative_term(activation, ctx.params, x, grad_out, grad_grad)
        return d_grad_out, d_x, None

    backward_function = type(
        f"{name}_backward_function",
        (torch.autograd.Function,),
        {
            "forward": staticmethod(backward_forward_pass),
            "backward": staticmethod(backward_backward_pass),
        },
    )

    def forward_pass(ctx, x, params):
        ctx.params = params
        ctx.save_for_backward(x)
        return _tensor(forward(_numpy(x), **params))

    def backward_pass(ctx, grad_out):
        (x,) = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: the gradient must have a graph
            return backward_function.apply(grad_out, x, ctx.params), None
        return _tensor(backward(_numpy(grad_out), _numpy(x), **ctx.params)), None

    return type(
        f"{name}_function",
        (torch.autograd.Function,),
        {"forward": staticmethod(forward_pass), "backward": staticmethod(backward_pass)},
    )


def _public(activation):
    """``fastgrad.torch.<torch name>(input, *params, inplace=False)``."""
    name, torch_name = activation.name, activation.torch_function
    function = _autograd_functions(activation)
    fastgrad_params = [
        p
        for p in inspect.signature(getattr(_fg, name)).parameters.values()
        if p.name not in ("x", "out", ACCURACY.name)
    ]
    defaults = activation.torch_defaults
    params = [
        p.replace(
            kind=inspect.Parameter.POSITIONAL_OR_KEYWORD, default=defaults.get(p.name, p.default)
        )
        for p in fastgrad_params
    ]
    head = [inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    tail = []
    if activation.torch_inplace:
        tail = [
            inspect.Parameter("inplace", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)
        ]
    signature = inspect.Signature(head + params + tail + [ACCURACY])

    def call(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        t = values.pop("input")
        if values.pop("inplace", False):
            raise ValueError(f"fastgrad.torch.{torch_name}: inplace=True is not supported")
        _check(t, torch_name)
        return function.apply(t, values)

    call.__signature__ = signature
    call.__name__ = call.__qualname__ = torch_name
    call.__module__ = __name__
    call.__doc__ = (
        f"{activation.title} as ``torch.nn.functional.{torch_name}`` computes it, on "
        f"fastgrad's kernels, with autograd (backward: ``fastgrad.{name}_backward``).\n\n"
        + getattr(_fg, name).__doc__
    )
    return torch_name, call


_FUNCTIONS = dict(_public(activation) for activation in TABLE)
globals().update(_FUNCTIONS)
__all__ = sorted(_FUNCTIONS)
