"""fastgrad against its peers: every activation in the table (each variant too, and
required parameters at the table's example values) x kind x dtype x n.

Each benchmark group holds the implementations of one piece of work, so a group's table
compares them directly. Kernels compile in the warm-up call, outside the timing.
Implementations:
- numpy: what a NumPy user writes (``numpy_user``: ``fastgrad.reference``, with SciPy's
  ``ndtr`` for gelu's normal CDF; allocates its result);
- fastgrad: the allocating call, ``fg.sigmoid(x)``;
- fastgrad_out: the ``out=`` call into preallocated arrays;
- fastgrad_fast_out: the ``out=`` call at ``accuracy="fast"``: float32, the activations
  with fast math of their own (elsewhere the fast level runs the same kernels);
- fastgrad_1thread: the allocating call limited to one thread, for a like-for-like
  comparison with NumPy, which is single-threaded (at n = 1e3 fastgrad runs on one
  thread anyway, so this is measured from n = 1e5 up);
- torch, torch_out: PyTorch's ATen kernels (``harness.torch_peers``), allocating and
  with ``out=``, on the same number of threads as fastgrad; skipped when torch is not
  installed. backward is torch's backward kernel given what autograd saved (x or y);
  grad is that kernel with grad_out = 1, which is how autograd gets dy/dx; fwd_grad is
  the forward then that. Where PyTorch composes the activation from several ops
  (softsign, tanhshrink), torch is ``torch.nn.functional`` and backward is autograd's
  pass over its graph (built outside the timing); those have no out= form (skipped);
- onnxruntime, onnxruntime_out: ONNX Runtime's CPU kernels (MLAS), forward only: a
  one-node model per activation (``harness.peers.onnx_peer``), run allocating or through
  I/O binding into a preallocated output, on fastgrad's thread count; skipped where
  onnxruntime is not installed or has no operator (or no kernel for the dtype);
- floor (its own group per kind, dtype and n): the memory-bandwidth floor, the same
  data movement without arithmetic (``floors.py``).
"""

import time

import numpy as np
import numpy_user
import pytest
from conftest import DTYPES, SIZES, inputs
from floors import floor_call
from report import IMPLS

import fastgrad as fg
from fastgrad._kinds import FORWARD, KINDS, kinds_of
from fastgrad._table import cases
from fastgrad._threads import PARALLEL_MIN_SIZE
from harness.peers import onnx_peer, torch_module, torch_peer
from harness.torch_peers import TORCH_PEERS

# A call slower than this (seconds, after warm-up) is timed over SLOW_ROUNDS rounds
# instead of pytest-benchmark's minimum of 5 plus calibration: 22 activations x 4 kinds
# x 2 dtypes at 1e7 would otherwise spend most of `make bench` in the slowest references.
SLOW_CALL, SLOW_ROUNDS = 0.2, 3


def fastgrad_call(impl, case, kind, x, g):
    """A zero-argument callable doing the work with fastgrad or the NumPy reference (the
    backward from the output is given fastgrad's forward output, computed here)."""
    module = numpy_user if impl == "numpy" else fg
    fn = getattr(module, case.activation.name + kind.suffix)
    params = case.params
    arrays = {"x": x, "grad_out": g}
    if "y" in kind.inputs:
        arrays["y"] = getattr(fg, case.activation.name)(x, **params)
    args = tuple(arrays[name] for name in kind.inputs)
    if impl == "fastgrad_fast_out":
        if x.dtype != np.float32:
            pytest.skip("the fast level has kernels of its own in float32 only")
        params = {**params, "accuracy": "fast"}
    elif impl != "fastgrad_out":
        return lambda: fn(*args, **params)
    out = tuple(np.empty_like(x) for _ in range(kind.outputs))
    out = out if kind.outputs == 2 else out[0]
    return lambda: fn(*args, out=out, **params)


