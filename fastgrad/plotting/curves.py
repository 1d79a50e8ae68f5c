"""Each activation's curve and gradient curve, computed by fastgrad itself."""

import pathlib

import numpy as np

from ._pyplot import pyplot


def activation_figures(case, out_dir):
    """The curve and the gradient curve of one activation case, as two PNG files."""
    import fastgrad as fg

    plt = pyplot()
    act, params = case.activation, case.params
    lo, hi = act.plot_range  # where its shape is
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
