"""A transformer's feed-forward block, LLaMA's: ``y = (silu(x W1) * (x W3)) W2``, one SGD
step (forward, backward, update) on a fixed batch of tokens, float32.

The two input projections are one matmul with ``W13 = [W1 | W3]``; its output ``h``
(tokens x 2F) is gated by SwiGLU. Implementations of the step:

- ``fastgrad``: NumPy's matmuls (BLAS at its default threads), ``fg.swiglu_packed`` on
  ``h`` into a buffer, and ``fg.swiglu_packed_backward`` written over ``h`` itself (the
  gradient of that matmul's output): no other array of h's size;
- ``numpy``: NumPy's matmuls and the SwiGLU formulas a NumPy user writes (the halves,
  ``a / (1 + exp(-a))``, the product rule);
- ``torch``: the whole step in PyTorch eager (its matmuls, ``F.silu(a) * b``, autograd),
  on ``torch.get_num_threads()`` threads.

Shapes (``SHAPES``): tokens x FFN width 256 x 1024 (model width 384) and 4096 x 2816
(model width 1024, LLaMA's rule F = 8d/3 rounded up to a multiple of 256).
``python bench/ffn.py`` prints step-time medians; ``bench/test_ffn.py`` times them with
pytest-benchmark.
"""

import argparse
import math
import os
import time

import numpy as np
from mlp import cpu_model

import fastgrad as fg

# name -> (tokens, model width d, FFN width F)
SHAPES = {"256x1024": (256, 384, 1024), "4096x2816": (4096, 1024, 2816)}
IMPLS = ("fastgrad", "numpy", "torch")
LEARNING_RATE = 0.01
PAUSE = 0.5  # seconds between two implementations' rounds


def _weights(shape, seed):
    tokens, d, ffn = SHAPES[shape]
    rng = np.random.default_rng(seed)
    f32 = np.float32
    x = rng.standard_normal((tokens, d)).astype(f32)
    target = rng.standard_normal((tokens, d)).astype(f32)
    w13 = (rng.standard_normal((d, 2 * ffn)) / math.sqrt(d)).astype(f32)
    w2 = (rng.standard_normal((ffn, d)) / math.sqrt(ffn)).astype(f32)
    return x, target, w13, w2


class NumpyFFN:
    """The step with NumPy's matmuls; SwiGLU by fastgrad (``gated=True``) or by NumPy
    formulas."""

    def __init__(self, shape, fastgrad, seed=0):
        self.x, self.target, self.w13, self.w2 = _weights(shape, seed)
        tokens, _, ffn = SHAPES[shape]
        self.ffn, self.fastgrad = ffn, fastgrad
        self.h = np.empty((tokens, 2 * ffn), np.float32)
        self.y = np.empty((tokens, ffn), np.float32)

    def _swiglu(self, h):
        if self.fastgrad:
            return fg.swiglu_packed(h, out=self.y)
        a, b = h[:, : self.ffn], h[:, self.ffn :]
        return a / (1 + np.exp(-a)) * b

    def _swiglu_backward(self, dy, h):
        if self.fastgrad:
            return fg.swiglu_packed_backward(dy, h, out=h)  # over h: no second buffer
        a, b = h[:, : self.ffn], h[:, self.ffn :]
        s = 1 / (1 + np.exp(-a))
        silu = a * s
        return np.concatenate([dy * b * (s * (1 + a * (1 - s))), dy * silu], axis=1)

    def step(self):
        np.matmul(self.x, self.w13, out=self.h)
        y = self._swiglu(self.h)
        out = y @ self.w2
        diff = out - self.target
        loss = 0.5 * float(np.vdot(diff, diff)) / len(diff)
        d_out = diff / len(diff)
        dw2 = y.T @ d_out
        dy = d_out @ self.w2.T
        dh = self._swiglu_backward(dy, self.h)
        dw13 = self.x.T @ dh
        self.w13 -= LEARNING_RATE * dw13
        self.w2 -= LEARNING_RATE * dw2
        return loss


class TorchFFN:
    """The step in PyTorch eager: its matmuls, ``F.silu(a) * b``, autograd, SGD."""

    def __init__(self, shape, seed=0):
        import torch

        self.torch = torch
        x, target, w13, w2 = _weights(shape, seed)
        self.x, self.target = torch.from_numpy(x), torch.from_numpy(target)
        self.w13 = torch.from_numpy(w13).requires_grad_(True)
        self.w2 = torch.from_numpy(w2).requires_grad_(True)

    def step(self):
        torch = self.torch
        a, b = torch.chunk(self.x @ self.w13, 2, dim=1)
        out = (torch.nn.functional.silu(a) * b) @ self.w2
        loss = 0.5 * ((out - self.target) ** 2).sum() / len(out)
        self.w13.grad = self.w2.grad = None
        loss.backward()
        with torch.no_grad():
            self.w13 -= LEARNING_RATE * self.w13.grad
            self.w2 -= LEARNING_RATE * self.w2.grad
        return float(loss.detach())


def _has_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def make(shape, impl, seed=0):
    if impl == "torch":
        return TorchFFN(shape, seed)
    return NumpyFFN(shape, fastgrad=impl == "fastgrad", seed=seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", default=",".join(SHAPES), help="default: all")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; fastgrad threads {fg.get_num_threads()}")
    print("| shape (tokens x F) | impl | median step ms | p90 ms |")
    print("|---|---|---|---|")
    for shape in args.shapes.split(","):
        blocks = {impl: make(shape, impl) for impl in IMPLS if impl != "torch" or _has_torch()}
        for block in blocks.values():
            for _ in range(3):
                block.step()
        # rounds of steps per implementation, in turn: a shared machine's drift falls on
        # all alike; a pause before each, so that the previous one's threads (PyTorch's
        # OpenMP ones spin for a while after its last operation) have gone to sleep
        times = {impl: [] for impl in IMPLS}
        for _ in range(args.rounds):
            for impl, block in blocks.items():
                time.sleep(PAUSE)
                for _ in range(args.steps):
                    start = time.perf_counter()
                    block.step()
                    times[impl].append(time.perf_counter() - start)
        for impl in blocks:
            t = np.array(times[impl]) * 1e3
            print(f"| {shape} | {impl} | {np.median(t):.2f} | {np.percentile(t, 90):.2f} |")


if __name__ == "__main__":
    main()
