"""How long a helper thread takes to start on a parallel call: back to back, and after a
gap in which the helpers went to sleep.

    python -m bench.start_latency [--calls 101] [--n 1000000]

Each call is ``fg.gelu_backward`` on ``n`` float32 elements on two threads, with the
kernel the helpers call (``fastgrad._threads._Call.kernel``: a helper takes the call up
in Python, then enters the compiled chunk loop) wrapped to stamp the clock. Start latency
= the helper's stamp minus the moment the call was made (``_Call`` created, just before
the helpers are asked). Calls follow each other at once ("back to back") or after a
sleep of 1 ms or 20 ms. Prints the CPU, the median and 90th percentile of each, and the
call's median time.
"""

import argparse
import time

import numpy as np

import fastgrad as fg
from fastgrad import _threads
from harness.machine import cpu_name


def stamped():
    """Wrap ``_Call`` so that each call records [made, helper entered] (ns)."""
    records = []
    made = _threads._Call.__init__

    def init(call, kernel, args):
        made(call, kernel, args)
        record = [time.perf_counter_ns(), None]
        records.append(record)
        call.kernel = _Stamping(kernel, record)

    _threads._Call.__init__ = init
    return records, made


class _Stamping:
    """The kernel as the helpers call it (the caller calls the kernel itself), stamping
    the first helper's entry."""

    def __init__(self, kernel, record):
        self.kernel, self.record = kernel, record

    def __call__(self, *args):
        if self.record[1] is None:
            self.record[1] = time.perf_counter_ns()
        return self.kernel(*args)


def measure(n, calls, gap):
    """(start latencies in us, call times in us)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 10, n).astype(np.float32)
    g, out = np.ones_like(x), np.empty_like(x)
    records, made = stamped()
    try:
        took = []
        for _ in range(calls):
            if gap:
                time.sleep(gap)
            start = time.perf_counter_ns()
            fg.gelu_backward(g, x, out=out)
            took.append((time.perf_counter_ns() - start) / 1e3)
    finally:
        _threads._Call.__init__ = made
    starts = [(r[1] - r[0]) / 1e3 if r[1] else np.nan for r in records[1:]]
    return np.array(starts), np.array(took[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=101)
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    fg.set_num_threads(2)
    fg.gelu_backward(np.ones(args.n, np.float32), np.ones(args.n, np.float32))
    print(f"CPU: {cpu_name()}; gelu_backward, n = {args.n}, 2 threads, {args.calls} calls each")
    for label, gap in (("back to back", 0.0), ("after 1 ms", 0.001), ("after 20 ms", 0.02)):
        starts, took = measure(args.n, args.calls, gap)
        print(
            f"{label:>12}: helper start median {np.nanmedian(starts):6.1f} us, "
            f"p90 {np.nanpercentile(starts, 90):6.1f} us (not helping: "
            f"{int(np.isnan(starts).sum())}); call median {np.median(took):7.1f} us"
        )


if __name__ == "__main__":
    main()
