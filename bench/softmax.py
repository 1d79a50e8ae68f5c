"""Softmax, log-softmax and logsumexp, forward and backward, against PyTorch and SciPy on
the shapes users meet: (4096, 1024) along dim -1 and dim 0 (a batch of rows; the other
axis), (32, 50257) (a language model's logits), (96, 256, 256) (attention scores),
(1e7,) (one long row).

- fastgrad: ``fg.<f>(x, dim, out=)``, ``fg.<f>_backward(g, y, dim, out=)`` on fastgrad's
  threads;
- torch: ``torch.softmax`` / ``torch.log_softmax`` / ``torch.logsumexp`` and the
  backward ATen runs from the output (``torch._softmax_backward_data``,
  ``torch._log_softmax_backward_data``; logsumexp's ``grad * exp(x - result)``), on
  ``torch.get_num_threads()`` threads (set to fastgrad's);
- scipy: ``scipy.special.softmax`` / ``log_softmax`` / ``logsumexp`` (forward only:
  SciPy has no backward).

``python bench/softmax.py`` prints the medians (ms) of alternating rounds and the ratios
(peer / fastgrad: above 1, fastgrad is faster); ``--json FILE`` keeps them.
"""

import argparse
import json
import os
import time

import numpy as np
from mlp import cpu_model

import fastgrad as fg

SHAPES = (
    ((4096, 1024), -1),
    ((4096, 1024), 0),
    ((32, 50257), -1),
    ((96, 256, 256), -1),
    ((10_000_000,), 0),
)
FUNCTIONS = ("softmax", "log_softmax", "logsumexp")
DIRECTIONS = ("forward", "backward")
PAUSE = 0.2  # seconds between rounds: another library's spinning threads go to sleep


def _inputs(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    return x, g


def _reduced(shape, dim):
    return tuple(n for i, n in enumerate(shape) if i != dim % len(shape))


def fastgrad_call(function, direction, shape, dim, dtype):
    """A callable running fastgrad's ``function`` (``direction``) with out=."""
    x, g = _inputs(shape, dtype)
    if function == "logsumexp":
        r = fg.logsumexp(x, dim)
        if direction == "forward":
            out = np.empty_like(r)
            return lambda: fg.logsumexp(x, dim, out=out)
        gr, gx = np.ones_like(r), np.empty_like(x)
        return lambda: fg.logsumexp_backward(gr, x, r, dim, out=gx)
    forward = getattr(fg, function)
    y = forward(x, dim)
    out = np.empty_like(x)
    if direction == "forward":
        return lambda: forward(x, dim, out=out)
    backward = getattr(fg, function + "_backward")
    return lambda: backward(g, y, dim, out=out)


def torch_call(function, direction, shape, dim, dtype):
    """A callable running PyTorch's ``function`` (``direction``) on its own kernels."""
    import torch

    x, g = (torch.from_numpy(v) for v in _inputs(shape, dtype))
    if function == "logsumexp":
        if direction == "forward":
            return lambda: torch.logsumexp(x, dim)
        r = torch.logsumexp(x, dim, keepdim=True)
        gr = torch.ones_like(r)
        return lambda: gr * (x - r).exp()  # ATen's logsumexp_backward
    forward = getattr(torch, function)
    if direction == "forward":
        return lambda: forward(x, dim)
    y = forward(x, dim)
    backward = (
        torch._softmax_backward_data if function == "softmax" else torch._log_softmax_backward_data
    )
    return lambda: backward(g, y, dim, x.dtype)


def scipy_call(function, direction, shape, dim, dtype):
    """A callable running SciPy's ``function`` (forward only), or None."""
    if direction != "forward":
        return None
    import scipy.special

    x, _ = _inputs(shape, dtype)
    f = getattr(scipy.special, function)
    return lambda: f(x, axis=dim)


PEERS = {"fastgrad": fastgrad_call, "torch": torch_call, "scipy": scipy_call}


def _available(peer):
    try:
        __import__({"fastgrad": "fastgrad", "torch": "torch", "scipy": "scipy"}[peer])
    except ImportError:
        return False
    return True


def measure(cases, peers, rounds, repeats, threads):
    """{case key: {peer: median ms}}: the peers' calls alternate within each round."""
    if "torch" in peers:
        import torch

        torch.set_num_threads(threads)
    fg.set_num_threads(threads)
    times = {}
    calls = {}
    for key in cases:
        calls[key] = {}
        for peer in peers:
            call = PEERS[peer](*key)
            if call is not None:
                call()  # compile, warm the caches
                calls[key][peer] = call
                times.setdefault(key, {}).setdefault(peer, [])
    for _ in range(rounds):
        for key in cases:
            for peer, call in calls[key].items():
                time.sleep(PAUSE / len(calls[key]))
                samples = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    call()
                    samples.append(time.perf_counter() - start)
                times[key][peer].append(np.median(samples))
    return {key: {p: 1e3 * float(np.median(v)) for p, v in ts.items()} for key, ts in times.items()}


def table(results, cpu, threads):
    lines = [
        f"CPU: {cpu}; {threads} threads each; medians in ms; ratio = peer / fastgrad",
        "",
        "| function | direction | shape | dim | dtype | fastgrad | torch | scipy "
        "| torch / fg | scipy / fg |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (function, direction, shape, dim, dtype), ms in results.items():
        fg_ms = ms["fastgrad"]

        def cell(peer, ms=ms):
            return f"{ms[peer]:.3f}" if peer in ms else "-"

        def ratio(peer, ms=ms, fg_ms=fg_ms):
            return f"{ms[peer] / fg_ms:.2f}" if peer in ms else "-"

        lines.append(
            f"| {function} | {direction} | {shape} | {dim} | {np.dtype(dtype).name} | "
            f"{fg_ms:.3f} | {cell('torch')} | {cell('scipy')} | {ratio('torch')} | "
            f"{ratio('scipy')} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS))
    parser.add_argument("--directions", nargs="+", default=list(DIRECTIONS))
    parser.add_argument("--shapes", type=int, nargs="+", help="indices into SHAPES")
    parser.add_argument("--json", help="write the medians here")
    args = parser.parse_args(argv)
    peers = [p for p in PEERS if _available(p)]
    shapes = [SHAPES[i] for i in args.shapes] if args.shapes else SHAPES
    cases = [
        (function, direction, shape, dim, dtype)
        for function in args.functions
        for direction in args.directions
        for shape, dim in shapes
        for dtype in args.dtypes
    ]
    results = measure(cases, peers, args.rounds, args.repeats, args.threads)
    cpu = cpu_model()
    print(table(results, cpu, args.threads))
    if args.json:
        rows = [
            {
                "function": k[0],
                "direction": k[1],
                "shape": list(k[2]),
                "dim": k[3],
                "dtype": k[4],
                "ms": v,
                "cpu": cpu,
                "threads": args.threads,
            }
            for k, v in results.items()
        ]
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
