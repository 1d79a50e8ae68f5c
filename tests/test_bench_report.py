"""The benchmark report's target checks (bench/report.py), on made-up medians."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "bench"))

from report import compact, markdown, misses  # noqa: E402

SIZES = [1000, 10_000_000]


def _row(n, **times):
    row = dict(activation="relu", kind="forward", dtype="float32", n=n, numpy=1.0)
    row.update(fastgrad=1.0, fastgrad_out=1.0, torch=2.0, torch_out=2.0, floor=1.0)
    row.update(times)
    return row


def test_a_row_meeting_every_target_misses_none():
    assert misses(_row(1000, fastgrad=0.5, numpy=0.6, torch=1.0), SIZES) == []
    assert misses(_row(10_000_000, fastgrad_out=1.2, floor=1.0), SIZES) == []


def test_each_target_is_checked():
    assert misses(_row(100, fastgrad=3.0), [100, 1000]) == [
        "allocating 1.50x torch",
        "only 0.67x faster than torch",
        "3.00x the NumPy reference",
    ]
    assert misses(_row(10_000_000, fastgrad_out=3.0), SIZES) == [
        "out= 1.50x torch",
        "out= 3.00x floor",
    ]


def test_grad_and_fwd_grad_rows_are_not_targets():
    assert misses(_row(1000, kind="grad", fastgrad=9.0), SIZES) == []


def test_markdown_lists_the_misses():
    key = ("relu", "forward", "float32", 1000)
    medians = {key + ("numpy",): 1e-6, key + ("fastgrad",): 2e-6, key + ("fastgrad_out",): 2e-6}
    text = markdown(medians)
    assert "| relu | forward | float32 | 1e+03 |" in text
    assert "1 rows miss one" in text and "2.00x the NumPy reference" in text
    assert "PyTorch was not installed" in text


def test_compact_gives_one_line_per_activation_at_the_largest_n():
    medians = {}
    for kind in ("forward", "backward"):
        for dtype in ("float32", "float64"):
            key = ("relu", kind, dtype, 10_000_000)
            medians.update({key + ("fastgrad",): 1.0, key + ("fastgrad_out",): 2.0})
            medians[key + ("torch_out",)] = 3.0
            medians[("floor", kind, dtype, 10_000_000, "floor")] = 1.6
    lines = compact(medians).splitlines()
    assert lines[-1] == "| relu | 1.50 | 1.50 | 1.50 | 1.50 | 1.25 | 1.25 | 1.25 | 1.25 |"


def test_input_kind_checks():
    from report import inputs_table

    rows = {
        ("read-only", "gelu", 1000, "writable"): 1.0e-6,
        ("read-only", "gelu", 1000, "read-only"): 1.3e-6,
        ("float16", "gelu", 1000, "float32"): 1.0e-6,
        ("float16", "gelu", 1000, "float16"): 5.0e-6,  # not the largest n: reported only
        ("float16", "gelu", 10_000_000, "float32"): 1.0e-2,
        ("float16", "gelu", 10_000_000, "float16"): 1.6e-2,
    }
    table = inputs_table(rows)
    assert "Input-kind checks: 2 missed" in table
    assert "- read-only gelu n=1e+03: 1.30x writable" in table
    assert "- float16 gelu n=1e+07: 1.60x float32" in table
    rows[("read-only", "gelu", 1000, "read-only")] = 1.1e-6
    rows[("float16", "gelu", 10_000_000, "float16")] = 1.4e-2
    assert "Input-kind checks: 0 missed" in inputs_table(rows)
