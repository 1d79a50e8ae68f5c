"""PyTorch as a peer: the same activation computed by torch, for benchmarks and tests.

fastgrad never depends on torch: ``torch_peer`` returns None when torch is not installed
(callers skip). Everything comes from the table's ``TorchPeer`` entries.
"""


def torch_module():
    try:
        import torch
    except ImportError:
        return None
    return torch


class TorchCalls:
    """An activation in torch: what a user calls (``torch.nn.functional`` and autograd),
    and the ATen kernels those run, as zero-argument callables for the benchmarks."""

    def __init__(self, torch, peer, params):
        self._torch = torch
        self._aten = torch.ops.aten
        self._peer = peer
        self._params = params
        self._functional = getattr(torch.nn.functional, peer.functional)
        self._functional_kwargs = peer.functional_kwargs(**params)

    # ------------------------------------------------------------ what users call

    def functional(self, x):
        """``torch.nn.functional.<name>(x, ...)``."""
        return self._functional(x, **self._functional_kwargs)

    def grad(self, x):
        """dy/dx by autograd through ``functional``."""
        xg = x.detach().clone().requires_grad_(True)
        self.functional(xg).backward(self._torch.ones_like(xg))
        return xg.grad

    # ------------------------------------------------------------ benchmark calls

    @property
    def fused(self):
        """Whether PyTorch has one forward and one backward kernel for it."""
        return self._peer.forward is not None

    def forward_call(self, x, out=None):
        """A callable computing the forward (into ``out``), or None when PyTorch has no
        ``out=`` form of it."""
        if not self.fused:
            return None if out is not None else (lambda: self.functional(x))
        op = getattr(self._aten, self._peer.forward)
        args, kwargs = self._peer.forward_call(x, **self._params)
        if out is None:
            return lambda: op(*args, **kwargs)
        return lambda: op.out(*args, out=out, **kwargs)

    def backward_call(self, g, x, out=None):
        """A callable computing grad_out * dy/dx the way autograd does it after the
        forward (given what the forward saved), into ``out``; None when there is no
        ``out=`` form. Without a fused kernel it is autograd's backward pass over the
        composite graph, built once outside the timing."""
        if not self.fused:
            if out is not None:
                return None
            xg = x.detach().clone().requires_grad_(True)
            y = self.functional(xg)
            autograd = self._torch.autograd.grad
            return lambda: autograd(y, xg, g, retain_graph=True)[0]
        op = getattr(self._aten, self._peer.backward)
        y = self.forward_call(x)()
        args, kwargs = self._peer.backward_call(self._aten, g, x, y, **self._params)
        if out is None:
            return lambda: op(*args, **kwargs)
        if self._peer.backward_out is None:
            return None
        overload = getattr(op, self._peer.backward_out)
        return lambda: overload(*args, **{self._peer.backward_out: out}, **kwargs)


def torch_peer(activation, **params):
    """TorchCalls for the activation, or None (no torch, or no torch equivalent)."""
    torch = torch_module()
    if torch is None or activation.torch is None:
        return None
    return TorchCalls(torch, activation.torch, params)
