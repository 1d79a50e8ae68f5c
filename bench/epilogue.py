"""The dense layer's epilogue, forward and backward with the bias gradient, four ways.

    fused          y, d = f_bias_fwd_grad(h, b); grad_h, grad_b = f_bias_backward_from_grad(g, d)
    recompute      y = f_bias(h, b); grad_h, grad_b = f_bias_backward(g, h, b)
    unfused        hb = h + b; y, d = f_fwd_grad(hb); grad_h = g * d; grad_b = grad_h.sum(0)
    torch          the same steps in PyTorch eager (F.gelu / torch.sigmoid and ATen's
                   gelu_backward / sigmoid_backward, then grad_h.sum(0))

each with new result arrays (as a program calls them), into arrays allocated once
(``out=``), and with grad_h written over d (``in d``: d is dead after the backward, and a
pass that writes what it read moves a quarter less memory). Float32; fastgrad's calls
interleaved, ``--repeats`` of each per round over ``--rounds`` rounds, then PyTorch's the
same way; medians. The ratio columns are the unfused and PyTorch times over the fused.

    python bench/epilogue.py [--threads 2] [--shapes 4096x1024,256x256] [--rounds 41]
        [--repeats 1] [--json F]
"""

import argparse
import json
import time

import numpy as np
from mlp import cpu_model

import fastgrad as fg

ACTIVATIONS = ("gelu", "sigmoid")
SHAPES = ("4096x1024", "256x256")


def _arrays(shape):
    rows, cols = (int(v) for v in shape.split("x"))
    rng = np.random.default_rng(0)
    h, g = (rng.standard_normal((rows, cols), dtype=np.float32) for _ in range(2))
    return h, rng.standard_normal(cols, dtype=np.float32), g


def fastgrad_calls(name, h, b, g):
    """{way: call} of fastgrad's fused and unfused sequences, new arrays and out=."""
    f_bias, f_bias_backward = getattr(fg, name + "_bias"), getattr(fg, name + "_bias_backward")
    f_fwd_grad = getattr(fg, name + "_fwd_grad")
    y, gh, hb, d = (np.empty_like(h) for _ in range(4))
    gb = np.empty_like(b)

    f_bias_fwd_grad = getattr(fg, name + "_bias_fwd_grad")
    from_grad = getattr(fg, name + "_bias_backward_from_grad")

    def fused():
        y, d = f_bias_fwd_grad(h, b)
        return y, from_grad(g, d)

    def fused_out():
        f_bias_fwd_grad(h, b, out=(y, d))
        return y, from_grad(g, d, out=(gh, gb))

    def fused_in_d():  # grad_h into d's memory: d is dead after the backward
        f_bias_fwd_grad(h, b, out=(y, d))
        return y, from_grad(g, d, out=(d, gb))

    def recompute():
        return f_bias(h, b), f_bias_backward(g, h, b)

    def recompute_out():
        return f_bias(h, b, out=y), f_bias_backward(g, h, b, out=(gh, gb))

    def unfused():
        hb = h + b
        y, d = f_fwd_grad(hb)
        grad_h = g * d
        return y, grad_h, grad_h.sum(axis=0)

    def unfused_out():
        np.add(h, b, out=hb)
        f_fwd_grad(hb, out=(y, d))
        np.multiply(g, d, out=gh)
        return y, gh, gh.sum(axis=0, out=gb)

    def unfused_in_d():
        np.add(h, b, out=hb)
        f_fwd_grad(hb, out=(y, d))
        np.multiply(g, d, out=d)
        return y, d, d.sum(axis=0, out=gb)

    return {
        "fused": fused,
        "fused_out": fused_out,
        "fused_in_d": fused_in_d,
        "recompute": recompute,
        "recompute_out": recompute_out,
        "unfused": unfused,
        "unfused_out": unfused_out,
        "unfused_in_d": unfused_in_d,
    }


def torch_calls(name, h, b, g):
    """{way: call} of PyTorch eager's sequence, or {} without PyTorch."""
    try:
        import torch
    except ImportError:
        return {}
    th, tb, tg = (torch.from_numpy(v) for v in (h, b, g))
    ops = torch.ops.aten

    def eager():
        hb = th + tb
        if name == "gelu":
            y, grad_h = torch.nn.functional.gelu(hb), ops.gelu_backward(tg, hb)
        else:
            y = torch.sigmoid(hb)
            grad_h = ops.sigmoid_backward(tg, y)
        return y, grad_h, grad_h.sum(0)

    return {"torch": eager}


def _timed(calls, rounds, repeats):
    """{way: median seconds}: the calls interleaved, ``repeats`` of each per round."""
    times = {way: [] for way in calls}
    for call in calls.values():
        call()  # load kernels, start threads, warm the allocator
    for _ in range(rounds):
        for way, call in calls.items():
            for _ in range(repeats):
                start = time.perf_counter()
                call()
                times[way].append(time.perf_counter() - start)
    return {way: float(np.median(t)) for way, t in times.items()}


def measure(names, shapes, rounds, repeats):
    """PyTorch's calls are timed in rounds of their own: its OpenMP threads spin for a
    while after each call, taking the cores from whatever runs next (fastgrad's calls
    interleaved with them ran up to 2x slower)."""
    rows = []
    for shape in shapes:
        h, b, g = _arrays(shape)
        for name in names:
            medians = _timed(fastgrad_calls(name, h, b, g), rounds, repeats)
            medians.update(_timed(torch_calls(name, h, b, g), rounds, repeats))
            ms = {way: seconds * 1e3 for way, seconds in medians.items()}
            rows.append({"shape": shape, "activation": name, "ms": ms})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--activations", default=",".join(ACTIVATIONS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    fg.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    rows = measure(args.activations.split(","), args.shapes.split(","), args.rounds, args.repeats)
    print(f"{cpu_model()}, float32, {args.threads} thread(s), medians in ms")
    ways = ("fused", "fused_out", "fused_in_d", "recompute_out", "unfused", "unfused_out")
    ways += ("unfused_in_d", "torch")
    ratios = (("unfused", "fused"), ("unfused_out", "fused_out"), ("unfused_in_d", "fused_in_d"))
    ratios += (("torch", "fused"),)
    print(
        "| shape | activation | "
        + " | ".join(w.replace("_", " ") for w in ways)
        + " | "
        + " | ".join(f"{a.replace('_', ' ')} / {f.replace('_', ' ')}" for a, f in ratios)
        + " |"
    )
    print("|" + "---|" * (2 + len(ways) + len(ratios)))
    for row in rows:
        ms = row["ms"]
        cells = [f"{ms.get(w, float('nan')):.3f}" for w in ways]
        cells += [f"{ms.get(a, float('nan')) / ms[f]:.2f}x" for a, f in ratios]
        print(f"| {row['shape']} | {row['activation']} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"cpu": cpu_model(), "threads": args.threads, "rows": rows}, file, indent=1)


if __name__ == "__main__":
    main()
