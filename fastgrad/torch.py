"""fastgrad's kernels as PyTorch operators, with ``torch.nn.functional``'s signatures
(``fastgrad.torch.gelu(t, approximate="tanh")``, ``fastgrad.torch.elu(t, 1.0)``) and
``torch.nn``'s module classes (``fastgrad.torch.GELU(approximate="tanh")``).

Importing this module imports PyTorch (``import fastgrad`` never does). Each activation
is two custom operators (``torch.library.custom_op``), ``torch.ops.fastgrad.<name>`` and
``torch.ops.fastgrad.<name>_backward``, so that ``torch.compile`` (``fullgraph=True``
too), ``torch.func`` (``grad``, ``vmap``, ``jacrev``) and ``torch.library.opcheck`` take
them as they take PyTorch's own:

- forward: fastgrad's ``f(x)`` on the tensor's memory, the result in the input's memory
  format (``channels_last`` and transposed inputs stay so); CPU tensors of float32 or
  float64; float16 as fastgrad computes it (in float32), bfloat16 computed in float32
  and rounded to bfloat16;
- backward: fastgrad's accurate ``f_backward(grad_out, x)`` from the saved input, so the
  gradients keep their digits in the tails where PyTorch's sigmoid and tanh backward
  (from the output) cancel to 0;
- double backward: the backward operator has a gradient of its own (``grad_out`` ->
  ``f'(x)``, ``x`` -> ``grad_out * f''(x)``, the latter from PyTorch's differentiable
  functional by ``torch.func.vjp``), so Hessians, gradient penalties and
  ``gradgradcheck`` are correct, never a silent zero.

Parameters are PyTorch's, defaults included (``softplus``'s ``threshold=20``; None is
fastgrad's "never switch to x"); ``inplace=True`` is refused (autograd needs the input
an in-place forward would overwrite). The keyword-only ``accuracy`` chooses fastgrad's
level (``"accurate"``, ``"fast"``; None: ``fastgrad.get_accuracy()`` when called) for
the forward and the backward alike.

    >>> import torch, fastgrad.torch as fgt
    >>> t = torch.linspace(-3, 3, 5, dtype=torch.float64, requires_grad=True)
    >>> fgt.gelu(t).sum().backward()
    >>> layer = torch.nn.Sequential(torch.nn.Linear(4, 8), fgt.GELU(approximate="tanh"))
"""

import functools
import inspect
import math

import numpy as np
import torch

import fastgrad as _fg

from . import _torch_bias, _torch_layer, _torch_softmax
from ._params import ACCURACY, Params
from ._table import TABLE

# the namespace of the operators: torch.ops.fastgrad.<name>
_NAMESPACE = "fastgrad"
_ACCEPTED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def _check(t, fn):
    if not isinstance(t, torch.Tensor):
        raise TypeError(
            f"fastgrad.torch.{fn}: input must be a torch.Tensor, got {type(t).__name__}"
        )
    if t.device.type != "cpu":
        raise ValueError(f"fastgrad.torch.{fn}: CPU tensors only, got one on {t.device}")
    if t.layout != torch.strided:
        raise TypeError(f"fastgrad.torch.{fn}: dense tensors only, got layout {t.layout}")
    if t.dtype not in _ACCEPTED_DTYPES:
        raise TypeError(
            f"fastgrad.torch.{fn}: float32, float64, float16 or bfloat16 tensors only, "
            f"got {t.dtype}"
        )


def _run(kernel, tensors, keywords):
    """``kernel(*arrays, out=..., **keywords)`` on the tensors' memory, into a new tensor
    with the last tensor's (x's) memory format. bfloat16, which NumPy lacks, is computed
    in float32 and rounded once."""
    x = tensors[-1]
    if x.dtype == torch.bfloat16:
        return _run(kernel, [t.float() for t in tensors], keywords).to(torch.bfloat16)
    out = _empty_like(x)
    kernel(*(t.numpy() for t in tensors), out=out.numpy(), **keywords)
    return out


def _empty_like(x):
    """``torch.empty_like(x)``'s layout (the memory format kept; a meta tensor gives its
    strides without allocating) in memory NumPy allocates: NumPy asks Linux for huge
    pages on large arrays, so the first writes to a 40 MB result fault in 2 MiB pages
    rather than 4 KiB ones (in PyTorch's allocator a 1e7 sigmoid forward + backward took
    1.7x longer)."""
    strides = torch.empty_like(x, device="meta").stride()
    memory = torch.from_numpy(np.empty(x.numel(), _NUMPY_DTYPE[x.dtype]))
    return memory.as_strided(x.shape, strides)


_NUMPY_DTYPE = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64}


# autograd: x -> f(x), and (grad_out, x) -> grad_out * f'(x), each differentiable


