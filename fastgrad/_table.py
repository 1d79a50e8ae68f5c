"""THE activation table: the single source of truth.

Kernels, public functions, references, tests, benchmarks and plots all iterate ``TABLE``
(and, for the kinds of function each activation has, ``_kinds.KINDS``). Adding an
activation is one entry here plus its math in ``fastgrad/activations/`` and its NumPy
version in ``fastgrad/reference.py``; ``tests/test_table.py`` fails if any of those is
missing. How PyTorch computes it, for the benchmarks and parity tests, is in
``_torch_peers.py``; how ONNX Runtime does, in ``_peers.py``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from ._kinds import kinds_of
from .activations import algebraic, exponential, gaussian, hyperbolic, logistic, piecewise


@dataclass(frozen=True)
class Variant:
    """A keyword parameter whose values select different math, each compiled into its own
    kernels (gelu's ``approximate``): ``math[value]`` for each value, the first the default."""

    param: str
    math: dict


@dataclass(frozen=True)
class Activation:
    name: str
    # (F, elementary) -> (scalar forward, scalar derivative), both (x, a, b) -> y.
    math: Callable
    title: str  # as shown in plots, e.g. "ReLU"
    # keyword parameters -> the kernel slots (a, b), validated; None: no parameters.
    # A parameter without a default is required.
    params: Callable | None = None
    # x where the derivative jumps (or a function of the parameters giving them):
    # finite-difference checks keep away from them, accuracy and parity tests probe them.
    kinks: tuple | Callable = ()
    variant: Variant | None = None
    # piecewise activations are correctly rounded; the smooth ones within 4 ulps
    exact: bool = False
    # the parameters tests, benchmarks and plots use when they need values (required ones)
    default_params: dict = field(default_factory=dict)
    # (F, elementary) -> scalar derivative given the output, (y, a, b) -> dy/dx: for the
    # activations whose PyTorch autograd saves the output (``f_backward_from_output``)
    from_output: Callable | None = None
    # made of linear pieces: the derivative is constant on each piece, so the second
    # derivative is 0 away from the kinks (the torch bridge's double backward uses it)
    linear_pieces: bool = False
    # PyTorch's backward gives +0.0 where the derivative is 0, whatever grad_out's sign:
    # its piecewise kernels select 0 (``x > 0 ? g : 0``) rather than multiply, and
    # tanhshrink's autograd g - g*(1 - tanh^2) cancels to +0.0; fastgrad's backward kinds
    # give the same (``_kernels._zero_selected``)
    zero_gradient_selected: bool = False

    @property
    def doc(self):
        return self.math.__doc__

    @property
    def memory_bound(self):
        """A few operations per element (the piecewise activations): their kernels are
        limited by memory bandwidth, so threads pay only on larger arrays."""
        return self.exact

    def kinks_at(self, params=None):
        """The kinks for these keyword parameters (the defaults where not given)."""
        if not callable(self.kinks):
            return self.kinks
        given = {**self.default_params, **(params or {})}
        if self.variant:
            given.pop(self.variant.param, None)
        return tuple(self.kinks(**given))

    def maths_default(self):
        """The default value of the variant parameter (None without variants)."""
        return next(iter(self.maths()))

    def maths(self):
        """{variant value: math}: one entry, keyed None, for an activation without variants."""
        return dict(self.variant.math) if self.variant else {None: self.math}


@dataclass(frozen=True)
class Case:
    """An activation with one set of parameters, as benchmarks and plots show it."""

    label: str  # "gelu", "gelu-tanh": the activation's name, then a non-default variant
    activation: Activation
    params: dict


def cases():
    """Every activation with its default (or required) parameters, and once more for each
    non-default variant: what the benchmarks measure and the plots draw."""
    out = []
    for act in TABLE:
        values = list(act.maths())
        out.append(Case(act.name, act, dict(act.default_params)))
        for value in values[1:]:
            params = {**act.default_params, act.variant.param: value}
            out.append(Case(f"{act.name}-{value}", act, params))
    return out


def _shrink(name, math, title, params):
    """A shrink activation's entry: one parameter, lambd (default 0.5), kinks at -lambd
    and lambd, exact."""
    return Activation(
        name,
        math,
        title,
        params=params,
        kinks=lambda lambd=0.5: (-lambd, lambd),
        exact=True,
        linear_pieces=True,
        zero_gradient_selected=True,
    )


TABLE = (
    Activation(
        "relu",
        piecewise.relu,
        "ReLU",
        kinks=(0.0,),
        exact=True,
        zero_gradient_selected=True,
        linear_pieces=True,
        from_output=piecewise.relu_from_output,
    ),
    Activation(
        "relu6",
        piecewise.relu6,
        "ReLU6",
        kinks=(0.0, 6.0),
        exact=True,
        zero_gradient_selected=True,
        linear_pieces=True,
    ),
    Activation(
        "leaky_relu",
        piecewise.leaky_relu,
        "Leaky ReLU",
        params=piecewise.leaky_relu_params,
        kinks=(0.0,),
        exact=True,
        linear_pieces=True,
        zero_gradient_selected=True,
    ),
    Activation(
        "hardtanh",
        piecewise.hardtanh,
        "Hardtanh",
        params=piecewise.hardtanh_params,
        kinks=lambda min_val=-1.0, max_val=1.0: (min_val, max_val),
        exact=True,
        zero_gradient_selected=True,
        linear_pieces=True,
    ),
    Activation(
        "threshold",
        piecewise.threshold,
        "Threshold",
        params=piecewise.threshold_params,
        kinks=lambda threshold, value: (threshold,),
        exact=True,
        zero_gradient_selected=True,
        linear_pieces=True,
        default_params={"threshold": 1.0, "value": -0.5},
    ),
    Activation(
        "elu",
        exponential.elu,
        "ELU",
        params=exponential.elu_params,
        kinks=(0.0,),
    ),
    Activation(
        "selu",
        exponential.selu,
        "SELU",
        kinks=(0.0,),
    ),
    Activation(
        "celu",
        exponential.celu,
        "CELU",
        params=exponential.celu_params,
    ),
    Activation(
        "gelu",
        gaussian.gelu,
        "GELU",
        variant=Variant("approximate", {"none": gaussian.gelu, "tanh": gaussian.gelu_tanh}),
    ),
    Activation(
        "silu",
        logistic.silu,
        "SiLU",
    ),
    Activation(
        "mish",
        hyperbolic.mish,
        "Mish",
    ),
    Activation(
        "softplus",
        logistic.softplus,
        "Softplus",
        params=logistic.softplus_params,
    ),
    Activation(
        "sigmoid",
        logistic.sigmoid,
        "Sigmoid",
        from_output=logistic.sigmoid_from_output,
    ),
    Activation(
        "log_sigmoid",
        logistic.log_sigmoid,
        "LogSigmoid",
    ),
    Activation(
        "tanh",
        hyperbolic.tanh,
        "Tanh",
        from_output=hyperbolic.tanh_from_output,
    ),
    Activation(
        "hardsigmoid",
        piecewise.hardsigmoid,
        "Hardsigmoid",
        kinks=(-3.0, 3.0),
        exact=True,
        zero_gradient_selected=True,
        linear_pieces=True,
    ),
    Activation(
        "hardswish",
        piecewise.hardswish,
        "Hardswish",
        kinks=(-3.0, 3.0),
        exact=True,
        zero_gradient_selected=True,
    ),
    Activation(
        "softsign",
        algebraic.softsign,
        "Softsign",
    ),
    Activation(
        "tanhshrink",
        hyperbolic.tanhshrink,
        "Tanhshrink",
        zero_gradient_selected=True,
    ),
    _shrink("softshrink", piecewise.softshrink, "Softshrink", piecewise.softshrink_params),
    _shrink("hardshrink", piecewise.hardshrink, "Hardshrink", piecewise.hardshrink_params),
)

# PyTorch's other names (torch.nn.functional.logsigmoid, nn.SiLU's "swish"): the same
# function objects under a second name
ALIASES = {"swish": "silu", "logsigmoid": "log_sigmoid"}

BY_NAME = {act.name: act for act in TABLE}


def public_names():
    """Every public function name: the table's per activation, and their aliases."""
    acts = [*TABLE, *(BY_NAME[name] for name in ALIASES.values())]
    names = [*(act.name for act in TABLE), *ALIASES]
    return [
        name + kind.suffix for name, act in zip(names, acts, strict=True) for kind in kinds_of(act)
    ]
