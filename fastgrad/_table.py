"""THE activation table: the single source of truth.

Kernels, public functions, references, tests, benchmarks and plots all iterate ``TABLE``.
Adding an activation is one entry here plus its math in ``fastgrad/activations/`` and its
NumPy version in ``fastgrad/reference.py``; ``tests/test_table.py`` fails if any of those
is missing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._kinds import kinds_of
from .activations import algebraic, exponential, gaussian, hyperbolic, logistic, piecewise


def _x_only(x, **params):
    return (x,), {}


def _g_x(aten, g, x, y, **params):
    return (g, x), {}


@dataclass(frozen=True)
class TorchPeer:
    """How PyTorch computes the same thing: a benchmark peer and a test oracle. fastgrad
    never imports torch; ``fastgrad._peers`` does, when it is installed.

    - ``functional``: the ``torch.nn.functional`` name; ``functional_kwargs(**params)``
      its keyword arguments (the parity tests call it and take autograd's gradient).
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

    functional: str
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

    return TorchPeer(forward, forward, backward, forward_call, backward_call)


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
    plot_range: tuple = (-10.0, 10.0)  # the seed article's x range
    extra_test_params: tuple = field(default_factory=tuple)  # keyword sets to test too
    torch: TorchPeer | None = None
    variant: Variant | None = None
    # piecewise activations are correctly rounded; the smooth ones within 4 ulps
    exact: bool = False
    # the parameters tests, benchmarks and plots use when they need values (required ones)
    default_params: dict = field(default_factory=dict)
    # (F, elementary) -> scalar derivative given the output, (y, a, b) -> dy/dx: for the
    # activations whose PyTorch autograd saves the output (``f_backward_from_output``)
    from_output: Callable | None = None

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

TABLE = (
    Activation(
        "relu",
        piecewise.relu,
        "ReLU",
        kinks=(0.0,),
        exact=True,
        torch=TorchPeer(
            "relu",
            "relu",
            "threshold_backward",
            backward_call=lambda aten, g, x, y: ((g, x, 0.0), {}),
            from_output_call=lambda g, y: ((g, y, 0.0), {}),
        ),
        from_output=piecewise.relu_from_output,
    ),
    Activation(
        "relu6",
        piecewise.relu6,
        "ReLU6",
        kinks=(0.0, 6.0),
        exact=True,
        torch=TorchPeer(
            "relu6",
            "hardtanh",
            "hardtanh_backward",
            forward_call=lambda x: ((x, 0.0, 6.0), {}),
            backward_call=lambda aten, g, x, y: ((g, x, 0.0, 6.0), {}),
        ),
    ),
    Activation(
        "leaky_relu",
        piecewise.leaky_relu,
        "Leaky ReLU",
        params=piecewise.leaky_relu_params,
        kinks=(0.0,),
        exact=True,
        extra_test_params=({"negative_slope": 0.2},),
        torch=TorchPeer(
            "leaky_relu",
            "leaky_relu",
            "leaky_relu_backward",
            forward_call=lambda x, negative_slope=0.01: ((x, negative_slope), {}),
            backward_call=lambda aten, g, x, y, negative_slope=0.01: (
                (g, x, negative_slope, False),
                {},
            ),
        ),
    ),
    Activation(
        "hardtanh",
        piecewise.hardtanh,
        "Hardtanh",
        params=piecewise.hardtanh_params,
        kinks=lambda min_val=-1.0, max_val=1.0: (min_val, max_val),
        exact=True,
        plot_range=(-3.0, 3.0),
        extra_test_params=({"min_val": -2.0, "max_val": 0.5},),
        torch=_aten("hardtanh", "hardtanh_backward", {"min_val": -1.0, "max_val": 1.0}),
    ),
    Activation(
        "threshold",
        piecewise.threshold,
        "Threshold",
        params=piecewise.threshold_params,
        kinks=lambda threshold, value: (threshold,),
        exact=True,
        default_params={"threshold": 1.0, "value": -0.5},
        extra_test_params=({"threshold": -2.0, "value": 3.0},),
        torch=_aten(
            "threshold", "threshold_backward", {"threshold": None, "value": None}, ["threshold"]
        ),
    ),
    Activation(
        "elu",
        exponential.elu,
        "ELU",
        params=exponential.elu_params,
        kinks=(0.0,),
        extra_test_params=({"alpha": 0.5},),
        torch=TorchPeer("elu", "elu", "elu_backward", *_elu_call(_alpha, 1.0, lambda params: 1.0)),
    ),
    Activation(
        "selu",
        exponential.selu,
        "SELU",
        kinks=(0.0,),
        torch=TorchPeer(
            "selu",
            "elu",
            "elu_backward",
            *_elu_call(lambda params: _SELU[0], _SELU[1], lambda params: 1.0),
        ),
    ),
    Activation(
        "celu",
        exponential.celu,
        "CELU",
        params=exponential.celu_params,
        extra_test_params=({"alpha": 3.0}, {"alpha": 0.3}),
        torch=TorchPeer(
            "celu",
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
    ),
    Activation(
        "gelu",
        gaussian.gelu,
        "GELU",
        plot_range=(-5.0, 5.0),
        variant=Variant("approximate", {"none": gaussian.gelu, "tanh": gaussian.gelu_tanh}),
        extra_test_params=({"approximate": "tanh"},),
        torch=TorchPeer(
            "gelu",
            "gelu",
            "gelu_backward",
            forward_call=_gelu_call,
            backward_call=_gelu_backward_call,
        ),
    ),
    Activation("silu", logistic.silu, "SiLU", torch=TorchPeer("silu", "silu", "silu_backward")),
    Activation(
        "mish",
        hyperbolic.mish,
        "Mish",
        torch=TorchPeer("mish", "mish", "mish_backward", backward_out=None),
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
            "softplus",
            "softplus_backward",
            forward_call=_softplus_call,
            backward_call=_softplus_backward_call,
            functional_kwargs=lambda beta=1.0, threshold=None: dict(
                zip(("beta", "threshold"), _torch_softplus_threshold(beta, threshold), strict=True)
            ),
        ),
    ),
    Activation(
        "sigmoid",
        logistic.sigmoid,
        "Sigmoid",
        torch=_output_peer("sigmoid"),
        from_output=logistic.sigmoid_from_output,
    ),
    Activation(
        "log_sigmoid",
        logistic.log_sigmoid,
        "LogSigmoid",
        torch=TorchPeer(
            "logsigmoid",
            "log_sigmoid",
            "log_sigmoid_backward",
            backward_call=_log_sigmoid_backward_call,
        ),
    ),
    Activation(
        "tanh",
        hyperbolic.tanh,
        "Tanh",
        plot_range=(-5.0, 5.0),
        torch=_output_peer("tanh"),
        from_output=hyperbolic.tanh_from_output,
    ),
    Activation(
        "hardsigmoid",
        piecewise.hardsigmoid,
        "Hardsigmoid",
        kinks=(-3.0, 3.0),
        exact=True,
        torch=TorchPeer("hardsigmoid", "hardsigmoid", "hardsigmoid_backward"),
    ),
    Activation(
        "hardswish",
        piecewise.hardswish,
        "Hardswish",
        kinks=(-3.0, 3.0),
        exact=True,
        torch=TorchPeer("hardswish", "hardswish", "hardswish_backward", backward_out="out"),
    ),
    Activation("softsign", algebraic.softsign, "Softsign", torch=TorchPeer("softsign")),
    Activation(
        "tanhshrink",
        hyperbolic.tanhshrink,
        "Tanhshrink",
        plot_range=(-5.0, 5.0),
        torch=TorchPeer("tanhshrink"),
    ),
    Activation(
        "softshrink",
        piecewise.softshrink,
        "Softshrink",
        params=piecewise.softshrink_params,
        kinks=lambda lambd=0.5: (-lambd, lambd),
        exact=True,
        plot_range=(-3.0, 3.0),
        extra_test_params=({"lambd": 1.5},),
        torch=_aten("softshrink", "softshrink_backward", {"lambd": 0.5}),
    ),
    Activation(
        "hardshrink",
        piecewise.hardshrink,
        "Hardshrink",
        params=piecewise.hardshrink_params,
        kinks=lambda lambd=0.5: (-lambd, lambd),
        exact=True,
        plot_range=(-3.0, 3.0),
        extra_test_params=({"lambd": 1.5},),
        torch=_aten("hardshrink", "hardshrink_backward", {"lambd": 0.5}),
    ),
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
