"""Error-in-ulps figures of the accuracy sweep (``make accuracy``)."""

import numpy as np

from ._pyplot import pyplot

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
    plt = pyplot()
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
