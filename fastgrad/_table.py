"""THE activation table: the single source of truth.

Kernels, public functions, references, tests, benchmarks and plots all iterate ``TABLE``.
Adding an activation is one entry here plus its math in ``fastgrad/activations/`` and its
NumPy version in ``fastgrad/reference.py``; ``tests/test_table.py`` fails if any of those
is missing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .activations import logistic, piecewise


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

    @property
    def doc(self):
        return self.math.__doc__


TABLE = (
    Activation("relu", piecewise.relu, "ReLU", kinks=(0.0,)),
    Activation("sigmoid", logistic.sigmoid, "Sigmoid"),
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
