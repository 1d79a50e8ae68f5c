"""fastgrad.torch: autograd functions with torch.nn.functional's signatures, on
fastgrad's kernels: forward equal to fastgrad's, gradients pass torch.autograd.gradcheck."""

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
    with pytest.raises(TypeError, match="float32 or float64"):
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