def _save_x(ctx, inputs, output):
    ctx.save_for_backward(inputs[0])
    ctx.values = inputs[1:]


def _save_grad_out_and_x(ctx, inputs, output):
    ctx.save_for_backward(inputs[0], inputs[1])
    ctx.values = inputs[2:]


def _autograd(name, ops, impls, second_derivative_term):
    """An activation's autograd: the backward formulas of its operators ``ops`` (forward
    x -> f(x), backward (grad_out, x) -> grad_out * f'(x)), and autograd.Functions
    running the same computations ``impls`` directly. Eager calls apply the Functions
    (no trip through the dispatcher: about 8 us a call less; and torch.func's
    transforms refuse the Functions register_autograd generates, which lack
    setup_context: pytorch/pytorch#168393, #179652); torch.compile calls the operators.
    Plain functions and classes only: torch.compile cannot trace through the bound
    methods of an object it did not see made."""
    forward_op, backward_op = ops

    def forward_grad(ctx, grad):
        (x,) = ctx.saved_tensors
        if torch.compiler.is_compiling():  # the operator (its own autograd below)
            grad_x = backward_op(grad, x, *ctx.values)
        elif torch.is_grad_enabled() or _transformed(grad, x):  # a graph of the gradient
            grad_x = backward_function.apply(grad, x, *ctx.values)
        else:
            grad_x = impls[1](grad, x, *ctx.values)
        return grad_x, *(None for _ in ctx.values)

    def backward_grad(ctx, grad_grad):
        # double backward: eager only (compiled graphs have none: PyTorch refuses it)
        grad_out, x = ctx.saved_tensors
        wants_grad_out, wants_x = ctx.needs_input_grad[:2]
        d_grad_out = d_x = None
        if wants_grad_out:  # d(grad_out * f'(x)) / d(grad_out) = f'(x)
            d_grad_out = backward_function.apply(grad_grad, x, *ctx.values)
        if wants_x:
            d_x = second_derivative_term(x, grad_out, grad_grad, ctx.values)
        return d_grad_out, d_x, *(None for _ in ctx.values)

    def forward_vmap(info, in_dims, x, *values):
        return forward_function.apply(x, *values), in_dims[0]

    def backward_vmap(info, in_dims, grad_out, x, *values):
        return backward_function.apply(*_batch_first(info, in_dims, grad_out, x), *values), 0

    forward_function = _function(f"{name}_function", impls[0], _save_x, forward_grad, forward_vmap)
    backward_function = _function(
        f"{name}_backward_function", impls[1], _save_grad_out_and_x, backward_grad, backward_vmap
    )
    return forward_function, forward_grad, backward_grad


def _function(name, forward, setup_context, backward, vmap):
    # Function.apply binds the arguments to forward's signature on every call; the
    # signature computed once saves inspect's 10 us there
    forward = functools.partial(forward)
    forward.__signature__ = inspect.signature(forward)
    return type(
        name,
        (torch.autograd.Function,),
        {
            "forward": staticmethod(forward),
            "setup_context": staticmethod(setup_context),
            "backward": staticmethod(backward),
            "vmap": staticmethod(vmap),
        },
    )


def _transformed(*tensors):
    """Whether torch.func's transforms (vmap, grad) wrap any of the tensors: their
    calls must go through the autograd.Functions, whose memory is not NumPy's."""
    wrapped = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", None)
    return wrapped is None or any(wrapped(t) for t in tensors)


def _batch_first(info, in_dims, *tensors):
    """vmap of an element-wise function of several tensors: each with the batch
    dimension first, an unbatched one expanded (no copy)."""
    return (
        t.movedim(dim, 0) if dim is not None else t.expand(info.batch_size, *t.shape)
        for t, dim in zip(tensors, in_dims, strict=False)
    )


