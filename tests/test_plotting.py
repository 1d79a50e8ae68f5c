"""The plotting entry point writes every figure, headless, from a benchmark JSON."""

import json

import matplotlib
import numpy as np

from fastgrad import plotting
from fastgrad._kinds import KINDS
from fastgrad._table import cases
from fastgrad.plotting import speed

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


def test_speed_against_error_pairs_each_time_with_its_error(tmp_path):
    """With the accuracy maxima as well, one figure per kind and dtype; each point pairs
    the forward's time with the forward's error and the backward's with the
    derivative's, an exact result drawn at EXACT_AT."""
    from fastgrad.plotting import tradeoff

    bench = tmp_path / "bench.json"
    _fake_bench_json(bench)
    label = cases()[0].label
    accuracy = {
        case.label: {"float32": {"forward": {"fastgrad": 0.0, "torch": 3.0},
                                 "derivative": {"fastgrad": 2.0, "torch": float("inf")}}}
        for case in cases()
    }  # fmt: skip
    errors = tmp_path / "accuracy.json"
    errors.write_text(json.dumps(accuracy))
    plotting.main(["--bench", str(bench), "--accuracy", str(errors), "--out", str(tmp_path)])
    for kind in ("forward", "backward"):
        assert (tmp_path / f"speed_accuracy_{kind}_float32.png").stat().st_size > 5000
    medians = plotting.load_medians(bench)
    forward = dict(
        (p[0], p[2:])
        for p in tradeoff.points(medians, accuracy, "float32", 100000, "forward")[label]
    )
    backward = dict(
        (p[0], p[2:])
        for p in tradeoff.points(medians, accuracy, "float32", 100000, "backward")[label]
    )
    assert forward == {"fastgrad": (tradeoff.EXACT_AT, 0.9e-6), "PyTorch": (3.0, 1.4e-6)}
    assert backward == {"fastgrad": (2.0, 0.9e-6), "PyTorch": (float("inf"), 1.4e-6)}


def test_the_speed_figures_of_part_of_the_benchmarks_draw_what_was_measured(tmp_path):
    """make bench's quick set: --figures speed draws no curves, and each figure has
    panels for the measured activations only."""
    bench = tmp_path / "bench.json"
    _fake_bench_json(bench)
    data = json.loads(bench.read_text())
    keep = {"relu", "gelu"}
    data["benchmarks"] = [
        b
        for b in data["benchmarks"]
        if b["extra_info"]["activation"] in keep | {"floor"}
        and b["extra_info"]["kind"] in ("forward", "backward")
    ]
    bench.write_text(json.dumps(data))
    out = tmp_path / "quick"
    plotting.main(["--figures", "speed", "--bench", str(bench), "--out", str(out)])
    assert {p.name for p in out.iterdir()} == {
        "speedup_float32.png",
        "time_vs_size_forward_float32.png",
        "time_vs_size_backward_float32.png",
    }
    medians = plotting.load_medians(bench)
    assert speed._measured(medians, "float32", "numpy") == ["relu", "gelu"]


def test_the_command_line_names_itself_and_checks_its_files_before_drawing(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit):
        plotting.main(["--help"])
    assert capsys.readouterr().out.startswith("usage: python -m fastgrad.plotting")
    out = tmp_path / "plots"
    with pytest.raises(SystemExit, match="no results at .*missing.json: run `make bench`"):
        plotting.main(["--bench", str(tmp_path / "missing.json"), "--out", str(out)])
    assert not out.exists()  # nothing drawn before the error
