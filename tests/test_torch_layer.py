"""``fastgrad.torch``'s gated activations, PReLU and RReLU (``fastgrad._torch_layer``):
gradcheck and gradgradcheck for every function and form, PyTorch's values, modules."""

import numpy as np
import pytest

from harness.peers import torch_module

torch = torch_module()
pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

if torch is not None:
    import torch.nn.functional as F  # noqa: N812 (PyTorch's spelling)

    import fastgrad.torch as fgt
    from fastgrad._gated import GATED


def _gated_cases():
    """(name, call(tensors), PyTorch's composition, input shapes) per gated form."""
    cases = []
    for row in GATED if torch is not None else ():
        variants = list(row.base.maths()) if row.variant else [None]
        for value in variants:
            kw = {} if value is None else {"approximate": value}
            label = row.name + ("" if value in (None, "none") else f"-{value}")
            act = getattr(F, row.activation)
            if row.name == "glu":
                for dim in (0, 1, -1):
                    cases.append(
                        pytest.param(
                            lambda x, d=dim: fgt.glu(x, d),
                            lambda x, d=dim: F.glu(x, d),
                            [(4, 6, 8)],
                            id=f"glu-dim{dim}",
                        )
                    )
                continue
            fn, packed = getattr(fgt, row.name), getattr(fgt, row.name + "_packed")
            cases.append(
                pytest.param(
                    lambda a, b, fn=fn, kw=kw: fn(a, b, **kw),
                    lambda a, b, act=act, kw=kw: act(a, **kw) * b,
                    [(5, 6), (5, 6)],
                    id=label,
                )
            )
            for dim in (0, -1):
                cases.append(
                    pytest.param(
                        lambda x, fn=packed, kw=kw, d=dim: fn(x, d, **kw),
                        lambda x, act=act, kw=kw, d=dim: (
                            act(torch.chunk(x, 2, d)[0], **kw) * torch.chunk(x, 2, d)[1]
                        ),
                        [(6, 8)],
                        id=f"{label}-packed-dim{dim}",
                    )
                )
    return cases


def _inputs(shapes, dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(s, dtype=dtype, generator=generator).requires_grad_(True) for s in shapes]


@pytest.mark.parametrize("ours, theirs, shapes", _gated_cases())
def test_gated_gradcheck_gradgradcheck_and_torchs_values(ours, theirs, shapes):
    inputs = _inputs(shapes, torch.float64)
    assert torch.autograd.gradcheck(ours, inputs)
    assert torch.autograd.gradgradcheck(ours, inputs)
    inputs32 = _inputs(shapes, torch.float32)
    got, want = ours(*inputs32), theirs(*inputs32)
    torch.testing.assert_close(got, want, rtol=4e-6, atol=1e-7)
    g = torch.randn_like(got)
    grads = torch.autograd.grad(got, inputs32, g)
    wants = torch.autograd.grad(want, inputs32, g)
    for a, b in zip(grads, wants, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("weight_size", [1, 6])
def test_prelu_gradcheck_and_module(weight_size):
    x = _inputs([(4, 6, 5)], torch.float64)[0]
    w = torch.rand(weight_size, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fgt.prelu, (x, w))
    assert torch.autograd.gradgradcheck(fgt.prelu, (x, w))
    module, reference = fgt.PReLU(weight_size), torch.nn.PReLU(weight_size)
    assert isinstance(module, torch.nn.PReLU)
    module.load_state_dict(reference.state_dict())
    x32 = x.detach().float().requires_grad_(True)
    y, want = module(x32), reference(x32)
    assert torch.equal(y, want)
    y.sum().backward()
    got = module.weight.grad.clone()
    want.sum().backward()
    torch.testing.assert_close(got, reference.weight.grad, rtol=1e-5, atol=1e-6)


def test_rrelu_gradcheck_modes_and_seeding():
    x = _inputs([(4, 6, 5)], torch.float64)[0]
    for training in (False, True):
        call = lambda t, training=training: fgt.rrelu(  # noqa: E731
            t, training=training, generator=torch.Generator().manual_seed(1)
        )
        assert torch.autograd.gradcheck(call, (x,))
        assert torch.autograd.gradgradcheck(call, (x,))
    x32 = x.detach().float()
    assert torch.equal(fgt.rrelu(x32), F.rrelu(x32, training=False))
    torch.manual_seed(5)
    a = fgt.rrelu(x32, training=True)
    torch.manual_seed(5)
    b = fgt.rrelu(x32, training=True)
    assert torch.equal(a, b)
    slopes = a[x32 <= 0] / x32[x32 <= 0]
    assert ((slopes >= 1 / 8 - 1e-6) & (slopes <= 1 / 3 + 1e-6)).all()
    module = fgt.RReLU()
    assert torch.equal(module.eval()(x32), F.rrelu(x32, training=False))
    with pytest.raises(ValueError, match="inplace"):
        fgt.rrelu(x32, inplace=True)


def test_glu_module_and_dtypes():
    for name, module in fgt._torch_layer.MODULES.items():
        assert issubclass(module, getattr(torch.nn, name)) and module.__module__ == "fastgrad.torch"
    x = torch.randn(4, 8)
    assert torch.equal(fgt.GLU()(x), fgt.glu(x))
    torch.testing.assert_close(fgt.GLU(0)(x), F.glu(x, 0))
    for dtype in (torch.float16, torch.bfloat16):
        a, b = torch.randn(3, 4).to(dtype), torch.randn(3, 4).to(dtype)
        y = fgt.swiglu(a, b)
        assert y.dtype == dtype
        torch.testing.assert_close(y.float(), (F.silu(a.float()) * b.float()), rtol=1e-2, atol=1e-2)
    with pytest.raises(TypeError, match="torch.Tensor"):
        fgt.swiglu(np.ones(3), torch.ones(3))
    with pytest.raises(TypeError, match="float32, float64"):
        fgt.swiglu(torch.ones(3, dtype=torch.int64), torch.ones(3, dtype=torch.int64))


def test_a_second_derivative_through_a_gradient_penalty_is_torchs():
    """A gradient penalty differentiates the backward: with fastgrad's functions the
    penalty's gradient is what PyTorch's composition gives, not a silent zero."""
    a, b = _inputs([(5, 6), (5, 6)], torch.float64)
    results = []
    for f in (fgt.swiglu, lambda a, b: F.silu(a) * b):
        (grad_a,) = torch.autograd.grad(f(a, b).sum(), a, create_graph=True)
        penalty = (grad_a**2).sum()
        results.append(torch.autograd.grad(penalty, (a, b)))
    for ours, theirs in zip(*results, strict=True):
        torch.testing.assert_close(ours, theirs)
        assert ours.abs().sum() > 0
