"""Speed figures from saved pytest-benchmark JSON (``make bench``)."""

import numpy as np

from .. import _threads
from .._kinds import KINDS
from .._table import cases
from ._pyplot import pyplot


def _ratio_label(value):
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def speedup_figure(medians, dtype, path, baseline="numpy", impl="fastgrad", cpu="unknown CPU"):
    """Bars of baseline median / impl median for each activation, kind and size."""
    plt = pyplot()
    names = _measured(medians, dtype, baseline)
    kinds = [k.name for k in KINDS if any(m[1] == k.name and m[0] in names for m in medians)]
    sizes = sorted({k[3] for k in medians if k[2] == dtype})
    # one wide panel per kind, stacked: 20-odd activations side by side per panel
    fig, axes = plt.subplots(
        len(kinds), 1, figsize=(0.62 * len(names) + 4, 3.6 * len(kinds) + 0.6), squeeze=False
    )
    axes = axes[:, 0]
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
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 8)  # room above the bars for their labels and the legend
        ax.set_xticks(np.arange(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylabel(f"{baseline} / {impl}")
        ax.set_title(kind)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, ncol=len(sizes), loc="upper center")
    fig.suptitle(
        f"fastgrad vs NumPy as a user writes it (SciPy's ndtr for gelu), {dtype}, higher is "
        f"better\nfastgrad: allocating call, all threads from {_threads.PARALLEL_MIN_SIZE} "
        f"elements ({_threads.PARALLEL_MIN_SIZE_MEMORY_BOUND} piecewise); NumPy: one thread."
        f"\n{cpu}",  # three lines: on two, the second was wider than the figure
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.7 / fig.get_figheight()))  # the title clear
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def time_vs_size_figure(medians, kind, dtype, path, cpu="unknown CPU"):
    """Time per element vs n, one panel per activation, with the memory floor of the
    kind: fastgrad (out= and allocating), PyTorch (out= and allocating, when measured),
    ONNX Runtime (out=, forward, when measured) and the NumPy reference. The floor is
    the same data movement with no arithmetic."""
    plt = pyplot()
    names = _measured(medians, dtype, "fastgrad_out", kind)
    sizes = sorted({k[3] for k in medians if k[2] == dtype})
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    lines = (
        ("fastgrad_out", "fastgrad out=", dict(color="C0", lw=2)),
        ("fastgrad", "fastgrad", dict(color="C0", lw=1, ls="--")),
        ("torch_out", "torch out=", dict(color="C3", lw=1.5)),
        ("torch", "torch", dict(color="C3", lw=1, ls="--")),
        ("onnxruntime_out", "ONNX Runtime out=", dict(color="C2", lw=1.5)),
        ("numpy", "NumPy (SciPy's ndtr for gelu)", dict(color="C1", lw=1)),
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
    # one legend for the figure, under the title: every line any panel drew
    handles = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    fig.legend(
        handles.values(),
        handles.keys(),
        loc="upper center",
        ncol=4,
        fontsize=8,
        bbox_to_anchor=(0.5, 1 - 0.45 / fig.get_figheight()),
    )
    fig.suptitle(f"Time per element vs size, {kind}, {dtype} (median, lower is better). {cpu}")
    top = 1 - 0.75 / fig.get_figheight()  # the title and the legend clear of the panels
    fig.tight_layout(rect=(0, 0, 1, top))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _measured(medians, dtype, impl, kind=None):
    """The table's case labels with a median for ``impl`` in this dtype (and kind), in
    table order: a run of part of the benchmarks (``make bench``'s quick set) draws
    panels for what it measured only."""
    have = {k[0] for k in medians if k[2] == dtype and k[4] == impl and kind in (None, k[1])}
    return [case.label for case in cases() if case.label in have]