def torch_call(impl, case, kind, x, g):
    """A zero-argument callable doing the work with PyTorch's kernels (or a skip)."""
    torch = torch_module()
    peer = torch_peer(case.activation, **case.params)
    if torch is None or peer is None:
        pytest.skip("PyTorch is not installed" if torch is None else "no PyTorch equivalent")
    torch.set_num_threads(fg.get_num_threads())
    tx, tg = torch.from_numpy(x), torch.from_numpy(g)
    ones = torch.ones_like(tx)
    y, d = (None, None) if impl == "torch" else (torch.empty_like(tx), torch.empty_like(tx))
    if kind == "forward":
        call = peer.forward_call(tx, y)
    elif kind == "backward_from_output":
        call = peer.backward_from_output_call(tg, tx, d)
    elif kind == "backward" and TORCH_PEERS[case.activation.name].backward_takes_output:
        pytest.skip("PyTorch's backward takes the output: compared under backward_from_output")
    elif kind in ("backward", "grad"):
        call = peer.backward_call(tg if kind == "backward" else ones, tx, d)
    else:
        forward, backward = peer.forward_call(tx, y), peer.backward_call(ones, tx, d)
        call = forward and backward and (lambda: (forward(), backward()))
    if call is None:
        pytest.skip("PyTorch has no out= form of this kernel")
    return call


def onnx_call(impl, case, x):
    """A zero-argument callable doing the forward with ONNX Runtime (or a skip)."""
    peer = onnx_peer(case.activation, x.dtype, fg.get_num_threads(), **case.params)
    if peer is None:
        pytest.skip("no ONNX Runtime (or no ONNX operator for this activation and dtype)")
    return peer.forward_call(x, None if impl == "onnxruntime" else np.empty_like(x))


def _variant(case):
    """The case's variant value (None: the default)."""
    act = case.activation
    return case.params.get(act.variant.param) if act.variant else None


def _measured(case, kind, n, impl):
    """fastgrad on one thread only where it would use more; ONNX Runtime forward only."""
    if impl == "fastgrad_1thread" and n < PARALLEL_MIN_SIZE:
        return False
    if impl == "fastgrad_fast_out" and not case.activation.fast_math(_variant(case)):
        return False
    return kind is FORWARD or not impl.startswith("onnxruntime")


WORK = [
    pytest.param(case, kind, n, impl, id=f"{case.label}-{kind.name}-n={n:.0e}-{impl}")
    for case in cases()
    for kind in kinds_of(case.activation)
    for n in SIZES
    for impl in IMPLS
    if _measured(case, kind, n, impl)
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case, kind_row, n, impl", WORK)
def test_activation(benchmark, case, kind_row, dtype, n, impl):
    x, g = inputs(dtype, n)
    kind = kind_row.name
    if impl.startswith("torch"):
        call = torch_call(impl, case, kind, x, g)
    elif impl.startswith("onnxruntime"):
        call = onnx_call(impl, case, x)
    else:
        call = fastgrad_call(impl, case, kind_row, x, g)
    benchmark.group = f"{case.label} {kind} {np.dtype(dtype).name} n={n:.0e}"
    threads = fg.get_num_threads()
    if impl == "fastgrad_1thread":
        fg.set_num_threads(1)
    try:
        start = time.perf_counter()
        call()  # warm-up: compiles (or loads from the cache) outside the timing
        warm = time.perf_counter() - start
        benchmark.extra_info.update(
            activation=case.label,
            kind=kind,
            dtype=np.dtype(dtype).name,
            n=n,
            impl=impl,
            threads=fg.get_num_threads(),
        )
        if warm > SLOW_CALL:  # the NumPy reference of gelu at 1e7 takes ~3 s per call
            benchmark.pedantic(call, rounds=SLOW_ROUNDS, iterations=1)
        else:
            benchmark(call)
    finally:
        fg.set_num_threads(threads)


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"n={n:.0e}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kind", [kind.name for kind in KINDS])
def test_floor(benchmark, kind, dtype, n):
    x, g = inputs(dtype, n)
    call = floor_call(kind, x, g, fg.get_num_threads())
    benchmark.group = f"floor {kind} {np.dtype(dtype).name} n={n:.0e}"
    call()
    benchmark.extra_info.update(
        activation="floor",
        kind=kind,
        dtype=np.dtype(dtype).name,
        n=n,
        impl="floor",
        threads=fg.get_num_threads(),
    )
    benchmark(call)
