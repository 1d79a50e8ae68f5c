"""Should a gated activation's forward also return what its backward needs?

Two ways through forward + backward of ``y = f(u) * v`` (float32, one thread, the same
scalar functions as fastgrad's kernels, loops compiled with fastgrad's jit policy):

- recompute (fastgrad's): the forward writes y; the backward reads grad_out, u, v and
  computes f(u) and f'(u) again: 3 + 5 arrays of memory traffic;
- saved: the forward also writes f(u) and f'(u); the backward reads grad_out, v, f(u),
  f'(u): 5 + 6 arrays, no activation computed twice.

``python bench/gated_saved.py`` prints the medians of alternating rounds per activation.
"""

import numpy as np
from layer import median_ms
from mlp import cpu_model

from fastgrad import _jit
from fastgrad._kernels import kernel_set
from fastgrad._table import BY_NAME

N = 5_000_000  # elements per array: 1e7 input elements (u and v)
ACTIVATIONS = (("swiglu", "silu"), ("geglu", "gelu"), ("reglu", "relu"), ("glu", "sigmoid"))


def _loops(activation):
    scalars = kernel_set(BY_NAME[activation], np.float32).scalars()
    f, df, times = scalars["forward"], scalars["derivative"], scalars["gradient_product"]
    zero = np.float32(0.0)

    def forward(u, v, y):
        for i in range(y.size):
            y[i] = f(u[i], zero, zero) * v[i]

    def backward(g, u, v, gu, gv):
        for i in range(g.size):
            gi, ui, vi = g[i], u[i], v[i]
            gu[i] = times(gi * vi, df(ui, zero, zero))
            gv[i] = gi * f(ui, zero, zero)

    def forward_saving(u, v, y, fu, dfu):
        for i in range(y.size):
            value, slope = f(u[i], zero, zero), df(u[i], zero, zero)
            y[i] = value * v[i]
            fu[i] = value
            dfu[i] = slope

    def backward_saved(g, v, fu, dfu, gu, gv):
        for i in range(g.size):
            gi = g[i]
            gu[i] = times(gi * v[i], dfu[i])
            gv[i] = gi * fu[i]

    return [
        _jit.kernel(fn, cache=False) for fn in (forward, backward, forward_saving, backward_saved)
    ]


def main():
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=float, default=N, help="elements per array")
    parser.add_argument("--rows", default=",".join(name for name, _ in ACTIVATIONS))
    args = parser.parse_args()
    n, rows = int(args.n), args.rows.split(",")
    rng = np.random.default_rng(0)
    u, v, g = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    y, fu, dfu, gu, gv = (np.empty(n, np.float32) for _ in range(5))
    print(f"CPU: {cpu_model()}; one thread; {n:.0e} elements per array, float32")
    print("| gated | recompute ms | saved ms | saved / recompute |")
    print("|---|---|---|---|")
    for name, activation in ACTIVATIONS:
        if name not in rows:
            continue
        forward, backward, forward_saving, backward_saved = _loops(activation)

        def recompute(forward=forward, backward=backward):
            forward(u, v, y)
            backward(g, u, v, gu, gv)

        def saved(forward_saving=forward_saving, backward_saved=backward_saved):
            forward_saving(u, v, y, fu, dfu)
            backward_saved(g, v, fu, dfu, gu, gv)

        recompute()
        saved()
        found = {"recompute": [], "saved": []}
        for _ in range(3):
            found["recompute"].append(median_ms(recompute, 7))
            found["saved"].append(median_ms(saved, 7))
        a, b = np.median(found["recompute"]), np.median(found["saved"])
        print(f"| {name} | {a:.2f} | {b:.2f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
