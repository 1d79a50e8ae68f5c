"""A real program around the kernels: one SGD step of a NumPy MLP.

``n_in -> hidden -> n_out`` (float32), softmax cross-entropy, plain SGD. The matmuls are
NumPy's (OpenBLAS, on its own threads); the hidden activation's forward and backward come
from one of ``ACTIVATION_IMPLS``:

- ``fastgrad``: fastgrad at its defaults, ``out=`` into the step's buffers;
- ``fastgrad_1thread``: the same with ``fg.set_num_threads(1)`` (the caller sets it);
- ``fastgrad_fused``: fastgrad's epilogue, the bias add, the activation and its
  derivative in one pass (``f_bias_fwd_grad``) and the backward with the bias gradient
  in one (``f_bias_backward_from_grad``, grad_h written over d), where the others add the
  bias and sum its gradient in passes of their own;
- ``numpy``: the formulas a NumPy user writes: sigmoid as ``1/(1+exp(-h))`` and its
  backward from the saved output, gelu as ``h*ndtr(h)`` (SciPy's normal CDF) and its
  backward ``g*(ndtr(h) + h*pdf(h))``.

Used by ``bench/test_mlp.py`` (pytest-benchmark) and by ``python bench/mlp.py`` (step-time
medians and tails, the implementations' steps interleaved, with BLAS at its default
threads or on one, and with another process keeping one core busy).
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np

import fastgrad as fg

SHAPES = {"256x256": (256, 784, 256, 10), "4096x1024": (4096, 784, 1024, 10)}
ACTIVATIONS = ("gelu", "sigmoid")
ACTIVATION_IMPLS = ("fastgrad", "fastgrad_1thread", "fastgrad_fused", "numpy")
LEARNING_RATE = 0.05
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _numpy_pair(activation):
    """(forward(h) -> (a, saved), backward(g, saved) -> dh) as a NumPy user writes them."""
    if activation == "sigmoid":

        def forward(h):
            a = 1 / (1 + np.exp(-h))
            return a, a

        def backward(g, a):
            return g * a * (1 - a)

        return forward, backward
    if activation == "gelu":
        from scipy.special import ndtr

        def forward(h):
            return h * ndtr(h), h

        def backward(g, h):
            return g * (ndtr(h) + h * (np.exp(-0.5 * h * h) * np.float32(_INV_SQRT_2PI)))

        return forward, backward
    raise ValueError(f"no NumPy formulas for {activation}")


class MLP:
    """One hidden layer, weights and a fixed batch; ``step()`` is forward, backward and
    the SGD update, the activation's share timed into ``activation_seconds``."""

    def __init__(self, shape, activation, impl, seed=0):
        batch, n_in, hidden, n_out = SHAPES[shape]
        rng = np.random.default_rng(seed)
        f32 = np.float32
        self.x = rng.standard_normal((batch, n_in)).astype(f32)
        self.labels = rng.integers(0, n_out, batch)
        self.w1 = (rng.standard_normal((n_in, hidden)) / math.sqrt(n_in)).astype(f32)
        self.b1 = np.zeros(hidden, f32)
        self.w2 = (rng.standard_normal((hidden, n_out)) / math.sqrt(hidden)).astype(f32)
        self.b2 = np.zeros(n_out, f32)
        self.h = np.empty((batch, hidden), f32)
        self.a = np.empty_like(self.h)
        self.dh = np.empty_like(self.h)
        self.activation_seconds = 0.0
        if impl == "numpy":
            self._forward, self._backward = _numpy_pair(activation)
        elif impl in ("fastgrad", "fastgrad_1thread"):
            f, f_backward = getattr(fg, activation), getattr(fg, activation + "_backward")

            def forward(h):
                return f(h, out=self.a), h

            def backward(g, h):
                return f_backward(g, h, out=self.dh)

            self._forward, self._backward = forward, backward
        elif impl == "fastgrad_fused":
            f_bias_fwd_grad = getattr(fg, activation + "_bias_fwd_grad")
            f_bias_backward = getattr(fg, activation + "_bias_backward_from_grad")
            self.db1 = np.empty_like(self.b1)
            self.d = np.empty_like(self.h)
            self._epilogue = lambda h: (f_bias_fwd_grad(h, self.b1, out=(self.a, self.d))[0], h)
            # grad_h written over d, dead after the backward (a pass that writes what it
            # reads moves a quarter less memory)
            self._epilogue_backward = lambda g, h: f_bias_backward(
                g, self.d, out=(self.d, self.db1)
            )
        else:
            raise ValueError(f"unknown implementation {impl!r}")

    # The epilogue around the activation: the bias added into h, then the activation; its
    # backward, then the bias gradient summed (``fastgrad_fused`` replaces both pairs).
    def _epilogue(self, h):
        h += self.b1
        return self._forward(h)

    def _epilogue_backward(self, g, saved):
        dh = self._backward(g, saved)
        return dh, dh.sum(axis=0)

    def step(self):
        """One SGD step; returns the loss."""
        x, batch = self.x, self.x.shape[0]
        np.matmul(x, self.w1, out=self.h)
        start = time.perf_counter()
        a, saved = self._epilogue(self.h)
        self.activation_seconds += time.perf_counter() - start
        logits = a @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(batch), self.labels]).mean()
        p[np.arange(batch), self.labels] -= 1
        dlogits = p / batch
        dw2 = a.T @ dlogits
        da = dlogits @ self.w2.T
        start = time.perf_counter()
        dh, db1 = self._epilogue_backward(da, saved)
        self.activation_seconds += time.perf_counter() - start
        dw1 = x.T @ dh
        self.w1 -= LEARNING_RATE * dw1
        self.b1 -= LEARNING_RATE * db1
        self.w2 -= LEARNING_RATE * dw2
        self.b2 -= LEARNING_RATE * dlogits.sum(axis=0)
        return float(loss)


