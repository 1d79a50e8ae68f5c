"""fastgrad.torch: autograd functions with torch.nn.functional's signatures, on
fastgrad's kernels: forward equal to fastgrad's, gradients pass torch.autograd.gradcheck."""

import inspect

import numpy as np
import pytest

import fastgrad as fg
from harness.peers import torch_module

from .conftest import cases

torch = torch_module()
pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def _points(act, params):
    """Points for gradcheck, away from the kinks (finite differences straddle them)."""
    x = np.linspace(-4.1, 4.3, 23)
    kinks = np.array(act.kinks_at(params) or [np.inf])
    return x[np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) > 1e-3]


def _torch_function(act):
    import fastgrad.torch as fgt

    return getattr(fgt, {"log_sigmoid": "logsigmoid"}.get(act.name, act.name))


@pytest.mark.parametrize("act, params", cases())
def test_forward_is_fastgrads_and_gradients_pass_gradcheck(act, params):
    fn = _torch_function(act)
    if act.name == "softplus" and "threshold" not in params:
        params = {**params, "threshold": None}  # fastgrad's default; PyTorch's is 20
    x = torch.tensor(_points(act, params), dtype=torch.float64, requires_grad=True)
    np.testing.assert_array_equal(
        fn(x, **params).detach().numpy(), getattr(fg, act.name)(x.detach().numpy(), **params)
    )
    assert torch.autograd.gradcheck(lambda t: fn(t, **params), (x,))
    x32 = x.detach().float().requires_grad_(True)
    fn(x32, **params).sum().backward()
    np.testing.assert_array_equal(
        x32.grad.numpy(), getattr(fg, act.name + "_grad")(x32.detach().numpy(), **params)
    )


