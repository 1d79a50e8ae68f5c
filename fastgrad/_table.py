"""THE activation table: the single source of truth.

Kernels, public functions, references, the torch bridge, tests, benchmarks and plots all
iterate ``TABLE`` (and, for the kinds of function each activation has,
``_kinds.KINDS``). A row holds every fact about its activation: its math, parameters,
kinks, PyTorch's name, aliases and defaults, the accuracy bound the tests hold it to, the
parameter sets the tests exercise, where its plot looks. Adding an activation is one
entry here plus its math in ``fastgrad/activations/`` and its NumPy version in
``fastgrad/reference.py``. What cannot live in an installed row is keyed by name in the
harness (``harness/``: the mpmath oracle, how PyTorch's ATen kernels and ONNX Runtime
spell it), and ``tests/test_table.py`` checks those keys and values against the rows.
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


# The accuracy bounds, in ulps of the true value (``harness.oracle.ulp_errors``), that
# the accuracy tests hold every forward and derivative to, float32 and float64: the
# piecewise activations are correctly rounded; the smooth ones within 4 ulps.
CORRECTLY_ROUNDED = 0.5
SMOOTH_MAX_ULPS = 4.0


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
    # the fast accuracy level's math (``_accuracy``), as ``math`` but within
    # FAST_MAX_RELATIVE for fewer operations; for a row with variants, a dict of the
    # variant values that have one. None (or a value missing): the accurate math serves
    fast: Callable | dict | None = None
    # the accuracy bound of the forward and the derivative, in ulps (see above)
    max_ulps: float = SMOOTH_MAX_ULPS
    # the parameters tests, benchmarks and plots use when they need values (required ones)
    default_params: dict = field(default_factory=dict)
    # parameter sets the tests and the accuracy and parity reports exercise besides the
    # defaults (a variant's other values, parameters away from their defaults)
    extra_params: tuple = ()
    # PyTorch: its ``torch.nn.functional`` name (None: the same), its defaults where they
    # differ from fastgrad's (softplus switches to x above threshold=20; fastgrad's None
    # never does), and whether it takes ``inplace=``; ``fastgrad.torch`` follows them
    torch_name: str | None = None
    torch_defaults: dict = field(default_factory=dict)
    torch_inplace: bool = False
    # fastgrad's other public names for it (PyTorch's and nn.SiLU's): the same functions
    aliases: tuple = ()
    # the x range its curve is drawn over (``fastgrad.plotting``)
    plot_range: tuple = (-10.0, 10.0)
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
        """A few operations per element (the correctly rounded ones are the piecewise
        activations): their kernels are limited by memory bandwidth, so threads pay only
        on larger arrays."""
        return self.max_ulps == CORRECTLY_ROUNDED

    @property
    def torch_function(self):
        """Its name in ``torch.nn.functional``."""
        return self.torch_name or self.name

    def param_sets(self):
        """The keyword sets tests and reports run it with: the defaults (the example
        values of required parameters), then ``extra_params``."""
        return (dict(self.default_params), *self.extra_params)

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

    def fast_math(self, variant=None):
        """The fast level's math of a variant (None: the default), or None where the
        accurate math serves that level too."""
        if isinstance(self.fast, dict):
            return self.fast.get(self.maths_default() if variant is None else variant)
        return self.fast


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


def _piecewise_linear(name, math, title, **facts):
    """A piecewise-linear activation's entry: correctly rounded (a few exact operations
    per element), linear pieces, and PyTorch's backward selects 0 off its slopes."""
    return Activation(
        name,
        math,
        title,
        max_ulps=CORRECTLY_ROUNDED,
        linear_pieces=True,
        zero_gradient_selected=True,
        **facts,
    )


def _shrink(name, math, title, params):
    """A shrink activation's entry: one parameter, lambd (default 0.5), kinks at -lambd
    and lambd."""
    return _piecewise_linear(
        name,
        math,
        title,
        params=params,
        kinks=lambda lambd=0.5: (-lambd, lambd),
        extra_params=({"lambd": 1.5},),
        plot_range=(-3.0, 3.0),
    )


