"""``fastgrad.torch.<f>_bias``: an autograd function of (h, b) against PyTorch's own
``F.<f>(h + b)`` (first and second derivatives), and gradcheck/gradgradcheck."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import fastgrad.torch as ft  # noqa: E402
from fastgrad._table import TABLE  # noqa: E402


def _torch_composition(activation, params):
    F = torch.nn.functional
    fn = getattr(F, activation.torch_function, None) or getattr(torch, activation.torch_function)
    return lambda h, b: fn(h + b, **params)


@pytest.mark.parametrize("activation", TABLE, ids=lambda a: a.name)
def test_gradients_are_pytorchs_to_the_second_order(activation):
    """y, grad_h, grad_b (and, under create_graph, the gradients of a function of them) as
    PyTorch's composition gives them, float64, away from the kinks."""
    params = dict(activation.default_params)
    ours = getattr(ft, activation.torch_function + "_bias")
    theirs = _torch_composition(activation, params)
    gen = torch.Generator().manual_seed(1)
    h = (torch.rand(16, 40, generator=gen, dtype=torch.float64) * 6 - 3).requires_grad_(True)
    b = torch.rand(40, generator=gen, dtype=torch.float64).requires_grad_(True)
    g = torch.randn(16, 40, generator=gen, dtype=torch.float64)
    results = []
    for fn in (ours, theirs):
        y = fn(h, b, **params) if fn is ours else fn(h, b)
        grad_h, grad_b = torch.autograd.grad(y, (h, b), g, create_graph=True)
        try:
            second = torch.autograd.grad(
                (grad_h**2).sum() + (grad_b**2).sum(), (h, b), allow_unused=True
            )
        except RuntimeError as exc:  # PyTorch's own has none (hardsigmoid_backward's)
            assert fn is theirs and "not implemented" in str(exc), exc
            results = [results[0][:3], [y, grad_h, grad_b]]
            break
        second = [
            torch.zeros_like(t) if s is None else s for s, t in zip(second, (h, b), strict=True)
        ]
        results.append([y, grad_h, grad_b, *second])
    # rtol 1e-7: PyTorch's float64 hardsigmoid rounds to float32 precision (2^-25 off);
    # a wrong or missing derivative is off by far more
    for got, want in zip(*results, strict=True):
        np.testing.assert_allclose(
            got.detach().numpy(), want.detach().numpy(), rtol=1e-7, atol=1e-12
        )


def test_gradcheck_and_gradgradcheck():
    gen = torch.Generator().manual_seed(2)
    h = torch.randn(5, 7, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.randn(7, generator=gen, dtype=torch.float64, requires_grad=True)
    for fn in (ft.gelu_bias, ft.silu_bias, ft.softplus_bias):
        assert torch.autograd.gradcheck(fn, (h, b))
        assert torch.autograd.gradgradcheck(fn, (h, b))


def test_float32_backward_is_fastgrads_epilogue_and_bad_inputs_raise():
    import fastgrad as fg

    gen = torch.Generator().manual_seed(3)
    h = torch.randn(64, 300, generator=gen, requires_grad=True)
    b = torch.randn(300, generator=gen, requires_grad=True)
    y = ft.gelu_bias(h, b, approximate="tanh")
    g = torch.randn_like(y)
    y.backward(g)
    want_h, want_b = fg.gelu_bias_backward(
        g.numpy(), h.detach().numpy(), b.detach().numpy(), approximate="tanh"
    )
    np.testing.assert_array_equal(h.grad.numpy(), want_h)
    np.testing.assert_array_equal(b.grad.numpy(), want_b)
    with pytest.raises(TypeError, match="h must be a torch.Tensor"):
        ft.gelu_bias(np.ones((2, 3)), b[:3])
    with pytest.raises(ValueError, match="b must be 1-D"):
        ft.gelu_bias(h, b[:5])
