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
    """An activation's forward, backward and autograd derivative in torch, on tensors."""

    def __init__(self, torch, peer, params):
        aten = torch.ops.aten
        self._torch = torch
        self._forward = getattr(aten, peer.forward)
        self._backward = getattr(aten, peer.backward)
        self._forward_args = peer.forward_args(**params)
        self._backward_args = peer.backward_args(**params)
        self._backward_takes_y = peer.backward_input == "y"

    def forward(self, x, out=None):
        if out is None:
            return self._forward(x, *self._forward_args)
        return self._forward.out(x, *self._forward_args, out=out)

    def backward_operand(self, x):
        """What the backward kernel takes besides grad_out: x, or the forward's y."""
        return self.forward(x) if self._backward_takes_y else x

    def backward(self, g, operand, out=None):
        if out is None:
            return self._backward(g, operand, *self._backward_args)
        return self._backward.grad_input(g, operand, *self._backward_args, grad_input=out)

    def grad(self, x):
        """dy/dx by autograd."""
        xg = x.detach().clone().requires_grad_(True)
        self.forward(xg).backward(self._torch.ones_like(xg))
        return xg.grad


def torch_peer(activation, **params):
    """TorchCalls for the activation, or None (no torch, or no torch equivalent)."""
    torch = torch_module()
    if torch is None or activation.torch is None:
        return None
    return TorchCalls(torch, activation.torch, params)
