"""Peers: the same activation computed by PyTorch or ONNX Runtime, for benchmarks and tests.

fastgrad never depends on either: ``torch_peer`` and ``onnx_peer`` return None when the
library is not installed (callers skip). PyTorch's calls come from the table row
(``torch_function``) and the ``torch_peers.TORCH_PEERS`` entries; ONNX Runtime's
operators from ``_ONNX_NODES`` below.
"""

import numpy as np

from .torch_peers import TORCH_PEERS


def torch_module():
    try:
        import torch
    except ImportError:
        return None
    return torch


class TorchCalls:
    """An activation in torch: what a user calls (``torch.nn.functional`` and autograd),
    and the ATen kernels those run, as zero-argument callables for the benchmarks."""

    def __init__(self, torch, activation, peer, params):
        self._torch = torch
        self._aten = torch.ops.aten
        self._peer = peer
        self._params = params
        self._functional = getattr(torch.nn.functional, activation.torch_function)
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
        y = self.forward_call(x)()
        args, kwargs = self._peer.backward_call(self._aten, g, x, y, **self._params)
        return self._backward_kernel(args, kwargs, out)

    def backward_from_output_call(self, g, x, out=None):
        """A callable computing grad_out * dy/dx from the forward's output (computed here,
        outside the timing), PyTorch's kernel for it, into ``out``; None when the
        activation has none."""
        if self._peer.from_output_call is None:
            return None
        args, kwargs = self._peer.from_output_call(g, self.forward_call(x)())
        return self._backward_kernel(args, kwargs, out)

    def _backward_kernel(self, args, kwargs, out):
        """The backward ATen kernel called with (args, kwargs), into ``out`` by its out=
        overload (None when it has none)."""
        op = getattr(self._aten, self._peer.backward)
        if out is None:
            return lambda: op(*args, **kwargs)
        if self._peer.backward_out is None:
            return None
        overload = getattr(op, self._peer.backward_out)
        return lambda: overload(*args, **{self._peer.backward_out: out}, **kwargs)


def torch_peer(activation, **params):
    """TorchCalls for the activation, or None (no torch, or no torch equivalent)."""
    torch = torch_module()
    spec = TORCH_PEERS.get(activation.name)
    if torch is None or spec is None:
        return None
    return TorchCalls(torch, activation, spec, params)


# ---------------------------------------------------------------- ONNX Runtime

# ONNX Runtime as a forward peer: activation name -> (keyword parameters -> (ONNX operator,
# its attributes, extra scalar inputs), or None where the parameters have no ONNX
# spelling). Activations missing here have no single ONNX operator.
_ONNX_NODES = {
    "relu": lambda: ("Relu", {}, ()),
    "relu6": lambda: ("Clip", {}, (0.0, 6.0)),
    "hardtanh": lambda min_val=-1.0, max_val=1.0: ("Clip", {}, (min_val, max_val)),
    "leaky_relu": lambda negative_slope=0.01: ("LeakyRelu", {"alpha": negative_slope}, ()),
    "elu": lambda alpha=1.0: ("Elu", {"alpha": alpha}, ()),
    "selu": lambda: ("Selu", {}, ()),
    "celu": lambda alpha=1.0: ("Celu", {"alpha": alpha}, ()),
    "gelu": lambda approximate="none": ("Gelu", {"approximate": approximate}, ()),
    "silu": lambda: ("Swish", {}, ()),
    "mish": lambda: ("Mish", {}, ()),
    # ONNX's Softplus has no beta and never switches to x: fastgrad's defaults
    "softplus": lambda beta=1.0, threshold=None: (
        ("Softplus", {}, ()) if beta == 1.0 and threshold is None else None
    ),
    "sigmoid": lambda: ("Sigmoid", {}, ()),
    "tanh": lambda: ("Tanh", {}, ()),
    "hardsigmoid": lambda: ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, ()),
    "hardswish": lambda: ("HardSwish", {}, ()),
    "softsign": lambda: ("Softsign", {}, ()),
    "softshrink": lambda lambd=0.5: ("Shrink", {"bias": lambd, "lambd": lambd}, ()),
    "hardshrink": lambda lambd=0.5: ("Shrink", {"bias": 0.0, "lambd": lambd}, ()),
}
# The opset the models declare (Swish, the newest operator used, is from opset 24); each
# operator resolves to its newest version up to it.
_ONNX_OPSET = 24


class OnnxCalls:
    """An activation's forward in ONNX Runtime: a one-node model on the CPU provider, run
    allocating or through I/O binding into a preallocated output."""

    def __init__(self, session, dtype):
        self._session = session
        self._dtype = dtype

    def forward_call(self, x, out=None):
        session = self._session
        if out is None:
            return lambda: session.run(None, {"x": x})[0]
        binding = session.io_binding()
        binding.bind_cpu_input("x", x)
        binding.bind_output("y", "cpu", 0, self._dtype, out.shape, out.ctypes.data)

        def run(arrays=(x, out)):
            # the binding holds the arrays' addresses only: the default keeps them alive
            session.run_with_iobinding(binding)
            return arrays[1]

        return run


def onnx_peer(activation, dtype, threads, **params):
    """OnnxCalls for the activation in ``dtype`` on ``threads`` intra-op threads, or None
    (onnxruntime or onnx not installed, no ONNX operator, or none for this dtype)."""
    try:
        import onnx
        import onnxruntime
    except ImportError:
        return None
    node = _ONNX_NODES.get(activation.name)
    spelled = node and node(**params)
    if not spelled:
        return None
    op, attributes, constants = spelled
    helper = onnx.helper
    element = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    names = [f"c{i}" for i in range(len(constants))]
    graph = helper.make_graph(
        [helper.make_node(op, ["x", *names], ["y"], **attributes)],
        activation.name,
        [helper.make_tensor_value_info("x", element, ["n"])],
        [helper.make_tensor_value_info("y", element, ["n"])],
        [helper.make_tensor(n, element, [], [c]) for n, c in zip(names, constants, strict=True)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _ONNX_OPSET)])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    try:
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ONNX Runtime's own error types: no kernel for this dtype
        if "NOT_IMPLEMENTED" in str(exc) or "INVALID_GRAPH" in str(exc):
            return None
        raise
    return OnnxCalls(session, np.dtype(dtype))
