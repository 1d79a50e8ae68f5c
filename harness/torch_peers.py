"""How PyTorch computes each activation: the ATen kernels (``torch.ops.aten``) that its
``torch.nn.functional`` function (the table row's ``torch_function``) and autograd run,
with their calling conventions, keyed by activation name. A benchmark peer and a test
oracle (``harness.peers``); whoever adds an activation adds an entry here only to
compare its kernels with PyTorch's. The entries are names and argument builders.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fastgrad.activations import exponential


def _x_only(x, **params):
    return (x,), {}


def _g_x(aten, g, x, y, **params):
    return (g, x), {}


@dataclass(frozen=True)
class TorchPeer:
    """How PyTorch computes the same thing: a benchmark peer and a test oracle.
    ``harness.peers`` imports torch, when it is installed.

    - ``functional_kwargs(**params)``: the keyword arguments of its
      ``torch.nn.functional`` function (the parity tests call it and take autograd's
      gradient).
    - ``forward``/``backward``: the ATen kernels (``torch.ops.aten.<name>``) that
      ``functional`` and its autograd run, for the benchmarks; ``None`` where PyTorch
      composes the activation from several ops (its backward is then autograd's pass
      over that graph). ``forward_call(x, **params)`` and
      ``backward_call(aten, grad_out, x, y, **params)`` give their (args, kwargs); y is
      the forward's output, which some backward kernels take instead of x.
    - ``backward_out``: the name of the backward's ``out=`` overload (None: it has none).
    - ``backward_takes_output``: the backward kernel takes y, not x (sigmoid, tanh): it is
      fastgrad's ``f_backward_from_output``'s peer, and ``f_backward`` has none.
    - ``from_output_call(g, y)``: the (args, kwargs) of the backward kernel given the
      output, for activations with ``from_output`` (None: others).
    """

    forward: str | None = None
    backward: str | None = None
    forward_call: Callable = _x_only
    backward_call: Callable = _g_x
    backward_out: str | None = "grad_input"
    functional_kwargs: Callable = lambda **params: params
    backward_takes_output: bool = False
    from_output_call: Callable | None = None


def _aten(forward, backward, defaults, backward_names=None):
    """A TorchPeer whose ATen kernels take the parameters positionally: the forward all
    of ``defaults`` (name -> default, None: required) after x, the backward those in
    ``backward_names`` (default: all) after (grad_out, x)."""
    names = list(defaults)
    backward_names = names if backward_names is None else backward_names

    def values(params, which):
        return tuple(params.get(n, defaults[n]) for n in which)

    def forward_call(x, **params):
        return (x, *values(params, names)), {}

    def backward_call(aten, g, x, y, **params):
        return (g, x, *values(params, backward_names)), {}

    return TorchPeer(forward, backward, forward_call, backward_call)


def _torch_softplus_threshold(beta=1.0, threshold=None):
    # fastgrad's threshold=None (no switch) has no PyTorch spelling: torch's default, 20
    return beta, 20.0 if threshold is None else threshold


def _elu_call(alpha, scale, input_scale, backward_input_scale=None):
    """The ATen elu kernels, which elu, selu and celu all run: forward (x, alpha, scale,
    input_scale), backward (grad_out, alpha, scale, input_scale, is_result, x)."""
    backward_input_scale = backward_input_scale or input_scale

    def forward_call(x, **params):
        return (x, alpha(params), scale, input_scale(params)), {}

    def backward_call(aten, g, x, y, **params):
        return (g, alpha(params), scale, backward_input_scale(params), False, x), {}

    return forward_call, backward_call


def _gelu_call(x, approximate="none"):
    return (x,), {"approximate": approximate}


def _gelu_backward_call(aten, g, x, y, approximate="none"):
    return (g, x), {"approximate": approximate}


def _softplus_call(x, **params):
    return (x, *_torch_softplus_threshold(**params)), {}


def _softplus_backward_call(aten, g, x, y, **params):
    return (g, x, *_torch_softplus_threshold(**params)), {}


def _output_peer(name):
    """sigmoid and tanh: PyTorch's backward kernel takes the forward's output y."""
    return TorchPeer(
        name,
        f"{name}_backward",
        backward_call=lambda aten, g, x, y: ((g, y), {}),
        backward_takes_output=True,
        from_output_call=lambda g, y: ((g, y), {}),
    )


def _log_sigmoid_backward_call(aten, g, x, y):
    # the buffer autograd saves from log_sigmoid_forward (exp(-|x|) on CPU)
    return (g, x, aten.log_sigmoid_forward(x)[1]), {}


def _alpha(params):
    """elu's and celu's alpha from the keyword parameters (default 1.0)."""
    return params.get("alpha", 1.0)


_SELU = (exponential.SELU_ALPHA, exponential.SELU_SCALE)


# activation name -> how PyTorch computes it (activations missing here: no PyTorch peer)
TORCH_PEERS = {
    "relu": TorchPeer(
        "relu",
        "threshold_backward",
        backward_call=lambda aten, g, x, y: ((g, x, 0.0), {}),
        from_output_call=lambda g, y: ((g, y, 0.0), {}),
    ),
    "relu6": TorchPeer(
        "hardtanh",
        "hardtanh_backward",
        forward_call=lambda x: ((x, 0.0, 6.0), {}),
        backward_call=lambda aten, g, x, y: ((g, x, 0.0, 6.0), {}),
    ),
    "leaky_relu": TorchPeer(
        "leaky_relu",
        "leaky_relu_backward",
        forward_call=lambda x, negative_slope=0.01: ((x, negative_slope), {}),
        backward_call=lambda aten, g, x, y, negative_slope=0.01: (
            (g, x, negative_slope, False),
            {},
        ),
    ),
    "hardtanh": _aten("hardtanh", "hardtanh_backward", {"min_val": -1.0, "max_val": 1.0}),
    "threshold": _aten(
        "threshold", "threshold_backward", {"threshold": None, "value": None}, ["threshold"]
    ),
    "elu": TorchPeer("elu", "elu_backward", *_elu_call(_alpha, 1.0, lambda params: 1.0)),
    "selu": TorchPeer(
        "elu",
        "elu_backward",
        *_elu_call(lambda params: _SELU[0], _SELU[1], lambda params: 1.0),
    ),
    "celu": TorchPeer(
        "elu",
        "elu_backward",
        # autograd's celu backward takes 1/alpha with alpha rounded to float32
        # (derivatives.yaml: 1.0/alpha.toFloat()), also for float64 tensors
        *_elu_call(
            _alpha,
            1.0,
            lambda params: 1.0 / _alpha(params),
            lambda params: 1.0 / float(np.float32(_alpha(params))),
        ),
    ),
    "gelu": TorchPeer(
        "gelu",
        "gelu_backward",
        forward_call=_gelu_call,
        backward_call=_gelu_backward_call,
    ),
    "silu": TorchPeer("silu", "silu_backward"),
    "mish": TorchPeer("mish", "mish_backward", backward_out=None),
    "softplus": TorchPeer(
        "softplus",
        "softplus_backward",
        forward_call=_softplus_call,
        backward_call=_softplus_backward_call,
        functional_kwargs=lambda beta=1.0, threshold=None: dict(
            zip(("beta", "threshold"), _torch_softplus_threshold(beta, threshold), strict=True)
        ),
    ),
    "sigmoid": _output_peer("sigmoid"),
    "log_sigmoid": TorchPeer(
        "log_sigmoid",
        "log_sigmoid_backward",
        backward_call=_log_sigmoid_backward_call,
    ),
    "tanh": _output_peer("tanh"),
    "hardsigmoid": TorchPeer("hardsigmoid", "hardsigmoid_backward"),
    "hardswish": TorchPeer("hardswish", "hardswish_backward", backward_out="out"),
    # composed by PyTorch from several ops: no kernels of their own
    "softsign": TorchPeer(),
    "tanhshrink": TorchPeer(),
    "softshrink": _aten("softshrink", "softshrink_backward", {"lambd": 0.5}),
    "hardshrink": _aten("hardshrink", "hardshrink_backward", {"lambd": 0.5}),
}
