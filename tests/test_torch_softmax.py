"""``fastgrad.torch``'s softmax family (``fastgrad._torch_softmax``): PyTorch's values,
gradcheck and gradgradcheck (a second derivative through them is PyTorch's), modules."""

import numpy as np
import pytest

from harness.peers import torch_module

torch = torch_module()
pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

if torch is not None:
    import fastgrad.torch as fgt

NAMES = ("softmax", "log_softmax", "softmin")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dim", (0, 1, -1))
def test_gradcheck_and_gradgradcheck(name, dim):
    x = torch.randn(4, 6, 5, dtype=torch.float64, requires_grad=True)
    fn = getattr(fgt, name)
    assert torch.autograd.gradcheck(lambda t: fn(t, dim), (x,))
    assert torch.autograd.gradgradcheck(lambda t: fn(t, dim), (x,))
    want = getattr(torch.nn.functional, name)(x, dim)
    torch.testing.assert_close(fn(x, dim), want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("dim, keepdim", [(1, False), (0, True), ((0, 2), False)])
def test_logsumexp_gradcheck(dim, keepdim):
    x = torch.randn(4, 6, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: fgt.logsumexp(t, dim, keepdim), (x,))
    assert torch.autograd.gradgradcheck(lambda t: fgt.logsumexp(t, dim, keepdim), (x,))
    want = torch.logsumexp(x, dim, keepdim)
    torch.testing.assert_close(fgt.logsumexp(x, dim, keepdim), want, rtol=1e-14, atol=1e-14)


def test_backward_matches_torch_in_float32_and_modules():
    x = torch.randn(64, 1000)
    g = torch.randn(64, 1000)
    for name, module in (("softmax", "Softmax"), ("log_softmax", "LogSoftmax")):
        a = x.clone().requires_grad_(True)
        b = x.clone().requires_grad_(True)
        getattr(fgt, module)(dim=1)(a).backward(g)
        getattr(torch.nn.functional, name)(b, 1).backward(g)
        torch.testing.assert_close(a.grad, b.grad, rtol=2e-5, atol=1e-6)
    assert isinstance(fgt.Softmin(0), torch.nn.Softmin)
    y = fgt.softmax(x.double(), 1, dtype=torch.float32)
    assert y.dtype == torch.float32
    np.testing.assert_allclose(y.sum(1).numpy(), 1.0, rtol=1e-6)