def test_pytorch_signatures_defaults_and_refusals():
    import fastgrad.torch as fgt

    t = torch.linspace(-30, 30, 7, dtype=torch.float64)
    # softplus keeps PyTorch's threshold=20 default: the identity beyond it
    np.testing.assert_array_equal(fgt.softplus(t).numpy(), fg.softplus(t.numpy(), threshold=20))
    assert fgt.softplus(t)[-1].item() == 30.0
    assert fgt.elu(t, 0.5).numpy().tolist() == fgt.elu(t, alpha=0.5).numpy().tolist()
    assert fgt.gelu(t, approximate="tanh").shape == t.shape
    assert fgt.logsigmoid(t).dtype == torch.float64
    with pytest.raises(ValueError, match="inplace"):
        fgt.relu(t, inplace=True)
    with pytest.raises(TypeError, match="float32, float64, float16 or bfloat16"):
        fgt.relu(torch.ones(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        fgt.relu(np.ones(3))
    with pytest.raises(TypeError, match="dense tensors only, got layout torch.sparse_coo"):
        fgt.relu(t.to_sparse())
    with pytest.raises(TypeError):
        fgt.threshold(t)  # threshold and value are required, as in PyTorch
    # strided tensors and a 0-d one
    assert torch.equal(fgt.tanh(t[::2]), torch.from_numpy(fg.tanh(t[::2].numpy())))
    assert fgt.sigmoid(torch.tensor(0.0)).item() == 0.5


def test_left_tail_gradient_keeps_its_digits():
    """The issue's example: PyTorch's sigmoid backward (from the output) is 0 where y
    rounds to 1; fastgrad.torch's (from x) is the true value."""
    import fastgrad.torch as fgt

    x = torch.tensor([20.0, 40.0], dtype=torch.float64, requires_grad=True)
    fgt.sigmoid(x).sum().backward()
    assert x.grad[1].item() == pytest.approx(4.248354255291589e-18, rel=1e-14)
    xt = x.detach().clone().requires_grad_(True)
    torch.sigmoid(xt).sum().backward()
    assert xt.grad[1].item() == 0.0


@pytest.mark.parametrize("act, params", cases())
def test_second_derivatives_pass_gradgradcheck(act, params):
    """Double backward (create_graph=True) is differentiable, not a silent zero: checked
    against finite differences of the first gradient."""
    fn = _torch_function(act)
    x = torch.tensor(_points(act, params), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda t: fn(t, **params), (x,))


def test_hessian_and_gradient_penalty_are_pytorchs():
    """The issue's repros: the Hessian of gelu's sum, and a WGAN-GP style gradient
    penalty's gradient with respect to the weights, equal PyTorch's own."""
    functional = torch.nn.functional

    import fastgrad.torch as fgt

    x = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(lambda t: fgt.gelu(t).sum(), x)
    want = torch.autograd.functional.hessian(lambda t: functional.gelu(t).sum(), x)
    torch.testing.assert_close(hessian, want, rtol=1e-12, atol=0)
    assert hessian.diagonal().abs().min() > 0.1  # [0.2420, 0.6161, -0.1080]

    def penalty_grads(act):
        gen = torch.Generator().manual_seed(0)
        w1 = torch.randn(4, 8, dtype=torch.float64, generator=gen, requires_grad=True)
        w2 = torch.randn(8, 1, dtype=torch.float64, generator=gen, requires_grad=True)
        inp = torch.randn(16, 4, dtype=torch.float64, generator=gen, requires_grad=True)
        out = act(inp @ w1) @ w2
        (g,) = torch.autograd.grad(out.sum(), inp, create_graph=True)
        assert g.grad_fn is not None
        ((g.norm(dim=1) - 1) ** 2).mean().backward()
        return w1.grad, w2.grad

    for ours, theirs in zip(penalty_grads(fgt.gelu), penalty_grads(functional.gelu), strict=True):
        assert ours is not None
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)


# torch.compile's tracer instantiates autograd.Function to trace any of them, and
# PyTorch's own DeprecationWarning against that fires inside it
# (torch/_dynamo/side_effects.py track_object_new): not fastgrad's to mend
_DYNAMO_MAKES_A_FUNCTION = pytest.mark.filterwarnings(
    "ignore:<class 'torch.autograd.function.Function'> should not be instantiated"
)


def _operator_arguments(act, params):
    """The operator's trailing arguments for a parameter set: every parameter in order
    (PyTorch's defaults where not given), then the accuracy level."""
    import fastgrad.torch as fgt

    signature = inspect.signature(getattr(fgt, act.torch_function))
    bound = signature.bind(torch.empty(0), **params)
    bound.apply_defaults()
    values = dict(bound.arguments)
    for name in ("input", "inplace", "accuracy"):
        values.pop(name, None)
    return (*values.values(), "accurate")


@pytest.mark.parametrize("act, params", cases())
def test_operators_pass_opcheck(act, params):
    """torch.library.opcheck: schema, autograd registration, fake tensors, and
    AOTAutograd's dynamic-shape dispatch, for the forward and the backward operator."""
    import fastgrad.torch  # noqa: F401  (registers torch.ops.fastgrad)

    args = _operator_arguments(act, params)
    x = torch.tensor(_points(act, params), dtype=torch.float32).reshape(1, -1)
    ops = torch.ops.fastgrad
    torch.library.opcheck(getattr(ops, act.name), (x, *args))
    torch.library.opcheck(getattr(ops, act.name + "_backward"), (torch.ones_like(x), x, *args))


@_DYNAMO_MAKES_A_FUNCTION
def test_torch_compile_fullgraph_takes_the_operators_without_a_graph_break():
    """A model of fastgrad.torch modules and functions under torch.compile(fullgraph=True)
    (a graph break would raise): forward and gradients bit for bit the eager ones."""
    import fastgrad.torch as fgt

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 16),
        fgt.GELU(approximate="tanh"),
        torch.nn.Linear(16, 16),
        fgt.Softplus(beta=2.0),
        torch.nn.Linear(16, 1),
    )

    def loss(module, x):
        return fgt.silu(module(x)).sum()

    x = torch.randn(32, 6)
    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")(model, x)
    compiled_grads = torch.autograd.grad(compiled, list(model.parameters()))
    eager = loss(model, x)
    eager_grads = torch.autograd.grad(eager, list(model.parameters()))
    assert torch.equal(compiled, eager)
    for got, want in zip(compiled_grads, eager_grads, strict=True):
        assert torch.equal(got, want)


@_DYNAMO_MAKES_A_FUNCTION
def test_double_backward_under_torch_compile_is_refused_not_wrong():
    import fastgrad.torch as fgt

    compiled = torch.compile(lambda t: fgt.gelu(t).sum(), fullgraph=True, backend="aot_eager")
    x = torch.randn(5, requires_grad=True)
    (g,) = torch.autograd.grad(compiled(x), x, create_graph=True)
    with pytest.raises(RuntimeError, match="double backward"):
        g.sum().backward()


