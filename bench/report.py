"""Print the benchmark's key figures as a Markdown table (medians, one run).

python bench/report.py bench/results/latest.json
"""

import sys

from fastgrad._table import KIND_NAMES, TABLE
from fastgrad.plotting import load_medians


def _time(seconds):
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def markdown(medians):
    sizes = sorted({k[3] for k in medians})
    lines = [
        "| activation | kind | dtype | n | numpy reference | fastgrad | fastgrad out= "
        "| fastgrad 1 thread | speed-up | speed-up out= | speed-up 1 thread |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for act in TABLE:
        for kind in KIND_NAMES.values():
            for dtype in ("float32", "float64"):
                for n in sizes:
                    key = (act.name, kind, dtype, n)
                    try:
                        ref, fast, out = (
                            medians[key + (i,)] for i in ("numpy", "fastgrad", "fastgrad_out")
                        )
                    except KeyError:
                        continue
                    # below the parallel threshold the allocating call is one-threaded
                    one = medians.get(key + ("fastgrad_1thread",), fast)
                    lines.append(
                        f"| {act.name} | {kind} | {dtype} | {n:.0e} | {_time(ref)} | "
                        f"{_time(fast)} | {_time(out)} | {_time(one)} | {ref / fast:.1f}x | "
                        f"{ref / out:.1f}x | {ref / one:.1f}x |"
                    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(load_medians(sys.argv[1])))
