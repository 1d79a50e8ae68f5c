"""The plotting entry point writes every figure, headless, from a benchmark JSON."""

import json

import matplotlib
import numpy as np

from fastgrad import plotting
from fastgrad._kinds import KINDS
from fastgrad._table import cases

matplotlib.use("Agg")


def _fake_bench_json(path):
    """A pytest-benchmark-shaped file: NumPy twice as slow as fastgrad everywhere."""
    benchmarks = []
    for case in cases():
        for kind in [k.name for k in KINDS]:
            for n in (1000, 100000):
                for impl, median in (
                    ("numpy", 2e-6),
                    ("fastgrad", 1e-6),
                    ("fastgrad_out", 0.9e-6),
                    ("torch", 1.5e-6),
                    ("torch_out", 1.4e-6),
                ):
                    info = dict(
                        activation=case.label,
                        kind=kind,
                        dtype="float32",
                        n=n,
                        impl=impl,
                    )
                    benchmarks.append({"extra_info": info, "stats": {"median": median}})
            for n in (1000, 100000):
                info = dict(activation="floor", kind=kind, dtype="float32", n=n, impl="floor")
                benchmarks.append({"extra_info": info, "stats": {"median": 0.3e-6}})
    path.write_text(json.dumps({"benchmarks": benchmarks}))


def test_main_writes_every_figure(tmp_path, capsys):
    bench = tmp_path / "bench.json"
    _fake_bench_json(bench)
    plotting.main(["--bench", str(bench), "--out", str(tmp_path / "plots")])
    expected = {f"{c.label}{s}.png" for c in cases() for s in ("", "_grad")}
    expected |= {
        "speedup_float32.png",
        "time_vs_size_forward_float32.png",
        "time_vs_size_backward_float32.png",
    }
    written = {p.name for p in (tmp_path / "plots").iterdir()}
    assert written == expected
    assert all((tmp_path / "plots" / name).stat().st_size > 5000 for name in written)
    medians = plotting.load_medians(bench)
    assert medians[(cases()[0].label, "forward", "float32", 1000, "numpy")] == 2e-6


def test_accuracy_figure_draws_every_implementation(tmp_path):
    xs = np.concatenate([np.linspace(-50, 50, 101), [np.inf, -np.inf, np.nan]]).astype(np.float32)
    errors = {"fastgrad": np.full(xs.size, 0.5), "numpy": np.full(xs.size, np.inf)}
    panels = {(k, "float32"): (xs, errors) for k in ("forward", "derivative")}
    path = tmp_path / "accuracy_x.png"
    plotting.accuracy_figure("X", panels, path)
    assert path.stat().st_size > 5000
