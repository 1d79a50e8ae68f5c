"""Speed against error: each implementation one point per activation, so that a user sees
the trade at a glance.

x: the maximum error in ulps over ``make accuracy``'s sweep (``plots/accuracy.json``,
written by ``tools/accuracy_report.py``); y: the median time of the call at the largest n
of a ``make bench`` run (its JSON, read by ``results``), with ``out=`` where the
implementation has it. The forward is paired with the forward's error, the backward with
the derivative's (the backward is grad_out times it). A point at the left and bottom is
both accurate and fast; exact results are drawn at ``EXACT_AT`` ulps.
"""

import math

from .._table import cases
from ._pyplot import pyplot

# (implementation in the accuracy JSON, the benchmark's name of its timed call, label, colour)
IMPLEMENTATIONS = (
    ("fastgrad", "fastgrad_out", "fastgrad", "C0"),
    ("fastgrad fast", "fastgrad_fast_out", 'fastgrad accuracy="fast"', "C9"),
    ("torch", "torch_out", "PyTorch", "C3"),
    ("onnxruntime", "onnxruntime_out", "ONNX Runtime", "C2"),
    ("numpy", "numpy", "NumPy reference", "C1"),
)
# cases whose benchmarked "numpy" call is not the reference whose error ``make accuracy``
# measured (bench/numpy_user.py: SciPy's ndtr for gelu): no NumPy point there
NUMPY_TIMED_WITH_SCIPY = ("gelu",)
# the error of each kind's time: the forward's, and the derivative's for the backward
ERROR_OF_KIND = {"forward": "forward", "backward": "derivative"}
# where an exact implementation (0 ulps) is drawn on the log axis
EXACT_AT = 0.1


def points(medians, accuracy, dtype, n, kind):
    """{case label: [(implementation label, colour, max ulps, seconds)]} of every case and
    implementation that has both an error and a time."""
    out = {}
    for case in cases():
        errors = accuracy.get(case.label, {}).get(dtype, {}).get(ERROR_OF_KIND[kind], {})
        for impl, timed, label, colour in IMPLEMENTATIONS:
            error = errors.get(impl)
            seconds = medians.get((case.label, kind, dtype, n, timed))
            if seconds is None and timed.endswith("_out"):  # no out= form: allocating
                seconds = medians.get((case.label, kind, dtype, n, timed[: -len("_out")]))
            if error is None or seconds is None:
                continue
            if impl == "numpy" and case.label in NUMPY_TIMED_WITH_SCIPY:
                continue
            shown = EXACT_AT if error == 0 else error
            out.setdefault(case.label, []).append((label, colour, shown, seconds))
    return out


def speed_accuracy_figure(medians, accuracy, dtype, kind, path, cpu="unknown CPU"):
    """One panel per activation: time at the run's largest n (y, log) against max ulps (x,
    log). Infinite errors (a wrong inf or NaN at some finite x) are drawn at the right
    edge with an arrow."""
    plt = pyplot()
    n = max(k[3] for k in medians if k[2] == dtype)
    found = points(medians, accuracy, dtype, n, kind)
    names = [c.label for c in cases() if c.label in found]
    cols = 4
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    finite = [e for pts in found.values() for _, _, e, _ in pts if math.isfinite(e)]
    right = max(finite + [10.0]) * 10
    for ax, name in zip(axes.flat, names, strict=False):
        for label, colour, error, seconds in found[name]:
            x = error if math.isfinite(error) else right
            ax.scatter([x], [seconds * 1e3], color=colour, label=label, zorder=3)
            if not math.isfinite(error):
                ax.annotate(
                    "inf", (x, seconds * 1e3), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
        ax.axvline(4.0, color="grey", lw=0.8, ls=":")  # fastgrad's bound
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(EXACT_AT / 2, right * 2)
        ax.set_title(f"{name} {kind}", fontsize=10)
        ax.set_xlabel("max error (ulps; 0.1 = exact)")
        ax.set_ylabel(f"ms at n = {n:.0e}")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names) :]:
        ax.axis("off")
    # one legend for the figure, naming every implementation drawn in any panel (the first
    # panel may lack some: relu has no fast level of its own)
    drawn = {(label, colour) for pts in found.values() for label, colour, _, _ in pts}
    handles = [
        plt.Line2D([], [], ls="", marker="o", color=colour, label=label)
        for _, _, label, colour in IMPLEMENTATIONS
        if (label, colour) in drawn
    ]
    height = fig.get_figheight()
    if handles:  # under the title, clear of it and of the panels
        fig.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - 0.45 / height),
            fontsize=8,
            ncol=len(handles),
        )
    fig.suptitle(
        f"Speed against error, {kind}, {dtype}: lower left is better (dotted: 4 ulps). Times: {cpu}"
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.85 / height))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
