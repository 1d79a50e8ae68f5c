"""The gated activations and PReLU against PyTorch eager: forward + backward, float32,
``out=`` where the implementation has it, at 1e5 and 1e7 elements (the forward's input
elements: a and b, or x, together).

- fastgrad: ``fg.<name>(..., out=)`` then ``fg.<name>_backward(..., out=)``, on
  fastgrad's threads;
- torch: PyTorch's forward (``F.silu(a) * b``, ``F.gelu(a) * b``, ``F.relu(a) * b``,
  ``F.glu(x)``, ``F.prelu(x, w)``) and autograd's backward, on ``torch.get_num_threads()``
  threads (set to fastgrad's count).

``python bench/layer.py`` prints the medians of alternating rounds and the ratio;
``bench/test_layer.py`` times the same calls with pytest-benchmark.
"""

import argparse
import os
import time

import numpy as np
from mlp import cpu_model

import fastgrad as fg

NAMES = ("swiglu", "geglu", "reglu", "glu", "prelu")
PRELU_CHANNELS = 1024  # PReLU on (n / 1024, 1024): a dense layer's channels
PAUSE = 0.3  # seconds between rounds: another library's spinning threads go to sleep


def _gated_halves(n, rng):
    return [rng.standard_normal(n // 2).astype(np.float32) for _ in range(3)]


def fastgrad_step(name, n, seed=0):
    """A callable running fastgrad's forward and backward of ``name`` on n elements."""
    rng = np.random.default_rng(seed)
    if name == "prelu":
        x = rng.standard_normal((n // PRELU_CHANNELS, PRELU_CHANNELS)).astype(np.float32)
        w = np.full(PRELU_CHANNELS, 0.25, np.float32)
        g, y, gx, gw = (
            rng.standard_normal(x.shape).astype(np.float32),
            *(np.empty_like(v) for v in (x, x, w)),
        )

        def step():
            fg.prelu(x, w, out=y)
            fg.prelu_backward(g, x, w, out=(gx, gw))

        return step
    if name == "glu":
        x = rng.standard_normal((n // PRELU_CHANNELS, PRELU_CHANNELS)).astype(np.float32)
        g = rng.standard_normal((x.shape[0], x.shape[1] // 2)).astype(np.float32)
        y, gx = np.empty_like(g), np.empty_like(x)

        def step():
            fg.glu(x, out=y)
            fg.glu_backward(g, x, out=gx)

        return step
    a, b, g = _gated_halves(n, rng)
    y, ga, gb = np.empty_like(a), np.empty_like(a), np.empty_like(a)
    forward, backward = getattr(fg, name), getattr(fg, name + "_backward")

    def step():
        forward(a, b, out=y)
        backward(g, a, b, out=(ga, gb))

    return step


def torch_step(name, n, seed=0):
    """A callable running PyTorch eager's forward and autograd backward of ``name``."""
    import torch

    F = torch.nn.functional  # noqa: N806 (PyTorch's spelling)
    rng = np.random.default_rng(seed)
    if name in ("prelu", "glu"):
        x = torch.from_numpy(
            rng.standard_normal((n // PRELU_CHANNELS, PRELU_CHANNELS)).astype(np.float32)
        ).requires_grad_(True)
        if name == "prelu":
            w = torch.full((PRELU_CHANNELS,), 0.25).requires_grad_(True)
            inputs, forward = (x, w), lambda: F.prelu(x, w)
            g = torch.from_numpy(rng.standard_normal(tuple(x.shape)).astype(np.float32))
        else:
            inputs, forward = (x,), lambda: F.glu(x)
            g = torch.from_numpy(
                rng.standard_normal((x.shape[0], x.shape[1] // 2)).astype(np.float32)
            )
    else:
        a, b, g = (torch.from_numpy(v) for v in _gated_halves(n, rng))
        a.requires_grad_(True)
        b.requires_grad_(True)
        act = {"swiglu": F.silu, "geglu": F.gelu, "reglu": F.relu}[name]
        inputs, forward = (a, b), lambda: act(a) * b

    def step():
        for t in inputs:
            t.grad = None
        forward().backward(g)

    return step


def median_ms(step, repeats):
    """The median of ``repeats`` calls of ``step``, in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="1e5,1e7", help="input elements, comma-separated")
    parser.add_argument("--repeats", type=int, default=None, help="calls per round")
    args = parser.parse_args()
    sizes = [int(float(v)) for v in args.sizes.split(",")]
    torch.set_num_threads(fg.get_num_threads())
    print(
        f"CPU: {cpu_model()}, {os.cpu_count()} cores; threads: fastgrad "
        f"{fg.get_num_threads()}, PyTorch {torch.get_num_threads()} (PyTorch {torch.__version__})"
    )
    print("| function | n | fastgrad ms | PyTorch ms | PyTorch / fastgrad |")
    print("|---|---|---|---|---|")
    for name in NAMES:
        for n in sizes:
            steps = {"fastgrad": fastgrad_step(name, n), "torch": torch_step(name, n)}
            repeats = args.repeats or (200 if n <= 100_000 else 15)
            for step in steps.values():
                step()
            found = {impl: [] for impl in steps}
            for _ in range(args.rounds):
                for impl, step in steps.items():
                    time.sleep(PAUSE)
                    found[impl].append(median_ms(step, repeats))
            ours, theirs = np.median(found["fastgrad"]), np.median(found["torch"])
            print(f"| {name} | {n:.0e} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.2f} |")


if __name__ == "__main__":
    main()
