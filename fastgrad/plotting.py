"""Figures from the activation table and from saved benchmark JSON (matplotlib, headless).

``python -m fastgrad.plotting --bench bench/results/latest.json --out plots`` writes:
- ``<name>.png`` and ``<name>_grad.png`` for every activation (and ``gelu-tanh``, for
  each non-default variant): its curve and its gradient curve, computed by fastgrad
  itself (required parameters take the table's example values, shown in the title);
- ``speedup_<dtype>.png``: the NumPy reference's median time over fastgrad's, per
  activation, kind and size, from the benchmark JSON (``make bench`` writes it);
- ``time_vs_size_<kind>_<dtype>.png``: time per element against n for fastgrad, PyTorch
  and NumPy, with the memory floor (forward and backward).
The accuracy figures (``accuracy_<name>.png``) come from ``make accuracy``.
"""

import argparse
import json
import pathlib
import sys

import numpy as np

from . import _threads
from ._kinds import KINDS
from ._table import cases


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# The x range of each activation's curve (default DEFAULT_PLOT_RANGE): where its shape is.
DEFAULT_PLOT_RANGE = (-10.0, 10.0)
PLOT_RANGES = {
    "hardtanh": (-3.0, 3.0),
    "gelu": (-5.0, 5.0),
    "tanh": (-5.0, 5.0),
    "tanhshrink": (-5.0, 5.0),
    "softshrink": (-3.0, 3.0),
    "hardshrink": (-3.0, 3.0),
}


