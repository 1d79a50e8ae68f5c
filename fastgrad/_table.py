"""THE activation table: the single source of truth.

Kernels, public functions, references, tests, benchmarks and plots all iterate ``TABLE``.
Adding an activation is one entry here plus its math in ``fastgrad/activations/`` and its
NumPy version in ``fastgrad/reference.py``; ``tests/test_table.py`` fails if any of those
is missing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .activations import gaussian, hyperbolic, logistic, piecewise


@dataclass(frozen=True)
class TorchPeer:
    """How PyTorch computes the same thing, as ATen ops (``torch.ops.aten.<name>``, each
    with an ``out=`` overload): a benchmark peer and a test oracle. fastgrad never
    imports torch; ``fastgrad._peers`` does, when it is installed.
    ``forward(x, *forward_args(**params))``; ``backward(grad_out, x or y,
    *backward_args(**params))``, the kernel autograd runs, where ``backward_input`` says
    whether it takes the input x or the output y."""

    forward: str
    backward: str
    backward_input: str = "x"
    forward_args: Callable = lambda **params: ()
    backward_args: Callable = lambda **params: ()


@dataclass(frozen=True)
class Activation:
    name: str
    # (F, elementary) -> (scalar forward, scalar derivative), both (x, a, b) -> y.
    math: Callable
    title: str  # as shown in plots, e.g. "ReLU"
    # keyword parameters -> the kernel slots (a, b), validated; None: no parameters.
    params: Callable | None = None
    # x where the derivative jumps: finite-difference checks keep away from them.
    kinks: tuple = ()
    plot_range: tuple = (-10.0, 10.0)  # the seed article's x range
    extra_test_params: tuple = field(default_factory=tuple)  # keyword sets to test too
    torch: TorchPeer | None = None

    @property
    def doc(self):
        return self.math.__doc__


def _torch_softplus_args(beta=1.0, threshold=None):
    # fastgrad's threshold=None (no switch) has no PyTorch spelling: torch's default, 20
    return beta, 20.0 if threshold is None else threshold


TABLE = (
    Activation(
        "relu",
        piecewise.relu,
        "ReLU",
        kinks=(0.0,),
        torch=TorchPeer("relu", "threshold_backward", backward_args=lambda: (0.0,)),
    ),
    Activation(
        "sigmoid",
        logistic.sigmoid,
        "Sigmoid",
        torch=TorchPeer("sigmoid", "sigmoid_backward", backward_input="y"),
    ),
    Activation(
        "softplus",
        logistic.softplus,
        "Softplus",
        params=logistic.softplus_params,
        extra_test_params=(
            {"beta": 2.0},
            {"beta": 0.5, "threshold": 20.0},
            {"beta": 1.0, "threshold": 20.0},
        ),
        torch=TorchPeer(
            "softplus",
            "softplus_backward",
            forward_args=_torch_softplus_args,
            backward_args=_torch_softplus_args,
        ),
    ),
    Activation(
        "tanh",
        hyperbolic.tanh,
        "Tanh",
        plot_range=(-5.0, 5.0),
        torch=TorchPeer("tanh", "tanh_backward", backward_input="y"),
    ),
    Activation("silu", logistic.silu, "SiLU", torch=TorchPeer("silu", "silu_backward")),
    Activation(
        "gelu",
        gaussian.gelu,
        "GELU",
        plot_range=(-5.0, 5.0),
        torch=TorchPeer("gelu", "gelu_backward"),
    ),
)

BY_NAME = {act.name: act for act in TABLE}

# The four public functions of every activation: suffix -> what it computes.
KINDS = {
    "": "forward, y = f(x)",
    "_grad": "derivative, dy/dx",
    "_backward": "backward, grad_out * dy/dx",
    "_fwd_grad": "forward and derivative in one pass, (y, dy/dx)",
}


# The kind of each public suffix, as the kernels, benchmarks and plots name it.
KIND_NAMES = {"": "forward", "_grad": "grad", "_backward": "backward", "_fwd_grad": "fwd_grad"}


def public_names():
    return [act.name + suffix for act in TABLE for suffix in KINDS]
