"""Figures from the activation table and from saved benchmark JSON (matplotlib, headless).

``python -m fastgrad.plotting --bench bench/results/latest.json --out plots`` writes:
- ``<name>.png`` and ``<name>_grad.png`` for every activation: its curve and its
  gradient curve, computed by fastgrad itself;
- ``speedup_<dtype>.png``: the NumPy reference's median time over fastgrad's, per
  activation, kind and size, from the benchmark JSON (``make bench`` writes it).
"""

import argparse
import json
import pathlib
import sys

import numpy as np

from ._table import KIND_NAMES, TABLE


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def activation_figures(act, out_dir):
    """The curve and the gradient curve of one activation, as two PNG files."""
    import fastgrad as fg

    plt = _pyplot()
    x = np.linspace(*act.plot_range, 2001)
    kinks = np.array([k for k in act.kinks if act.plot_range[0] < k < act.plot_range[1]])
    y, dydx = getattr(fg, act.name + "_fwd_grad")(x)
    # Break the gradient curve at its jumps instead of drawing a false vertical segment,
    # and mark the value taken at each kink (the table's convention).
    jumps = np.searchsorted(x, kinks)
    x_grad = np.insert(x, jumps, kinks)
    dydx = np.insert(dydx, jumps, np.nan)
    dydx[np.isin(x_grad, kinks)] = np.nan
    paths = []
    # Titles, labels and legends follow the seed article's figures.
    for xs, values, suffix, title, ylabel, label, color in (
        (x, y, "", f"{act.title} Activation Function", "Output", act.title, "tab:blue"),
        (
            x_grad,
            dydx,
            "_grad",
            f"Gradient of {act.title}",
            "Gradient",
            f"{act.title} Gradient",
            "tab:red",
        ),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(xs, values, color=color, linewidth=2, label=label)
        if suffix and kinks.size:
            ax.plot(
                kinks,
                getattr(fg, act.name + "_grad")(kinks),
                "o",
                color=color,
                label="value at the kink",
            )
        ax.set_title(title)
        ax.set_xlabel("Input")
        ax.set_ylabel(ylabel)
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
        fig.tight_layout()
        path = pathlib.Path(out_dir) / f"{act.name}{suffix}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def load_medians(bench_json):
    """{(activation, kind, dtype, n, impl): median seconds} from pytest-benchmark JSON."""
    data = json.loads(pathlib.Path(bench_json).read_text())
    medians = {}
    for b in data["benchmarks"]:
        info = b["extra_info"]
        key = (info["activation"], info["kind"], info["dtype"], info["n"], info["impl"])
        medians[key] = b["stats"]["median"]
    return medians


def speedup_figure(medians, dtype, path, baseline="numpy", impl="fastgrad"):
    """Bars of baseline median / impl median for each activation, kind and size."""
    plt = _pyplot()
    kinds = list(KIND_NAMES.values())
    names = [act.name for act in TABLE]
    sizes = sorted({k[3] for k in medians if k[2] == dtype})
    fig, axes = plt.subplots(1, len(kinds), figsize=(4 * len(kinds), 4.2), sharey=True)
    width = 0.8 / max(len(sizes), 1)
    for ax, kind in zip(axes, kinds, strict=True):
        for j, n in enumerate(sizes):
            ratios = [
                medians.get((a, kind, dtype, n, baseline), np.nan)
                / medians.get((a, kind, dtype, n, impl), np.nan)
                for a in names
            ]
            pos = np.arange(len(names)) + (j - (len(sizes) - 1) / 2) * width
            bars = ax.bar(pos, ratios, width, label=f"n = {n:.0e}")
            ax.bar_label(bars, fmt="%.1f", fontsize=7)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(names)), names)
        ax.set_title(kind)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel(f"speed-up: {baseline} median / {impl} median")
    axes[-1].legend(fontsize=8)
    fig.suptitle(
        f"fastgrad vs the NumPy reference, {dtype} (higher is better). fastgrad: allocating "
        "call, all threads from 32768 elements; NumPy: one thread"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", help="pytest-benchmark JSON (from `make bench`)")
    parser.add_argument("--out", default="plots", help="output folder")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [p for act in TABLE for p in activation_figures(act, out)]
    if args.bench:
        if not pathlib.Path(args.bench).exists():
            sys.exit(f"no benchmark results at {args.bench}: run `make bench` first")
        medians = load_medians(args.bench)
        for dtype in sorted({k[2] for k in medians}):
            written.append(speedup_figure(medians, dtype, out / f"speedup_{dtype}.png"))
    for p in written:
        print(p)


if __name__ == "__main__":
    main()
