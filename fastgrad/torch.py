"""fastgrad's kernels as PyTorch autograd functions, with ``torch.nn.functional``'s
signatures: ``fastgrad.torch.gelu(t, approximate="tanh")``, ``fastgrad.torch.elu(t, 1.0)``.

Importing this module imports PyTorch (``import fastgrad`` never does). Each function
runs fastgrad's forward on the tensor's memory (CPU, float32 or float64; a tensor that
needs it is made contiguous) and, on the backward pass, fastgrad's accurate
``f_backward(grad_out, x)`` from the saved input. So the gradients are fastgrad's: in
the tails they keep their digits where PyTorch's sigmoid and tanh backward (from the
output) cancel to 0. Parameters are PyTorch's, defaults included (``softplus``'s
``threshold=20``); ``inplace=True`` is refused (autograd would need the input the
in-place forward overwrote).

    >>> import torch, fastgrad.torch as fgt
    >>> t = torch.linspace(-3, 3, 5, dtype=torch.float64, requires_grad=True)
    >>> fgt.gelu(t).sum().backward()
"""

import inspect

import numpy as np
import torch

import fastgrad as _fg

from ._table import TABLE

# PyTorch's function names and signatures where they differ from fastgrad's: its name for
# the activation, and its keyword parameters with their defaults.
_TORCH_NAMES = {"log_sigmoid": "logsigmoid"}
_TORCH_DEFAULTS = {"softplus": {"beta": 1.0, "threshold": 20.0}}
_HAS_INPLACE = {
    "relu", "relu6", "leaky_relu", "hardtanh", "threshold", "elu", "selu", "celu", "silu",
    "mish", "hardsigmoid", "hardswish",
}  # fmt: skip


def _check(t, fn):
    if not isinstance(t, torch.Tensor):
        raise TypeError(
            f"fastgrad.torch.{fn}: input must be a torch.Tensor, got {type(t).__name__}"
        )
    if t.device.type != "cpu":
        raise ValueError(f"fastgrad.torch.{fn}: CPU tensors only, got one on {t.device}")
    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"fastgrad.torch.{fn}: float32 or float64 tensors only, got {t.dtype}")


def _numpy(t):
    return t.detach().contiguous().numpy()


def _autograd_function(name):
    """A torch.autograd.Function running fastgrad's ``name`` and ``name_backward``."""
    forward, backward = getattr(_fg, name), getattr(_fg, name + "_backward")

    def forward_pass(ctx, x, params):
        ctx.params = params
        ctx.save_for_backward(x)
        return torch.from_numpy(np.asarray(forward(_numpy(x), **params)))

    def backward_pass(ctx, grad_out):
        (x,) = ctx.saved_tensors
        grad_in = backward(_numpy(grad_out), _numpy(x), **ctx.params)
        return torch.from_numpy(np.asarray(grad_in)), None

    return type(
        f"{name}_function",
        (torch.autograd.Function,),
        {"forward": staticmethod(forward_pass), "backward": staticmethod(backward_pass)},
    )


def _public(activation):
    """``fastgrad.torch.<torch name>(input, *params, inplace=False)``."""
    name = activation.name
    torch_name = _TORCH_NAMES.get(name, name)
    function = _autograd_function(name)
    fastgrad_params = [
        p
        for p in inspect.signature(getattr(_fg, name)).parameters.values()
        if p.name not in ("x", "out")
    ]
    defaults = _TORCH_DEFAULTS.get(name, {})
    params = [
        p.replace(
            kind=inspect.Parameter.POSITIONAL_OR_KEYWORD, default=defaults.get(p.name, p.default)
        )
        for p in fastgrad_params
    ]
    head = [inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    tail = []
    if name in _HAS_INPLACE:
        tail = [
            inspect.Parameter("inplace", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)
        ]
    signature = inspect.Signature(head + params + tail)

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
