"""What a second thread gains, by size: a kernel's chunked form on two threads against its
serial form on one, the speed issue's crossover table.

    python -m bench.thread_gain [--sizes 2^15,2^16,1e5,2^17,2^18,2^20] [--calls 200]

For each kernel in ``KERNELS`` and size: the serial kernel, then the chunked kernel run by
``fastgrad._run.run_chunked`` on two threads (fastgrad's helpers, woken per call), each
called back to back, twice in alternation; the smaller of the two medians of each. Below
the crossover the wake-up and join of the helper cost more than half the work saves. Prints
the CPU, the medians and one thread's time over two threads'.
"""

import argparse
import time

import numpy as np

import fastgrad as fg
from fastgrad import _run
from fastgrad._kernels import kernel_set
from fastgrad._table import BY_NAME
from harness.machine import cpu_name

KERNELS = (("gelu", "backward"), ("gelu", "forward"), ("sigmoid", "forward"), ("relu", "backward"))


def _size(text):
    return 2 ** int(text[2:]) if text.startswith("2^") else int(float(text))


def medians(name, kind, n, calls):
    """(serial seconds, two-thread seconds): the smaller median of two alternating rounds."""
    kernels = kernel_set(BY_NAME[name], np.float32)
    serial, chunked = kernels.get(kind, False), kernels.get(kind, True)
    x = np.random.default_rng(0).uniform(-10, 10, n).astype(np.float32)
    arrays = (np.ones_like(x), x, np.empty_like(x)) if kind == "backward" else (x, np.empty_like(x))

    def one():
        serial(*arrays, 0.0, 0.0)

    def two():
        _run.run_chunked(chunked, 1, *arrays, 0.0, 0.0)

    found = {one: [], two: []}
    for call in (one, two, one, two):
        call()
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        found[call].append(float(np.median(times)))
    return min(found[one]), min(found[two])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2^15,2^16,1e5,2^17,2^18,2^20")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    sizes = [_size(s) for s in args.sizes.split(",")]
    threads = fg.get_num_threads()
    fg.set_num_threads(2)
    try:
        print(f"CPU: {cpu_name()}; float32, medians of {args.calls} calls back to back")
        print("| kernel | n | 1 thread us | 2 threads us | 1 thread / 2 threads |")
        print("|---|---|---|---|---|")
        for name, kind in KERNELS:
            for n in sizes:
                one, two = medians(name, kind, n, args.calls)
                print(
                    f"| {name} {kind} | {n} | {one * 1e6:.1f} | {two * 1e6:.1f} | "
                    f"{one / two:.2f} |",
                    flush=True,
                )
    finally:
        fg.set_num_threads(threads)


if __name__ == "__main__":
    main()
