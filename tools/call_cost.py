"""Instructions per fastgrad call at 1e3 float32 elements, counted by callgrind: a figure
that does not move with machine noise, for changes to the Python layer (``_api``).

    python tools/call_cost.py            (needs valgrind; a few minutes)

One process under ``valgrind --tool=callgrind`` makes N calls of every call shape below
(after a warm-up call of each); then, once per shape, a process makes that shape's calls
2N times. The difference over N is one call's cost, the kernel's loop included (the same
for every version of the wrappers). A first run fills Numba's cache for the CPU valgrind
presents (haswell here: no AVX-512), compiled natively with NUMBA_CPU_NAME and
NUMBA_CPU_FEATURES set to what Numba sees under valgrind (compiling under valgrind takes
minutes per kernel).
"""

import os
import re
import subprocess
import sys

import numpy as np

N = 10000
# (label, call) with x, g (float32, 1e3 elements), out and pair (preallocated) in scope
CALLS = (
    ("relu(x, out=out)", "fg.relu(x, out=out)"),
    ("relu(x)", "fg.relu(x)"),
    ("elu(x, alpha=1.0, out=out)", "fg.elu(x, alpha=1.0, out=out)"),
    ("gelu_backward(g, x, out=out)", "fg.gelu_backward(g, x, out=out)"),
    ("gelu_fwd_grad(x, out=pair)", "fg.gelu_fwd_grad(x, out=pair)"),
    (
        "sigmoid_backward_from_output(g, x, out=out)",
        "fg.sigmoid_backward_from_output(g, x, out=out)",
    ),
)


def _run(counts):
    import fastgrad as fg

    x = np.linspace(-3, 3, 1000, dtype=np.float32)
    g, out, pair = x.copy(), np.empty_like(x), (np.empty_like(x), np.empty_like(x))
    scope = {"fg": fg, "x": x, "g": g, "out": out, "pair": pair}
    codes = [compile(call, "<call>", "eval") for _, call in CALLS]
    for code in codes:
        eval(code, scope)  # warm-up: loads the kernel
    for code, n in zip(codes, counts, strict=True):
        for _ in range(n):
            eval(code, scope)


# What makes a process's count repeat: fixed string hashing, and no OpenBLAS or OpenMP
# helper threads (NumPy's OpenBLAS starts one per core at import; callgrind counts their
# waiting, which varied the total by 3e7 instructions, 3000 per call at N = 10000, between
# identical runs; with these settings, by 3e3).
_STEADY = {"PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def _instructions(counts):
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--run",
            ",".join(map(str, counts)),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **_STEADY},
    )
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


# the activations of CALLS, compiled ahead for valgrind's CPU
ACTIVATIONS = ("relu", "elu", "gelu", "sigmoid")


def _precompile_for_valgrind_cpu():
    probe = (
        "import llvmlite.binding as llvm; print(llvm.get_host_cpu_name()); "
        "print(llvm.get_host_cpu_features().flatten())"
    )
    seen = subprocess.run(
        ["valgrind", "--tool=none", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    env = {**os.environ, "NUMBA_CPU_NAME": seen[-2], "NUMBA_CPU_FEATURES": seen[-1]}
    subprocess.run(
        [sys.executable, "-m", "fastgrad.compile", *ACTIVATIONS, "--dtypes", "float32"],
        env=env,
        check=True,
        capture_output=True,
    )


def main():
    _precompile_for_valgrind_cpu()
    _instructions([0] * len(CALLS))  # loads the kernels once (a cache miss compiles here)
    base = _instructions([N] * len(CALLS))
    for i, (label, _) in enumerate(CALLS):
        counts = [N] * len(CALLS)
        counts[i] = 2 * N
        per_call = (_instructions(counts) - base) / N
        print(f"{label:48s} {per_call:9.0f} instructions per call", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--run"]:
        _run([int(c) for c in sys.argv[2].split(",")])
    else:
        main()
