"""Figures from the activation table and from saved benchmark JSON (matplotlib, headless).

``python -m fastgrad.plotting --bench bench/results/latest.json --out plots`` writes:
- ``<name>.png`` and ``<name>_grad.png`` for every activation (and ``gelu-tanh``, for
  each non-default variant): its curve and its gradient curve, computed by fastgrad
  itself (required parameters take the table's example values, shown in the title);
- ``speedup_<dtype>.png``: the NumPy reference's median time over fastgrad's, per
  activation, kind and size, from the benchmark JSON (``make bench`` writes it);
- ``time_vs_size_<kind>_<dtype>.png``: time per element against n for fastgrad, PyTorch
  and NumPy, with the memory floor (forward and backward);
- with ``--accuracy plots/accuracy.json`` (``make accuracy`` writes it) as well,
  ``speed_accuracy_<kind>_<dtype>.png``: each implementation's time at the largest n
  against its maximum error, one panel per activation.
The accuracy figures (``accuracy_<name>.png``) come from ``make accuracy``.

The figures live in one module each: ``curves`` (the activations), ``speed`` (benchmark
JSON, read by ``results``), ``accuracy`` (the accuracy sweep, drawn by
``tools/accuracy_report.py``), ``tradeoff`` (speed against error).
"""

import argparse
import importlib.util
import json
import pathlib
import sys

from .._table import cases
from .accuracy import accuracy_figure
from .curves import activation_figures
from .results import BenchResults, load_medians
from .speed import speedup_figure, time_vs_size_figure
from .tradeoff import speed_accuracy_figure

__all__ = [
    "BenchResults",
    "accuracy_figure",
    "activation_figures",
    "load_medians",
    "main",
    "speed_accuracy_figure",
    "speedup_figure",
    "time_vs_size_figure",
]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m fastgrad.plotting", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--bench", help="pytest-benchmark JSON (from `make bench`)")
    parser.add_argument("--out", default="plots", help="output folder")
    parser.add_argument("--accuracy", help="max errors in ulps (from `make accuracy`)")
    parser.add_argument(
        "--figures",
        choices=["all", "speed"],
        default="all",
        help="all (default): the activations' curves too; speed: the --bench figures only",
    )
    args = parser.parse_args(argv)
    if importlib.util.find_spec("matplotlib") is None:
        sys.exit("fastgrad.plotting needs matplotlib: pip install 'fastgrad[plot]'")
    for path, made_by in ((args.bench, "make bench"), (args.accuracy, "make accuracy")):
        if path and not pathlib.Path(path).exists():  # before drawing anything
            sys.exit(f"no results at {path}: run `{made_by}` first")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if args.figures == "all":
        written += [p for case in cases() for p in activation_figures(case, out)]
    if args.bench:
        results = BenchResults(args.bench)
        medians = results.kernel_medians()
        errors = _errors(args.accuracy)
        cpu = _cpu(results.machine_info)
        for dtype in sorted({k[2] for k in medians}):
            path = out / f"speedup_{dtype}.png"
            written.append(speedup_figure(medians, dtype, path, cpu=cpu))
            for kind in ("forward", "backward"):
                path = out / f"time_vs_size_{kind}_{dtype}.png"
                written.append(time_vs_size_figure(medians, kind, dtype, path, cpu))
                if errors:
                    path = out / f"speed_accuracy_{kind}_{dtype}.png"
                    written.append(speed_accuracy_figure(medians, errors, dtype, kind, path, cpu))
    for p in written:
        print(p)


def _errors(path):
    """The accuracy JSON's maxima, or None when none was asked for."""
    if not path:
        return None
    return json.loads(pathlib.Path(path).read_text())


def _cpu(machine_info):
    """The CPU a benchmark run measured on, as its JSON records it."""
    brand = machine_info.get("cpu", {}).get("brand_raw", "unknown CPU")
    return f"{brand} (LLVM {machine_info.get('llvm_cpu', '?')})"