def test_torch_func_transforms_match_autograd():
    """torch.func.grad (and grad of grad), vmap and jacrev through fastgrad.torch equal
    PyTorch's own functional under the same transforms."""
    import fastgrad.torch as fgt

    functional = torch.nn.functional
    x = torch.linspace(-3, 3, 11, dtype=torch.float64)
    for ours, theirs in ((fgt.gelu, functional.gelu), (fgt.tanh, torch.tanh)):
        grad = torch.func.grad(lambda t, f=ours: f(t).sum())(x)
        want = torch.func.grad(lambda t, f=theirs: f(t).sum())(x)
        torch.testing.assert_close(grad, want, rtol=1e-14, atol=1e-15)
        second = torch.func.grad(torch.func.grad(lambda s, f=ours: f(s)))
        want2 = torch.func.grad(torch.func.grad(lambda s, f=theirs: f(s)))
        for point in x:
            torch.testing.assert_close(second(point), want2(point), rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(
            torch.func.jacrev(ours)(x), torch.func.jacrev(theirs)(x), rtol=1e-14, atol=1e-15
        )
        batch = x.reshape(1, -1).repeat(3, 1) * torch.tensor([[1.0], [0.5], [-2.0]])
        assert torch.equal(torch.func.vmap(ours)(batch), ours(batch))
        torch.testing.assert_close(
            torch.func.vmap(torch.func.grad(lambda t, f=ours: f(t).sum()))(batch),
            torch.func.vmap(torch.func.grad(lambda t, f=theirs: f(t).sum()))(batch),
            rtol=1e-14,
            atol=1e-15,
        )


def test_module_classes_have_torch_nn_names_arguments_and_state():
    """One class per activation with torch.nn's name and arguments (its subclass: the
    same attributes, repr and isinstance), computing with fastgrad.torch."""
    import fastgrad.torch as fgt
    from fastgrad._table import TABLE

    x = torch.linspace(-5, 5, 41, dtype=torch.float64)
    from fastgrad._torch_layer import MODULES  # GLU, PReLU, RReLU: tests/test_torch_layer.py
    from fastgrad._torch_softmax import MODULES as SOFTMAX_MODULES  # test_torch_softmax.py

    modules = [n for n in fgt.__all__ if n[0].isupper()]
    assert len(modules) == len(TABLE) + len(MODULES) + len(SOFTMAX_MODULES)
    for act in TABLE:
        params = dict(act.default_params)
        function = getattr(fgt, act.torch_function)
        (cls,) = (
            getattr(fgt, n)
            for n in fgt.__all__
            if n[0].isupper() and n.lower() == act.torch_function.replace("_", "")
        )
        base = getattr(torch.nn, cls.__name__)
        assert issubclass(cls, base) and cls.__module__ == "fastgrad.torch"
        module = cls(**params)
        assert repr(module) == repr(base(**params))
        assert torch.equal(module(x), function(x, **params))
    assert torch.equal(fgt.ELU(0.5)(x), fgt.elu(x, alpha=0.5))
    assert torch.equal(fgt.Threshold(1.0, -2.0)(x), fgt.threshold(x, 1.0, -2.0))
    fast = fgt.SiLU(accuracy="fast")
    assert repr(fast) == "SiLU(accuracy='fast')"
    assert torch.equal(fast(x.float()), fgt.silu(x.float(), accuracy="fast"))
    with pytest.raises(ValueError, match="inplace"):
        fgt.ReLU(inplace=True)
    with pytest.raises(ValueError, match="accuracy"):
        fgt.GELU(accuracy="fastest")
    # the torch.nn class's state moves over (a model built with torch.nn, then swapped)
    swapped = fgt.Hardtanh(-2.0, 2.0)
    swapped.load_state_dict(torch.nn.Hardtanh(-2.0, 2.0).state_dict())
    assert swapped.min_val == -2.0


def test_half_precision_tensors_are_computed_in_float32():
    """float16 as fastgrad computes it (in float32, rounded once); bfloat16 (NumPy has
    none) the float32 result rounded to bfloat16; gradients likewise."""
    import fastgrad.torch as fgt

    x32 = torch.linspace(-6, 6, 97, dtype=torch.float32)
    x16 = x32.half()
    assert fgt.gelu(x16).dtype == torch.float16
    assert torch.equal(fgt.gelu(x16), torch.from_numpy(fg.gelu(x16.numpy())))
    xb = x32.bfloat16()
    want = torch.from_numpy(fg.gelu(xb.float().numpy(), accuracy="fast")).bfloat16()
    assert torch.equal(fgt.gelu(xb, accuracy="fast"), want)
    xb.requires_grad_(True)
    fgt.sigmoid(xb).sum().backward()
    assert xb.grad.dtype == torch.bfloat16
    want = torch.from_numpy(fg.sigmoid_grad(xb.detach().float().numpy())).bfloat16()
    assert torch.equal(xb.grad, want)


def test_the_input_memory_format_is_kept():
    """channels_last and transposed inputs give outputs (and gradients) laid out as
    they are: no copy to contiguous memory and back."""
    import fastgrad.torch as fgt

    x = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last).requires_grad_(True)
    y = fgt.gelu(x)
    assert y.stride() == x.stride()
    assert torch.equal(y, torch.from_numpy(fg.gelu(x.detach().numpy())))
    y.backward(torch.ones_like(y))
    assert x.grad.stride() == x.stride()
    t = torch.randn(8, 6).t()
    assert fgt.tanh(t).stride() == t.stride()