# One row an activation: name, math, title, then the facts that differ from the defaults.
# fmt: off
TABLE = (
    _piecewise_linear("relu", piecewise.relu, "ReLU", kinks=(0.0,),
                      from_output=piecewise.relu_from_output, torch_inplace=True),
    _piecewise_linear("relu6", piecewise.relu6, "ReLU6", kinks=(0.0, 6.0), torch_inplace=True),
    _piecewise_linear("leaky_relu", piecewise.leaky_relu, "Leaky ReLU",
                      params=piecewise.leaky_relu_params, kinks=(0.0,),
                      extra_params=({"negative_slope": 0.2},), torch_inplace=True),
    _piecewise_linear("hardtanh", piecewise.hardtanh, "Hardtanh",
                      params=piecewise.hardtanh_params,
                      kinks=lambda min_val=-1.0, max_val=1.0: (min_val, max_val),
                      extra_params=({"min_val": -2.0, "max_val": 0.5},), torch_inplace=True,
                      plot_range=(-3.0, 3.0)),
    _piecewise_linear("threshold", piecewise.threshold, "Threshold",
                      params=piecewise.threshold_params,
                      kinks=lambda threshold, value: (threshold,),
                      default_params={"threshold": 1.0, "value": -0.5},
                      extra_params=({"threshold": -2.0, "value": 3.0},), torch_inplace=True),
    Activation("elu", exponential.elu, "ELU", params=exponential.elu_params, kinks=(0.0,),
               extra_params=({"alpha": 0.5},), torch_inplace=True),
    Activation("selu", exponential.selu, "SELU", kinks=(0.0,), torch_inplace=True),
    Activation("celu", exponential.celu, "CELU", params=exponential.celu_params,
               extra_params=({"alpha": 3.0}, {"alpha": 0.3}), torch_inplace=True),
    Activation("gelu", gaussian.gelu, "GELU",
               variant=Variant("approximate", {"none": gaussian.gelu, "tanh": gaussian.gelu_tanh}),
               fast={"none": gaussian.gelu_fast},
               extra_params=({"approximate": "tanh"},), plot_range=(-5.0, 5.0)),
    Activation("silu", logistic.silu, "SiLU", fast=logistic.silu_fast, torch_inplace=True,
               aliases=("swish",)),
    Activation("mish", hyperbolic.mish, "Mish", torch_inplace=True),
    Activation("softplus", logistic.softplus, "Softplus", params=logistic.softplus_params,
               extra_params=({"beta": 2.0}, {"beta": 0.5, "threshold": 20.0},
                             {"beta": 1.0, "threshold": 20.0}),
               torch_defaults={"beta": 1.0, "threshold": 20.0}),
    Activation("sigmoid", logistic.sigmoid, "Sigmoid", fast=logistic.sigmoid_fast,
               from_output=logistic.sigmoid_from_output),
    Activation("log_sigmoid", logistic.log_sigmoid, "LogSigmoid", torch_name="logsigmoid",
               aliases=("logsigmoid",)),
    Activation("tanh", hyperbolic.tanh, "Tanh", fast=hyperbolic.tanh_fast,
               from_output=hyperbolic.tanh_from_output,
               plot_range=(-5.0, 5.0)),
    _piecewise_linear("hardsigmoid", piecewise.hardsigmoid, "Hardsigmoid", kinks=(-3.0, 3.0),
                      torch_inplace=True),
    Activation("hardswish", piecewise.hardswish, "Hardswish", kinks=(-3.0, 3.0),
               max_ulps=CORRECTLY_ROUNDED, zero_gradient_selected=True, torch_inplace=True),
    Activation("softsign", algebraic.softsign, "Softsign"),
    Activation("tanhshrink", hyperbolic.tanhshrink, "Tanhshrink", zero_gradient_selected=True,
               plot_range=(-5.0, 5.0)),
    _shrink("softshrink", piecewise.softshrink, "Softshrink", piecewise.softshrink_params),
    _shrink("hardshrink", piecewise.hardshrink, "Hardshrink", piecewise.hardshrink_params),
)
# fmt: on

BY_NAME = {act.name: act for act in TABLE}
# alias -> activation name, from the rows' ``aliases``
ALIASES = {alias: act.name for act in TABLE for alias in act.aliases}


def public_names():
    """Every public function name: the table's per activation, and their aliases."""
    acts = [*TABLE, *(BY_NAME[name] for name in ALIASES.values())]
    names = [*(act.name for act in TABLE), *ALIASES]
    return [
        name + kind.suffix for name, act in zip(names, acts, strict=True) for kind in kinds_of(act)
    ]