class _Bridge:
    """One activation's two operators, their autograd and vmap rules and its public
    function and module class."""

    def __init__(self, activation):
        self.activation = activation
        self.name = activation.name
        self.torch_name = activation.torch_function
        self.params = Params(activation)
        # the parameters besides accuracy, in fastgrad's (= PyTorch's) order
        self.param_names = [n for n in self.params.names if n != ACCURACY.name]
        self.names_and_accuracy = (*self.param_names, ACCURACY.name)
        self.forward_kernel = getattr(_fg, self.name)
        self.backward_kernel = getattr(_fg, self.name + "_backward")
        self.forward_op, self.forward = self._operator(
            self.name, "Tensor x", self._forward_impl, self._forward_fake, self._forward_vmap
        )
        self.backward_op, self.backward = self._operator(
            self.name + "_backward",
            "Tensor grad_out, Tensor x",
            self._backward_impl,
            self._backward_fake,
            self._backward_vmap,
        )
        self.forward_function, forward_grad, backward_grad = _autograd(
            self.name,
            (self.forward, self.backward),
            (self._forward_impl, self._backward_impl),
            self._second_derivative_term(),
        )
        self.forward_op.register_autograd(forward_grad, setup_context=_save_x)
        self.backward_op.register_autograd(backward_grad, setup_context=_save_grad_out_and_x)

    def _operator(self, name, tensors, impl, fake, vmap):
        """The custom operator ``torch.ops.fastgrad.<name>`` of ``impl``, and what code
        calls: its OpOverload (torch.compile traces that into its graph, and cannot wrap
        the CustomOpDef)."""
        params = "".join(f", {self._schema_type(n)} {n}" for n in self.param_names)
        op = torch.library.custom_op(
            f"{_NAMESPACE}::{name}",
            impl,
            mutates_args=(),
            device_types="cpu",
            schema=f"({tensors}{params}, str accuracy) -> Tensor",
        )
        op.register_fake(fake)
        op.register_vmap(vmap)
        return op, getattr(getattr(torch.ops, _NAMESPACE), name).default

    def _schema_type(self, name):
        if self.activation.variant is not None and name == self.activation.variant.param:
            return "str"
        default = next(p.default for p in self.params.signature if p.name == name)
        return "float?" if default is None else "float"

    def _keywords(self, values):
        """The operator's trailing arguments (the parameters, then accuracy) as fastgrad's
        keywords (which fastgrad's functions validate)."""
        return dict(zip(self.names_and_accuracy, values, strict=True))

    def _validated(self, values):
        """Validated as fastgrad's functions would (when torch.compile traces a call with
        a bad value, it raises then, not later when the graph runs)."""
        self.params.resolve(self._keywords(values), None, f"fastgrad.torch.{self.torch_name}")

    # the operators, their fake (shape and layout only) forms

    def _forward_impl(self, x, *values):
        return _run(self.forward_kernel, [x], self._keywords(values))

    def _backward_impl(self, grad_out, x, *values):
        return _run(self.backward_kernel, [grad_out, x], self._keywords(values))

    def _forward_fake(self, x, *values):
        self._validated(values)
        return torch.empty_like(x)

    def _backward_fake(self, grad_out, x, *values):
        self._validated(values)
        return torch.empty_like(x)

    def _second_derivative_term(self):
        """``(x, grad_out, grad_grad, values) -> grad_grad * grad_out * f''(x)``, the
        gradient of ``grad_out * f'(x)`` with respect to x: the vjp of the vjp of
        PyTorch's own functional (differentiable again: third derivatives; composable
        with torch.func's transforms). A plain function of constants, as torch.compile
        needs what autograd.Functions call to be."""
        linear_pieces, param_names = self.activation.linear_pieces, tuple(self.param_names)
        functional = getattr(torch.nn.functional, self.torch_name)
        never_switches = self.name == "softplus"  # its threshold None: PyTorch's inf

        def term(x, grad_out, grad_grad, values):
            if linear_pieces:  # f'' = 0 (PyTorch has no double backward for some)
                return torch.zeros_like(x)
            keywords = dict(zip(param_names, values[:-1], strict=True))  # not accuracy
            if never_switches and keywords["threshold"] is None:
                keywords["threshold"] = math.inf

            def first_derivative_times_grad_out(xr):
                _, pullback = torch.func.vjp(lambda t: functional(t, **keywords), xr)
                return pullback(grad_out)[0]

            _, pullback = torch.func.vjp(first_derivative_times_grad_out, x)
            return pullback(grad_grad)[0]

        return term

    # vmap: both operators are element-wise, so a batch dimension is one more dimension

    def _forward_vmap(self, info, in_dims, x, *values):
        return self.forward(x, *values), in_dims[0]

    def _backward_vmap(self, info, in_dims, grad_out, x, *values):
        return self.backward(*_batch_first(info, in_dims, grad_out, x), *values), 0

    # the public function and module class

    def public_function(self):
        """``fastgrad.torch.<torch name>(input, *params, inplace=False, accuracy=None)``:
        plain Python that ``torch.compile`` traces without a graph break."""
        names, defaults = self.param_names, self._torch_defaults()
        fn, function, op = self.torch_name, self.forward_function, self.forward
        impl = self._forward_impl
        takes_inplace = self.activation.torch_inplace

        def call(input, *args, inplace=False, accuracy=None, **kwargs):
            if len(args) > len(names) + takes_inplace:
                raise TypeError(f"{fn}() takes at most {len(names) + 1} positional arguments")
            if len(args) > len(names):  # PyTorch's positional inplace
                inplace, args = args[-1], args[:-1]
            unknown = [k for k in kwargs if k not in names]
            if unknown:
                raise TypeError(f"{fn}() got unexpected keyword argument(s) {unknown}")
            values = []
            for i, name in enumerate(names):
                if i < len(args):
                    if name in kwargs:
                        raise TypeError(f"{fn}() got multiple values for argument '{name}'")
                    values.append(args[i])
                elif name in kwargs:
                    values.append(kwargs[name])
                elif name in defaults:
                    values.append(defaults[name])
                else:
                    raise TypeError(f"{fn}() missing required argument '{name}'")
            if inplace:
                raise ValueError(f"fastgrad.torch.{fn}: inplace=True is not supported")
            _check(input, fn)
            level = _fg.get_accuracy() if accuracy is None else accuracy
            if torch.compiler.is_compiling():
                return op(input, *values, level)
            if (torch.is_grad_enabled() and input.requires_grad) or _transformed(input):
                return function.apply(input, *values, level)
            return impl(input, *values, level)  # nothing to differentiate: no autograd

        parameters = [inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        parameters += [
            inspect.Parameter(
                n,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=defaults.get(n, inspect.Parameter.empty),
            )
            for n in names
        ]
        if takes_inplace:
            parameters.append(
                inspect.Parameter("inplace", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)
            )
        call.__signature__ = inspect.Signature([*parameters, ACCURACY])
        call.__name__ = call.__qualname__ = fn
        call.__module__ = __name__
        call.__doc__ = (
            f"{self.activation.title} as ``torch.nn.functional.{fn}`` computes it, on "
            f"fastgrad's kernels (``torch.ops.fastgrad.{self.name}``), with autograd "
            f"(backward: ``fastgrad.{self.name}_backward``).\n\n" + self.forward_kernel.__doc__
        )
        return call

    def _torch_defaults(self):
        defaults = {p.name: p.default for p in self.params.signature if p.default is not p.empty}
        defaults.update(self.activation.torch_defaults)
        defaults.pop(ACCURACY.name)
        return defaults

    def module_class(self, function):
        """``torch.nn``'s class of this activation (``GELU``, ``LogSigmoid``) with its
        arguments and attributes, computing with ``function``; ``accuracy=`` keyword-only."""
        base = _torch_module_class(self.activation)
        names, torch_name = self.param_names, self.torch_name

        def init(self, *args, accuracy=None, **kwargs):
            base.__init__(self, *args, **kwargs)
            if getattr(self, "inplace", False):
                raise ValueError(f"fastgrad.torch.{base.__name__}: inplace=True is not supported")
            if accuracy is not None:
                _fg._accuracy.checked(accuracy, f"fastgrad.torch.{base.__name__}")
            self.accuracy = accuracy

        def forward(self, input):
            return function(input, *(getattr(self, n) for n in names), accuracy=self.accuracy)

        def extra_repr(self):
            given = base.extra_repr(self)
            level = "" if self.accuracy is None else f"accuracy={self.accuracy!r}"
            return ", ".join(s for s in (given, level) if s)

        return type(
            base.__name__,
            (base,),
            {
                "__init__": init,
                "forward": forward,
                "extra_repr": extra_repr,
                "__module__": __name__,
                "__doc__": f"``torch.nn.{base.__name__}`` on fastgrad's kernels "
                f"(``fastgrad.torch.{torch_name}``); ``accuracy=`` keyword-only.",
            },
        )


def _torch_module_class(activation):
    """torch.nn's module class of an activation: its name is the functional's, in other
    letter case (``logsigmoid`` -> ``LogSigmoid``, ``leaky_relu`` -> ``LeakyReLU``)."""
    key = activation.torch_function.replace("_", "")
    (name,) = (n for n in torch.nn.modules.activation.__all__ if n.lower() == key)
    return getattr(torch.nn, name)


_BRIDGES = [_Bridge(activation) for activation in TABLE]
_FUNCTIONS = {bridge.torch_name: bridge.public_function() for bridge in _BRIDGES}
_MODULES = {}
for _bridge in _BRIDGES:
    _class = _bridge.module_class(_FUNCTIONS[_bridge.torch_name])
    _MODULES[_class.__name__] = _class
# the gated activations, PReLU and RReLU (``_torch_layer``): autograd functions of their own
_FUNCTIONS.update(_torch_layer.FUNCTIONS)
_MODULES.update(_torch_layer.MODULES)
# softmax, log_softmax, softmin, logsumexp (``_torch_softmax``): reductions along a dim
_FUNCTIONS.update(_torch_softmax.FUNCTIONS)
_MODULES.update(_torch_softmax.MODULES)
# the dense layer's epilogue, f(h + b) as one autograd function of (h, b) (``_torch_bias``)
_FUNCTIONS.update(_torch_bias.bias_functions(TABLE, _FUNCTIONS))
globals().update(_FUNCTIONS)
globals().update(_MODULES)
__all__ = sorted(_FUNCTIONS) + sorted(_MODULES)
