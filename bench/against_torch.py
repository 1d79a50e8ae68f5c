"""fastgrad's time over PyTorch's, per thread and on two threads: the speed issue's table.

    python -m bench.against_torch [--dtype float32] [--sizes 1e5,1e6,1e7] [--calls 60]
                                  [--accuracy accurate|fast] [--rows gelu:forward,...]

For each activation, kind (forward; backward, or the backward from the output where
PyTorch's backward takes the output) and n: both libraries with ``out=`` (PyTorch's ATen
kernel through its out= overload, ``harness.peers``), on one thread each and on two
threads each (``fastgrad.set_num_threads``, ``torch.set_num_threads``). The two run in
alternating blocks of calls (``BLOCK``) so that both see the same machine; each figure
is a median. fastgrad runs at the ``--accuracy`` level (``fastgrad.set_accuracy``).
Prints the CPU, the medians and the ratios.
"""

import argparse
import time

import numpy as np
import torch  # before fastgrad: Numba's threading set up first slowed torch (bench/conftest.py)

import fastgrad as fg
from fastgrad._table import BY_NAME
from harness.machine import cpu_name
from harness.peers import torch_peer

ROWS = (
    ("gelu", "forward"),
    ("gelu", "backward"),
    ("tanh", "forward"),
    ("tanh", "backward_from_output"),
    ("sigmoid", "forward"),
    ("sigmoid", "backward_from_output"),
    ("silu", "forward"),
    ("silu", "backward"),
    ("relu", "forward"),
    ("relu", "backward"),
)


def calls(name, kind, x, g, out):
    """(fastgrad's call, PyTorch's call), both into ``out``."""
    act = BY_NAME[name]
    peer = torch_peer(act)
    tx, tg, tout = (torch.from_numpy(v) for v in (x, g, out))
    if kind == "forward":
        return (lambda: getattr(fg, name)(x, out=out)), peer.forward_call(tx, tout)
    if kind == "backward":
        ours = getattr(fg, name + "_backward")
        return (lambda: ours(g, x, out=out)), peer.backward_call(tg, tx, tout)
    y = getattr(fg, name)(x)
    ours = getattr(fg, name + "_backward_from_output")
    return (lambda: ours(g, y, out=out)), peer.backward_from_output_call(tg, tx, tout)


# Calls per block, and the pause before each block. Each library runs a block of calls back
# to back, then the other: a call right after the other library's finds that library's
# threads still spinning (PyTorch's OpenMP threads spin for a while after each call), and
# the first calls after a pause find cores waking from idle (on a 2-core KVM guest those
# ran up to 2x slower), so blocks are long enough for the median to be steady state.
BLOCK, PAUSE = 20, 0.02


def medians(pair, count):
    """Median seconds of each call of the pair, in alternating blocks of BLOCK calls."""
    for f in pair:
        f()
    times = [[], []]
    while len(times[0]) < count:
        for i, f in enumerate(pair):
            time.sleep(PAUSE)
            for _ in range(BLOCK):
                start = time.perf_counter()
                f()
                times[i].append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--sizes", default="1e5,1e6,1e7")
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--accuracy", default="accurate", choices=fg.ACCURACY_LEVELS)
    parser.add_argument("--rows", help="activation:kind pairs, comma-separated (default: all)")
    args = parser.parse_args()
    rows = [tuple(r.split(":")) for r in args.rows.split(",")] if args.rows else ROWS
    fg.set_accuracy(args.accuracy)
    dtype = np.dtype(args.dtype)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    print(
        f"CPU: {cpu_name()}; PyTorch {torch.__version__}; {dtype}, fastgrad accuracy "
        f"{args.accuracy}, out= both, medians of "
        f"{args.calls} calls in alternating blocks of {BLOCK}"
    )
    print("| activation | kind | n | threads | fastgrad us | PyTorch us | fastgrad / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        rng = np.random.default_rng(0)
        x = rng.uniform(-10, 10, n).astype(dtype)
        g = rng.standard_normal(n).astype(dtype)
        out = np.empty_like(x)
        for threads in (1, 2):
            fg.set_num_threads(threads)
            torch.set_num_threads(threads)
            for name, kind in rows:
                ours, theirs = medians(calls(name, kind, x, g, out), args.calls)
                print(
                    f"| {name} | {kind} | {n:.0e} | {threads} | {ours * 1e6:.0f} | "
                    f"{theirs * 1e6:.0f} | {ours / theirs:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
