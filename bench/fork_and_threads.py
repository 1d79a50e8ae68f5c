"""Speed inside a program's processes and threads: gelu forward + backward (out=,
float32) on 1 and 2 fastgrad threads in this process and in a 'fork' child, and 8 tasks
(each: make an input, 6 timed calls) from 1, 2 and 4 Python threads.

    python bench/fork_and_threads.py
"""

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import fastgrad as fg


def bench(n, reps=15):
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    g = np.ones_like(x)
    y = np.empty_like(x)
    d = np.empty_like(x)

    def f():
        fg.gelu(x, out=y)
        fg.gelu_backward(g, x, out=d)

    f()
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    return float(np.median(ts) * 1e3)


def both(n):
    fg.set_num_threads(1)
    one = bench(n)
    fg.set_num_threads(2)
    two = bench(n)
    return one, two


if __name__ == "__main__":
    for n in (2**20, 4 * 10**6):
        one, two = both(n)
        print(f"parent  n={n}: 1 thread {one:.2f} ms, 2 threads {two:.2f} ms ({one / two:.2f}x)")
        with multiprocessing.get_context("fork").Pool(1) as pool:
            one, two = pool.apply(both, (n,))
        print(f"fork child n={n}: 1 thread {one:.2f} ms, 2 threads {two:.2f} ms ({one / two:.2f}x)")
        fg.set_num_threads(2)
        for workers in (1, 2, 4):
            with ThreadPoolExecutor(workers) as ex:
                s = time.perf_counter()
                list(ex.map(bench, [n] * 8, [5] * 8))
                total = time.perf_counter() - s
            print(f"{workers} Python threads, 8 tasks of 6 calls, n={n}: {total * 1e3:.0f} ms wall")