class BusyCore:
    """Another process spinning on one core, for at most ``seconds`` (a context manager)."""

    def __init__(self, seconds=300.0):
        self.code = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass"

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", self.code])
        time.sleep(0.2)  # running before the first step
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def measure(shape, activation, impl, steps):
    """(step times in seconds, activation seconds per step) over ``steps`` steps after
    three warm-up steps."""
    threads = fg.get_num_threads()
    if impl == "fastgrad_1thread":
        fg.set_num_threads(1)
    try:
        mlp = MLP(shape, activation, impl)
        for _ in range(3):
            mlp.step()
        mlp.activation_seconds = 0.0
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            mlp.step()
            times.append(time.perf_counter() - start)
        return np.array(times), mlp.activation_seconds / steps
    finally:
        fg.set_num_threads(threads)


def measure_interleaved(shape, activation, impls, steps):
    """{impl: (step times in seconds, activation seconds per step)}, the implementations'
    steps taken in turn (one each per round, after three warm-up steps each), so that
    they share the machine's noisy moments: their medians compare within one run."""
    threads = fg.get_num_threads()
    mlps = {impl: MLP(shape, activation, impl) for impl in impls}
    times = {impl: [] for impl in impls}
    try:
        for rounds, timed in ((3, False), (steps, True)):
            if timed:
                for mlp in mlps.values():
                    mlp.activation_seconds = 0.0
            for _ in range(rounds):
                for impl, mlp in mlps.items():
                    fg.set_num_threads(1 if impl == "fastgrad_1thread" else threads)
                    start = time.perf_counter()
                    mlp.step()
                    if timed:
                        times[impl].append(time.perf_counter() - start)
    finally:
        fg.set_num_threads(threads)
    return {impl: (np.array(times[impl]), mlps[impl].activation_seconds / steps) for impl in impls}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--activations", default=",".join(ACTIVATIONS))
    parser.add_argument("--blas-threads", type=int, default=None, help="default: BLAS's own")
    parser.add_argument("--busy-core", action="store_true", help="another process spins")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    from contextlib import ExitStack

    rows = []
    with ExitStack() as stack:
        if args.blas_threads is not None:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(args.blas_threads, user_api="blas"))
        if args.busy_core:
            stack.enter_context(BusyCore())
        print(
            f"CPU: {cpu_model()}, {os.cpu_count()} cores; fastgrad threads "
            f"{fg.get_num_threads()}; BLAS threads {args.blas_threads or 'default'}; "
            f"busy core: {args.busy_core}"
        )
        print("| shape | activation | impl | median step ms | p90 ms | p90/median | act ms |")
        print("|---|---|---|---|---|---|---|")
        for shape in args.shapes.split(","):
            steps = args.steps if shape == "256x256" else max(args.steps // 4, 10)
            for activation in args.activations.split(","):
                measured = measure_interleaved(shape, activation, ACTIVATION_IMPLS, steps)
                for impl, (times, act) in measured.items():
                    median, p90 = np.median(times), np.percentile(times, 90)
                    rows.append(
                        dict(
                            shape=shape,
                            activation=activation,
                            impl=impl,
                            median=median,
                            p90=p90,
                            activation_seconds=act,
                        )
                    )
                    print(
                        f"| {shape} | {activation} | {impl} | {median * 1e3:.2f} | "
                        f"{p90 * 1e3:.2f} | {p90 / median:.2f} | {act * 1e3:.3f} |",
                        flush=True,
                    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(cpu=cpu_model(), rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
