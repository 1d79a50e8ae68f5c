"""The benchmark's key figures as Markdown (medians, one run), and the speed targets.

python bench/report.py bench/results/latest.json

Per activation, kind, dtype and n: the NumPy reference, PyTorch (allocating and out=),
fastgrad (allocating, out=, one thread) and the memory floor of that kind (``floors.py``),
then the ratios the targets are stated in. The targets section lists every row that
misses one: fastgrad no slower than PyTorch, allocating and out=; with out= at the
largest n within 1.25x of the floor; at the smallest n at least 2x faster than PyTorch
and no slower than the NumPy reference.
"""

import sys

from fastgrad._table import KIND_NAMES, cases
from fastgrad.plotting import load_medians

FLOOR_FACTOR = 1.25
SMALL_N_TORCH_FACTOR = 2.0


def _time(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def rows(medians):
    """One dict per (activation, kind, dtype, n) with every implementation's median."""
    sizes = sorted({k[3] for k in medians})
    out = []
    for label in (case.label for case in cases()):
        for kind in KIND_NAMES.values():
            for dtype in ("float32", "float64"):
                for n in sizes:
                    key = (label, kind, dtype, n)
                    if key + ("fastgrad",) not in medians:
                        continue
                    row = dict(activation=label, kind=kind, dtype=dtype, n=n)
                    for impl in (
                        "numpy",
                        "fastgrad",
                        "fastgrad_out",
                        "fastgrad_1thread",
                        "torch",
                        "torch_out",
                    ):
                        row[impl] = medians.get(key + (impl,))
                    row["floor"] = medians.get(("floor", kind, dtype, n, "floor"))
                    out.append(row)
    return out


def misses(row, sizes, kinds=("forward", "backward")):
    """The targets this row misses (the issue states them for forward and backward)."""
    found = []
    if row["kind"] not in kinds:
        return found
    fg, fg_out, torch, torch_out = (
        row[k] for k in ("fastgrad", "fastgrad_out", "torch", "torch_out")
    )
    if torch is not None and fg > torch:
        found.append(f"allocating {fg / torch:.2f}x torch")
    if torch_out is not None and fg_out > torch_out:
        found.append(f"out= {fg_out / torch_out:.2f}x torch")
    if row["n"] == max(sizes) and row["floor"] and fg_out > FLOOR_FACTOR * row["floor"]:
        found.append(f"out= {fg_out / row['floor']:.2f}x floor")
    if row["n"] == min(sizes):
        if torch is not None and fg * SMALL_N_TORCH_FACTOR > torch:
            found.append(f"only {torch / fg:.2f}x faster than torch")
        if fg > row["numpy"]:
            found.append(f"{fg / row['numpy']:.2f}x the NumPy reference")
    return found


def compact(medians, n=None):
    """One line per activation at the largest n, with out=: PyTorch's time over
    fastgrad's and fastgrad's over the memory floor, forward and backward, both dtypes."""
    table = rows(medians)
    n = n or max(r["n"] for r in table)
    by_key = {(r["activation"], r["kind"], r["dtype"]): r for r in table if r["n"] == n}
    columns = [(k, d) for k in ("forward", "backward") for d in ("float32", "float64")]
    heads = [f"{'fwd' if k == 'forward' else 'bwd'} f{d[5:]}" for k, d in columns]
    lines = [
        f"n = {n:.0e}, with out=: torch out= / fastgrad out= (above 1: fastgrad faster), "
        "then fastgrad out= / memory floor (1.25 is the target)",
        "",
        "| activation | "
        + " | ".join(f"torch / fg, {h}" for h in heads)
        + " | "
        + " | ".join(f"fg / floor, {h}" for h in heads)
        + " |",
        "|" + "---|" * (1 + 2 * len(columns)),
    ]
    for label in dict.fromkeys(r["activation"] for r in table):
        found = [by_key.get((label, k, d)) for k, d in columns]
        if not all(found):
            continue
        torch = [_ratio(r["torch_out"], r["fastgrad_out"]) for r in found]
        floor = [_ratio(r["fastgrad_out"], r["floor"]) for r in found]
        lines.append(f"| {label} | " + " | ".join(torch + floor) + " |")
    return "\n".join(lines)


def markdown(medians):
    table = rows(medians)
    sizes = sorted({r["n"] for r in table})
    lines = [
        "| activation | kind | dtype | n | numpy | torch | torch out= | fastgrad | "
        "fastgrad out= | fastgrad 1 thread | floor | numpy / fastgrad | torch / fastgrad | "
        "torch out= / fastgrad out= | fastgrad out= / floor |",
        "|" + "---|" * 15,
    ]
    for r in table:
        lines.append(
            f"| {r['activation']} | {r['kind']} | {r['dtype']} | {r['n']:.0e} | "
            + " | ".join(
                _time(r[k])
                for k in (
                    "numpy",
                    "torch",
                    "torch_out",
                    "fastgrad",
                    "fastgrad_out",
                    "fastgrad_1thread",
                    "floor",
                )
            )
            + f" | {_ratio(r['numpy'], r['fastgrad'])} | {_ratio(r['torch'], r['fastgrad'])} | "
            f"{_ratio(r['torch_out'], r['fastgrad_out'])} | "
            f"{_ratio(r['fastgrad_out'], r['floor'])} |"
        )
    missed = [(r, misses(r, sizes)) for r in table]
    missed = [(r, m) for r, m in missed if m]
    lines += ["", f"## Speed targets (forward and backward): {len(missed)} rows miss one", ""]
    if any(r["torch"] is None for r in table):
        lines.append("PyTorch was not installed in this run: its targets are unchecked.\n")
    for r, m in missed:
        lines.append(f"- {r['activation']} {r['kind']} {r['dtype']} n={r['n']:.0e}: {'; '.join(m)}")
    return "\n".join(lines)


if __name__ == "__main__":
    medians = load_medians(sys.argv[1])
    print(compact(medians), markdown(medians), sep="\n\n")