def activation_figures(case, out_dir):
    """The curve and the gradient curve of one activation case, as two PNG files."""
    import fastgrad as fg

    plt = _pyplot()
    act, params = case.activation, case.params
    lo, hi = PLOT_RANGES.get(act.name, DEFAULT_PLOT_RANGE)
    x = np.linspace(lo, hi, 2001)
    kinks = np.array([k for k in act.kinks_at(params) if lo < k < hi])
    y, dydx = getattr(fg, act.name + "_fwd_grad")(x, **params)
    # Break the gradient curve at its jumps instead of drawing a false vertical segment,
    # and mark the value taken at each kink (the table's convention).
    jumps = np.searchsorted(x, kinks)
    x_grad = np.insert(x, jumps, kinks)
    dydx = np.insert(dydx, jumps, np.nan)
    dydx[np.isin(x_grad, kinks)] = np.nan
    shown = act.title + (
        " (" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")" if params else ""
    )
    paths = []
    # Titles, labels and legends follow the seed article's figures.
    for xs, values, suffix, title, ylabel, label, color in (
        (x, y, "", f"{shown} Activation Function", "Output", act.title, "tab:blue"),
        (
            x_grad,
            dydx,
            "_grad",
            f"Gradient of {shown}",
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
                getattr(fg, act.name + "_grad")(kinks, **params),
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
        path = pathlib.Path(out_dir) / f"{case.label}{suffix}.png"
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
        if "program" in info:  # a whole program's step (bench/test_mlp.py), not a kernel
            continue
        key = (info["activation"], info["kind"], info["dtype"], info["n"], info["impl"])
        medians[key] = b["stats"]["median"]
    return medians


def _ratio_label(value):
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def speedup_figure(medians, dtype, path, baseline="numpy", impl="fastgrad"):
    """Bars of baseline median / impl median for each activation, kind and size."""
    plt = _pyplot()
    kinds = [kind.name for kind in KINDS]
    names = [case.label for case in cases()]
    sizes = sorted({k[3] for k in medians if k[2] == dtype})
    # one wide panel per kind, stacked: 20-odd activations side by side per panel
    fig, axes = plt.subplots(len(kinds), 1, figsize=(0.62 * len(names) + 2, 3.6 * len(kinds)))
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
            ax.bar_label(bars, fmt=_ratio_label, fontsize=6, rotation=90, padding=2)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylabel(f"{baseline} / {impl}")
        ax.set_title(kind)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, ncol=len(sizes))
    fig.suptitle(
        f"fastgrad vs the NumPy reference, {dtype} (higher is better). fastgrad: allocating "
        f"call, all threads from {_threads.PARALLEL_MIN_SIZE} elements "
        f"({_threads.PARALLEL_MIN_SIZE_MEMORY_BOUND} piecewise); NumPy: one thread"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def time_vs_size_figure(medians, kind, dtype, path):
    """Time per element vs n, one panel per activation, with the memory floor of the
    kind: fastgrad (out= and allocating), PyTorch (out= and allocating, when measured),
    ONNX Runtime (out=, forward, when measured) and the NumPy reference. The floor is
    the same data movement with no arithmetic."""
    plt = _pyplot()
    names = [case.label for case in cases()]
    sizes = sorted({k[3] for k in medians if k[2] == dtype})
    cols = 4
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    lines = (
        ("fastgrad_out", "fastgrad out=", dict(color="C0", lw=2)),
        ("fastgrad", "fastgrad", dict(color="C0", lw=1, ls="--")),
        ("torch_out", "torch out=", dict(color="C3", lw=1.5)),
        ("torch", "torch", dict(color="C3", lw=1, ls="--")),
        ("onnxruntime_out", "ONNX Runtime out=", dict(color="C2", lw=1.5)),
        ("numpy", "NumPy reference", dict(color="C1", lw=1)),
    )
    floor = np.array([medians.get(("floor", kind, dtype, n, "floor"), np.nan) for n in sizes])
    for ax, name in zip(axes.flat, names, strict=False):  # spare panels stay empty
        for impl, label, style in lines:
            t = np.array([medians.get((name, kind, dtype, n, impl), np.nan) for n in sizes])
            if np.isfinite(t).any():
                ax.plot(sizes, t / sizes * 1e9, marker="o", ms=3, label=label, **style)
        ax.plot(sizes, floor / sizes * 1e9, color="k", lw=1, ls=":", label="memory floor")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{name} {kind}", fontsize=10)
        ax.set_xlabel("n (elements)")
        ax.set_ylabel("ns per element")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Time per element vs size, {kind}, {dtype} (median, lower is better)")
    fig.tight_layout(rect=(0, 0, 1, 0.985))  # keep the suptitle clear of the top panels
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


IMPL_STYLE = {
    "fastgrad": dict(color="C0", lw=1.4, zorder=3),
    "numpy": dict(color="C1", lw=1.0, zorder=2),
    "torch": dict(color="C3", lw=1.0, zorder=1),
    "onnxruntime": dict(color="C2", lw=1.0, zorder=0),
}


class _SplitScale:
    """x -> u: linear on [-L, L] (60% of the width: roots, kinks and curvature live
    there), logarithmic in |x| from L out to the dtype's largest float (the rest)."""

    LINEAR, SHARE = 40.0, 0.6

    def __init__(self, x_max):
        self.decades = np.log10(x_max / self.LINEAR)

    def __call__(self, x):
        x = np.asarray(x, np.float64)
        a = np.abs(x)
        with np.errstate(divide="ignore"):
            far = self.SHARE + (1 - self.SHARE) * np.log10(a / self.LINEAR) / self.decades
        return np.sign(x) * np.where(a <= self.LINEAR, self.SHARE * a / self.LINEAR, far)

    def label(self, ax):
        candidates = [0.0, 10.0, 20.0] + [10.0**k for k in (10, 30, 100, 300)]
        top = np.log10(self.LINEAR) + self.decades
        ticks = []
        for t in candidates:  # drop labels that would overlap their left neighbour
            if np.log10(max(t, 1)) <= top and (not ticks or self(t) - self(ticks[-1]) > 0.15):
                ticks.append(t)
        ticks = sorted({-t for t in ticks} | set(ticks))
        labels = [f"{t:g}" for t in ticks]
        ax.set_xticks(self(ticks), labels, fontsize=7)


def accuracy_figure(title, panels, path, bound=4.0, clip=(1e-2, 1e4), bins=500):
    """Error in ulps vs x, one panel per (kind, dtype): ``panels`` maps (kind, dtype) to
    (xs, {implementation: errors}). x is drawn linear on [-40, 40] and logarithmic
    beyond, out to the largest floats; each line is the maximum error per bin.
    Errors below clip[0] (exact) sit on the bottom edge, above clip[1] on the top."""
    plt = _pyplot()
    kinds = sorted({k for k, _ in panels}, key=["forward", "derivative"].index)
    dtypes = sorted({d for _, d in panels})
    fig, axes = plt.subplots(
        len(kinds), len(dtypes), figsize=(5.5 * len(dtypes), 3.2 * len(kinds)), squeeze=False
    )
    for (kind, dtype), (xs, errors) in panels.items():
        ax = axes[kinds.index(kind)][dtypes.index(dtype)]
        finite = np.isfinite(xs)
        scale = _SplitScale(float(np.finfo(xs.dtype).max))
        u = scale(xs[finite])
        edges = np.linspace(u.min(), u.max(), bins + 1)
        which = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, bins - 1)
        centres = (edges[:-1] + edges[1:]) / 2
        for impl, errs in errors.items():
            e = np.clip(np.nan_to_num(errs[finite], nan=clip[1], posinf=clip[1]), *clip)
            worst = np.full(bins, np.nan)
            np.fmax.at(worst, which, e)
            label = f"{impl} (max {np.max(errs[finite]):.3g})"
            ax.plot(centres, worst, label=label, **IMPL_STYLE.get(impl, {}))
        ax.axhline(bound, color="k", ls="--", lw=0.8)
        scale.label(ax)
        ax.set_yscale("log")
        ax.set_ylim(clip[0] * 0.8, clip[1] * 1.25)
        ax.set_title(f"{kind}, {dtype}", fontsize=10)
        ax.set_xlabel("x (linear to 40, then logarithmic)")
        ax.set_ylabel("error (ulps)")
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}: error vs x against mpmath (dashed: {bound:g} ulps)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", help="pytest-benchmark JSON (from `make bench`)")
    parser.add_argument("--out", default="plots", help="output folder")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [p for case in cases() for p in activation_figures(case, out)]
    if args.bench:
        if not pathlib.Path(args.bench).exists():
            sys.exit(f"no benchmark results at {args.bench}: run `make bench` first")
        medians = load_medians(args.bench)
        for dtype in sorted({k[2] for k in medians}):
            written.append(speedup_figure(medians, dtype, out / f"speedup_{dtype}.png"))
            for kind in ("forward", "backward"):
                path = out / f"time_vs_size_{kind}_{dtype}.png"
                written.append(time_vs_size_figure(medians, kind, dtype, path))
    for p in written:
        print(p)


if __name__ == "__main__":
    main()
