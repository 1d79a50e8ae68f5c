"""Does preferring 512-bit vectors pay on this CPU? (``fastgrad._jit``'s choice.)

    python bench/vector_width.py

Compiles the kernels of a few activations twice in fresh processes, with LLVM's
``prefer-vector-width`` at 512 and at 256, and prints each kernel's median time per call
(n = 1e5, in cache, one thread, out=) and the ratio. Run it on each new kind of CPU.
"""

import json
import subprocess
import sys
import time

import numpy as np

NAMES = ("sigmoid", "tanh", "gelu", "silu", "softplus", "mish", "elu", "relu")
N, CALLS, PROCESSES = 100_000, 200, 2


def measure(width):
    """{kernel: median seconds} with the given preferred vector width (this process)."""
    from fastgrad import _jit
    from fastgrad._kernels import KernelSet
    from fastgrad._table import BY_NAME

    _jit._PREFER_512 = f'"prefer-vector-width"="{width}"'
    out = {}
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(0)
        x, o, g = rng.uniform(-10, 10, N).astype(dtype), np.empty(N, dtype), np.ones(N, dtype)
        for name in NAMES:
            kernels = KernelSet(BY_NAME[name], dtype, cache=False)  # compiled afresh
            for kind, args in (("forward", (x, o)), ("backward", (g, x, o))):
                kernel = kernels.get(kind, False)
                kernel(*args, 1.0, np.inf)
                times = []
                for _ in range(CALLS):
                    start = time.perf_counter()
                    kernel(*args, 1.0, np.inf)
                    times.append(time.perf_counter() - start)
                out[f"{name} {kind} {np.dtype(dtype).name}"] = float(np.median(times))
    return out


def main():
    runs = {}
    for width in ("512", "256") * PROCESSES:  # alternating fresh processes
        code = f"import vector_width, json; print(json.dumps(vector_width.measure({width})))"
        got = json.loads(
            subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                cwd=__file__.rsplit("/", 1)[0],
            ).stdout
        )
        for key, seconds in got.items():
            runs.setdefault(width, {}).setdefault(key, []).append(seconds)
    print("| kernel | 512-bit us | 256-bit us | 256 / 512 |\n|---|---|---|---|")
    for key in runs["512"]:
        wide, narrow = min(runs["512"][key]), min(runs["256"][key])
        print(f"| {key} | {wide * 1e6:.1f} | {narrow * 1e6:.1f} | {narrow / wide:.2f} |")


if __name__ == "__main__":
    main()
