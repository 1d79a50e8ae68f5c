"""Where fastgrad and PyTorch disagree, and the mpmath oracle's verdict: plots/parity.md.

python -m tools.parity_report --out plots     (``make accuracy`` runs it)

For each activation, parameter set, dtype and kind: how many of the parity inputs
(``harness/parity.py``) disagree by more than 8 ulps, over which x, and the worst error of each
side there in ulps of the truth.
"""

import argparse
import pathlib
import sys

import numpy as np

from harness.cases import cases
from harness.parity import compare


def _ranges(xs):
    """The disagreeing x as a short description: sign-separated min..max of |x|."""
    parts = []
    for sign, sel in (("x < 0", xs < 0), ("x >= 0", xs >= 0)):
        if sel.any():
            a = np.abs(xs[sel])
            parts.append(f"{sign}: |x| in [{a.min():.3g}, {a.max():.3g}]")
    return "; ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="plots")
    args = parser.parse_args(argv)
    lines = [
        "# fastgrad vs PyTorch: where they disagree (> 8 ulps), and who is right",
        "",
        "Inputs: 3000 uniform in [-12, 12], 1000 in [-100, 100], 1000 standard normal, "
        "+-1e-30..1e4 log-spaced, +-0, each kink and its neighbours (`harness/parity.py`). "
        "Errors in ulps of the mpmath truth at the disagreeing points; "
        "`python -m tools.parity_report` writes this file.",
        "",
        "| activation | params | dtype | kind | points | where | fastgrad max ulps | "
        "torch max ulps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for act, params, _ in cases():
        for dtype in (np.float32, np.float64):
            found = compare(act, params, dtype)
            if found is None:
                sys.exit("PyTorch is not installed: no parity report")
            for kind, (xs, ours, theirs) in found.items():
                if xs.size == 0:
                    continue
                label = ", ".join(f"{k}={v}" for k, v in params.items()) or "-"
                lines.append(
                    f"| {act.name} | {label} | {np.dtype(dtype).name} | {kind} | {xs.size} | "
                    f"{_ranges(xs)} | {ours.max():.3g} | {theirs.max():.3g} |"
                )
    path = pathlib.Path(args.out) / "parity.md"
    path.write_text("\n".join(lines) + "\n")
    print(path)


if __name__ == "__main__":
    main()
