"""The plotting entry point writes every figure, headless, from a benchmark JSON."""

import json

import matplotlib

from fastgrad import plotting
from fastgrad._table import KIND_NAMES, TABLE

matplotlib.use("Agg")


def _fake_bench_json(path):
    """A pytest-benchmark-shaped file: NumPy twice as slow as fastgrad everywhere."""
    benchmarks = []
    for act in TABLE:
        for kind in KIND_NAMES.values():
            for n in (1000, 100000):
                for impl, median in (("numpy", 2e-6), ("fastgrad", 1e-6)):
                    info = dict(
                        activation=act.name,
                        kind=kind,
                        dtype="float32",
                        n=n,
                        impl=impl,
                    )
                    benchmarks.append({"extra_info": info, "stats": {"median": median}})
    path.write_text(json.dumps({"benchmarks": benchmarks}))


def test_main_writes_every_figure(tmp_path, capsys):
    bench = tmp_path / "bench.json"
    _fake_bench_json(bench)
    plotting.main(["--bench", str(bench), "--out", str(tmp_path / "plots")])
    expected = {f"{a.name}{s}.png" for a in TABLE for s in ("", "_grad")}
    expected.add("speedup_float32.png")
    written = {p.name for p in (tmp_path / "plots").iterdir()}
    assert written == expected
    assert all((tmp_path / "plots" / name).stat().st_size > 5000 for name in written)
    medians = plotting.load_medians(bench)
    assert medians[(TABLE[0].name, "forward", "float32", 1000, "numpy")] == 2e-6
