"""The benchmark report's target checks (bench/report.py), on made-up medians."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / "bench"))

from report import compact, markdown, misses  # noqa: E402

SIZES = [1000, 10_000_000]


def _row(n, **times):
    row = dict(activation="relu", kind="forward", dtype="float32", n=n, numpy=1.0)
    row.update(fastgrad=1.0, fastgrad_out=1.0, torch=2.0, torch_out=2.0, floor=1.0)
    row.update(onnxruntime=None, onnxruntime_out=None, memory_bound=True)
    row.update(times)
    return row


def test_a_row_meeting_every_target_misses_none():
    assert misses(_row(1000, fastgrad=0.5, torch=1.0), SIZES) == []
    assert misses(_row(10_000_000, fastgrad_out=1.2, floor=1.0), SIZES) == []
    assert misses(_row(100_000, fastgrad_out=2.09, torch_out=2.0), SIZES) == []  # noise


def test_each_target_is_checked():
    assert misses(_row(1000, fastgrad=3.0), SIZES) == ["1.50x torch's call (target 0.5)"]
    assert misses(_row(10_000_000, fastgrad_out=3.0), SIZES) == ["out= 3.00x floor"]
    assert misses(_row(10_000_000, fastgrad_out=3.0, memory_bound=False), SIZES) == [
        "out= 1.50x torch"
    ]
    # the fastest peer is the bar of the smooth ones, the floor of the memory-bound ones
    row = _row(10_000_000, fastgrad_out=3.0, onnxruntime_out=1.5, memory_bound=False)
    assert misses(row, SIZES) == ["out= 2.00x onnxruntime"]
    row = _row(10_000_000, fastgrad_out=1.2, onnxruntime_out=0.5, floor=1.0)
    assert misses(row, SIZES) == []
    # from the output: PyTorch is the bar at every size, the smallest included
    row = _row(1000, kind="backward_from_output", fastgrad_out=1.5, torch_out=1.0, torch=0.9)
    assert misses(row, SIZES) == ["out= 1.50x torch", "1.11x torch's call (target 1.05)"]


def test_grad_and_fwd_grad_rows_are_not_targets():
    assert misses(_row(1000, kind="grad", fastgrad=9.0), SIZES) == []


def test_markdown_lists_the_misses():
    key = ("relu", "forward", "float32", 1000)
    medians = {key + ("numpy",): 1e-6, key + ("fastgrad",): 2e-6, key + ("fastgrad_out",): 2e-6}
    medians[key + ("torch",)] = 1e-6
    text = markdown(medians)
    assert "| relu | forward | float32 | 1e+03 |" in text
    assert "1 rows miss one" in text and "2.00x torch's call" in text


def test_markdown_says_when_torch_is_missing():
    key = ("relu", "forward", "float32", 1000)
    text = markdown({key + ("fastgrad",): 2e-6, key + ("fastgrad_out",): 2e-6})
    assert "PyTorch was not installed" in text


def test_compact_gives_fastgrad_over_the_fastest_peer_at_the_larger_sizes():
    medians = {}
    for kind in ("forward", "backward"):
        for dtype in ("float32", "float64"):
            for n in (1000, 100_000, 10_000_000):
                key = ("gelu", kind, dtype, n)
                medians.update({key + ("fastgrad",): 1.0, key + ("fastgrad_out",): 2.0})
                medians[key + ("torch_out",)] = 4.0
                if kind == "forward" and dtype == "float32":
                    medians[key + ("onnxruntime_out",)] = 2.5
    lines = compact(medians).splitlines()
    assert "fwd f32 1e+05" in lines[2] and "1e+03" not in lines[2]
    assert lines[-1] == "| gelu | 0.80 | 0.80 | 0.50 | 0.50 | 0.50 | 0.50 | 0.50 | 0.50 |"


def test_side_by_side_checks():
    from report import studies_table

    rows = {
        ("read-only", "gelu", 1000, "writable"): 1.0e-6,
        ("read-only", "gelu", 1000, "read-only"): 1.3e-6,
        ("float16", "gelu", 1000, "float32"): 1.0e-6,
        ("float16", "gelu", 1000, "float16"): 5.0e-6,  # not the largest n: reported only
        ("float16", "gelu", 10_000_000, "float32"): 1.0e-2,
        ("float16", "gelu", 10_000_000, "float16"): 1.6e-2,
        ("njit-fused", "gelu", 65536, "sequence"): 1.0e-3,
        ("njit-fused", "gelu", 65536, "fused"): 1.1e-3,
    }
    table = studies_table(rows)
    assert "Side-by-side checks: 3 missed" in table
    assert "- read-only gelu n=1e+03: 1.30x writable" in table
    assert "- float16 gelu n=1e+07: 1.60x float32" in table
    assert "- njit-fused gelu n=7e+04: 1.10x sequence" in table
    rows[("read-only", "gelu", 1000, "read-only")] = 1.1e-6
    rows[("float16", "gelu", 10_000_000, "float16")] = 1.4e-2
    rows[("njit-fused", "gelu", 65536, "fused")] = 1.0e-3
    assert "Side-by-side checks: 0 missed" in studies_table(rows)


def test_markdown_shows_the_kernels_vector_instructions_per_element():
    key = ("relu", "forward", "float32", 1000)
    medians = {key + ("fastgrad",): 1e-6, key + ("fastgrad_out",): 1e-6}
    counts = {"relu forward float32": {"per_element": 0.31, "bits": 512}}
    line = next(x for x in markdown(medians, counts).splitlines() if x.startswith("| relu"))
    assert line.endswith("| 0.31 |")


def test_instruction_counting_finds_the_main_loop():
    """On a made-up x86-64 loop: 16 floats per zmm, one store, 5 vector instructions."""
    from instructions import per_element

    asm = """
    vmovups (%rdi), %zmm0
.LBB0_3:
    vmovups (%rsi,%rax,4), %zmm1
    vmulps %zmm0, %zmm1, %zmm1
    vaddps %zmm0, %zmm1, %zmm1
    vfmadd213ps %zmm0, %zmm1, %zmm1
    vmovups %zmm1, (%rdx,%rax,4)
    addq $16, %rax
    jne .LBB0_3
.LBB0_4:
    vmovss (%rsi), %xmm1
    vmovss %xmm1, (%rdx)
    jne .LBB0_4
"""
    assert per_element(asm, 4, 1) == (round(5 / 16, 2), 512)
    assert per_element(asm, 4, 2) == (round(5 / 8, 2), 512)
