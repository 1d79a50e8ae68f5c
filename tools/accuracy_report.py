"""The full accuracy sweep: a table and an error-vs-x plot per activation.

    python -m tools.accuracy_report [--size full|reduced] [--out plots]   (make accuracy)

For every activation and parameter set in the table, in float32 and float64: the maximum
error in ulps of fastgrad's forward and derivative against the mpmath oracle (at its
accurate level, and at accuracy="fast" where float32 has fast math of its own, with the
largest error over the fast level's bound), and of the NumPy reference, PyTorch and ONNX
Runtime (forward only; "-" where it has no operator or is not installed) on the same
inputs. Writes
``<out>/accuracy.md`` (the table), ``<out>/accuracy.json`` (the same maxima as numbers,
for the speed-against-error figure) and ``<out>/accuracy_<name>.png``; the sweep is
``harness.accuracy.sweep`` (see there), the ulps ``harness.oracle.ulp_errors``.
"""

import argparse
import json
import pathlib

import numpy as np

from fastgrad._table import TABLE, cases
from fastgrad.plotting import accuracy_figure
from harness.accuracy import FASTGRAD, SWEEP_SIZES, measure
from harness.cases import param_sets

QUANTITIES = ("forward", "derivative")


def _worst(xs, errs):
    """The maximum error over finite x (None where the implementation has none)."""
    if errs is None:
        return None
    return float(np.max(errs[np.isfinite(xs)]))


def _cell(xs, errs):
    """The maximum over finite x, and the non-finite inputs (if any) whose result is a
    wrong NaN or infinity (e.g. -inf*0 = NaN where the limit is 0)."""
    finite = np.isfinite(xs)
    worst = float(np.max(errs[finite]))
    cell = "exact" if worst == 0 else f"{worst:.3g}"
    bad = [f"{x:g}" for x in xs[~finite & np.isinf(errs)]]
    return cell + (f" (wrong at x = {', '.join(bad)})" if bad else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SWEEP_SIZES, default="full")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("plots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    # case label -> dtype -> kind -> implementation -> max ulps over finite x, for the
    # speed-against-error figure (``fastgrad.plotting.tradeoff``)
    worst = {}
    for act in TABLE:
        figures = {}  # file label -> panels: the first parameter set, and each variant
        for index, params in enumerate(param_sets(act)):
            variant = act.variant and params.get(act.variant.param)
            figure = f"{act.name}-{variant}" if variant and variant != act.maths_default() else None
            if index == 0:
                figure = act.name
            for dtype in (np.float32, np.float64):
                variant = act.variant and params.get(act.variant.param)
                fast = dtype == np.float32 and act.fast_math(variant or None) is not None
                levels = ("accurate", "fast") if fast else ("accurate",)
                xs, errors = measure(act, params, dtype, args.size, levels=levels)
                over_bound = errors.pop(FASTGRAD["fast"] + " / bound", None)
                label = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
                case = _case_label(act, params)
                for k, kind in enumerate(QUANTITIES):
                    if case is not None:
                        worst.setdefault(case, {}).setdefault(np.dtype(dtype).name, {})[kind] = {
                            impl: _worst(xs, e[k]) for impl, e in errors.items()
                        }
                    cells = [_cell(xs, errors["fastgrad"][k])]
                    cells.append(
                        f"{_cell(xs, errors[FASTGRAD['fast']][k])} "
                        f"({_worst(xs, over_bound[k]):.2f} of its bound)"
                        if over_bound
                        else "same kernels"
                    )
                    cells += [
                        _cell(xs, errors[i][k]) if i in errors else "not installed"
                        for i in ("numpy", "torch")
                    ]
                    onnx = errors.get("onnxruntime")
                    cells.append("-" if onnx is None or onnx[k] is None else _cell(xs, onnx[k]))
                    rows.append(
                        f"| {act.name} | {label} | {np.dtype(dtype).name} | {kind} | "
                        + " | ".join(cells)
                        + " |"
                    )
                    if figure:
                        figures.setdefault(figure, {})[kind, np.dtype(dtype).name] = (
                            xs,
                            {impl: e[k] for impl, e in errors.items() if e[k] is not None},
                        )
                print(rows[-2], rows[-1], sep="\n", flush=True)
        for figure, panels in figures.items():
            title = act.title + (figure[len(act.name) :] if figure != act.name else "")
            accuracy_figure(title, panels, args.out / f"accuracy_{figure}.png")
    header = [
        f"Maximum error in ulps against mpmath (40 digits) over finite x, {args.size} sweep "
        f"({SWEEP_SIZES[args.size]} points per range; `make accuracy`). Non-finite inputs "
        'whose result is a wrong NaN or infinity are named. fastgrad fast: accuracy="fast", '
        "with its largest error over its bound (2^-20 relative; the accurate bound below the "
        'smallest normal number); "same kernels" where the fast level runs the accurate ones.',
        "",
        "| activation | parameters | dtype | kind | fastgrad | fastgrad fast | NumPy reference "
        "| PyTorch | ONNX Runtime |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    (args.out / "accuracy.md").write_text("\n".join(header + rows) + "\n")
    (args.out / "accuracy.json").write_text(json.dumps(worst, indent=1, sort_keys=True) + "\n")


def _case_label(act, params):
    """The benchmarks' label of this parameter set ("gelu", "gelu-tanh"; ``_table.cases``),
    or None where the benchmarks do not measure it."""
    for case in cases():
        if case.activation is act and case.params == params:
            return case.label
    return None


if __name__ == "__main__":
    main()
