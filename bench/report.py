"""The benchmark's key figures as Markdown (medians, one run), and the speed targets.

python bench/report.py bench/results/latest.json [bench/results/instructions.json]

Per activation, kind, dtype and n: the NumPy reference, PyTorch (allocating and out=),
ONNX Runtime (forward, allocating and out=), fastgrad (allocating, out=, one thread) and
the memory floor of that kind (``floors.py``), fastgrad's static vector instructions per
element of the kernel's main loop (``instructions.py``, where given), then the ratios
the targets are stated in.
The targets (the speed issue's, forward and backward, with out=, on the same threads):
- for the transcendental activations above the smallest n, and for every backward from
  the output at every n, fastgrad no slower than the fastest peer that has the kernel
  (PyTorch, ONNX Runtime), within ``PEER_NOISE``;
- the piecewise (memory-bound) activations at the largest n within ``FLOOR_FACTOR`` of
  the floor;
- at the smallest n, fastgrad's allocating call at most ``SMALL_N_TORCH_FACTOR`` times
  PyTorch's (the Python layer against PyTorch's dispatcher).
"""

import json
import pathlib
import sys

from fastgrad._kinds import KINDS
from fastgrad._table import cases
from fastgrad.plotting import BenchResults

PEER_NOISE = 1.05
FLOOR_FACTOR = 1.25
SMALL_N_TORCH_FACTOR = 0.5
IMPLS = (
    "numpy",
    "fastgrad",
    "fastgrad_out",
    "fastgrad_fast_out",
    "fastgrad_1thread",
    "torch",
    "torch_out",
    "onnxruntime",
    "onnxruntime_out",
)
PEERS_OUT = ("torch_out", "onnxruntime_out")


def _time(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def rows(medians, instructions=None):
    """One dict per (activation, kind, dtype, n) with every implementation's median (and
    the kernel's vector instructions per element, from ``instructions``)."""
    instructions = instructions or {}
    sizes = sorted({k[3] for k in medians})
    out = []
    for case in cases():
        label = case.label
        for kind in [k.name for k in KINDS]:
            for dtype in ("float32", "float64"):
                for n in sizes:
                    key = (label, kind, dtype, n)
                    if key + ("fastgrad",) not in medians:
                        continue
                    row = dict(activation=label, kind=kind, dtype=dtype, n=n)
                    row["memory_bound"] = case.activation.memory_bound
                    for impl in IMPLS:
                        row[impl] = medians.get(key + (impl,))
                    row["floor"] = medians.get(("floor", kind, dtype, n, "floor"))
                    counted = instructions.get(f"{label} {kind} {dtype}")
                    row["instructions"] = counted and counted["per_element"]
                    out.append(row)
    return out


def best_peer(row):
    """(the fastest peer's out= median, its name), or (None, None) without peers."""
    found = [(row[p], p.removesuffix("_out")) for p in PEERS_OUT if row.get(p) is not None]
    return min(found) if found else (None, None)


def misses(row, sizes, kinds=("forward", "backward", "backward_from_output")):
    """The targets this row misses (the issue states them for forward, backward and the
    backward from the output; the last must match PyTorch at every size, 1e3 included)."""
    found = []
    if row["kind"] not in kinds:
        return found
    fg, fg_out = row["fastgrad"], row["fastgrad_out"]
    from_output = row["kind"] == "backward_from_output"
    best, peer = best_peer(row)
    # the peer is the bar of the transcendental kernels (and of every from-output one);
    # the floor that of the piecewise, memory-bound ones
    peer_bar = from_output or not row["memory_bound"]
    larger = row["n"] > min(sizes) or from_output
    if peer_bar and larger and best is not None and fg_out > PEER_NOISE * best:
        found.append(f"out= {fg_out / best:.2f}x {peer}")
    floor = row["floor"]
    if row["memory_bound"] and row["n"] == max(sizes) and floor and fg_out > FLOOR_FACTOR * floor:
        found.append(f"out= {fg_out / floor:.2f}x floor")
    torch = row["torch"]
    factor = PEER_NOISE if from_output else SMALL_N_TORCH_FACTOR
    if row["n"] == min(sizes) and torch is not None and fg > factor * torch:
        found.append(f"{fg / torch:.2f}x torch's call (target {factor})")
    return found


_SHORT = {"forward": "fwd", "backward": "bwd", "backward_from_output": "bwd from y"}


def compact(medians, sizes=None, kinds=("forward", "backward")):
    """One line per activation: fastgrad out= over the fastest peer's out= at the larger
    sizes (below 1: fastgrad faster), for ``kinds``, both dtypes."""
    table = rows(medians)
    all_sizes = sorted({r["n"] for r in table})
    sizes = sizes or [n for n in all_sizes if n > min(all_sizes)] or all_sizes
    by_key = {(r["activation"], r["kind"], r["dtype"], r["n"]): r for r in table}
    columns = [(k, d, n) for k in kinds for d in ("float32", "float64") for n in sizes]
    heads = [f"{_SHORT[k]} f{d[5:]} {n:.0e}" for k, d, n in columns]
    lines = [
        "fastgrad out= / fastest peer out= (PyTorch or ONNX Runtime; below 1: fastgrad "
        "faster; - : no peer has it)",
        "",
        "| activation | " + " | ".join(heads) + " |",
        "|" + "---|" * (1 + len(columns)),
    ]
    for label in dict.fromkeys(r["activation"] for r in table):
        cells = []
        for k, d, n in columns:
            row = by_key.get((label, k, d, n))
            best = best_peer(row)[0] if row else None
            cells.append(_ratio(row and row["fastgrad_out"], best))
        if any(c != "-" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(medians, instructions=None):
    table = rows(medians, instructions)
    sizes = sorted({r["n"] for r in table})
    lines = [
        "| activation | kind | dtype | n | numpy | torch | torch out= | onnxruntime | "
        "onnxruntime out= | fastgrad | fastgrad out= | fastgrad fast out= | fastgrad 1 thread | "
        "floor | numpy / fastgrad | torch / fastgrad | fastgrad out= / best peer out= | "
        "fastgrad fast out= / best peer out= | "
        "fastgrad out= / floor | fastgrad vector instructions per element |",
        "|" + "---|" * 20,
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
                    "onnxruntime",
                    "onnxruntime_out",
                    "fastgrad",
                    "fastgrad_out",
                    "fastgrad_fast_out",
                    "fastgrad_1thread",
                    "floor",
                )
            )
            + f" | {_ratio(r['numpy'], r['fastgrad'])} | {_ratio(r['torch'], r['fastgrad'])} | "
            f"{_ratio(r['fastgrad_out'], best_peer(r)[0])} | "
            f"{_ratio(r['fastgrad_fast_out'], best_peer(r)[0])} | "
            f"{_ratio(r['fastgrad_out'], r['floor'])} | {r['instructions'] or '-'} |"
        )
    missed = [(r, misses(r, sizes)) for r in table]
    missed = [(r, m) for r, m in missed if m]
    lines += ["", f"## Speed targets (forward, backward, from output): {len(missed)} rows miss one"]
    lines += [""]
    if all(r["torch"] is None for r in table):
        lines.append("PyTorch was not installed in this run: its targets are unchecked.\n")
    for r, m in missed:
        lines.append(f"- {r['activation']} {r['kind']} {r['dtype']} n={r['n']:.0e}: {'; '.join(m)}")
    return "\n".join(lines)


# fastgrad at its defaults may be this much slower than on one thread (noise) in the MLP
# step, and its step's 90th percentile this many times its median.
MLP_NOISE, MLP_TAIL = 1.05, 2.0


def mlp_rows(bench_json):
    """{(setting, shape, activation, impl): extra info plus median} of the MLP benchmarks."""
    return BenchResults(bench_json).program("mlp", ("setting", "shape", "activation", "impl"))


def mlp_table(rows):
    """The MLP step side by side: median and 90th percentile per implementation, the
    activation's share, and the checks fastgrad's threads must pass."""
    if not rows:
        return "No MLP benchmark in this run."
    impls = ("fastgrad", "fastgrad_1thread", "numpy")
    fused = "fastgrad_fused"  # the epilogue (bias + activation) fused; older runs lack it
    cpu = next(iter(rows.values()))["cpu"]
    lines = [
        f"MLP SGD step (bench/test_mlp.py), float32, medians in ms (p90 in brackets); "
        f"activation's share per step in ms (the bias add and its gradient's sum included); "
        f"CPU: {cpu}",
        "",
        "| setting | shape | activation | "
        + " | ".join(f"{i} step" for i in (*impls, fused))
        + " | "
        + " | ".join(f"{i} act" for i in (*impls, fused))
        + " | defaults / 1 thread (step) | 1 thread / defaults (act) | defaults / fused (step) |",
        "|" + "---|" * 14,
    ]
    problems = []
    for setting, shape, activation in dict.fromkeys(k[:3] for k in rows):
        got = [rows.get((setting, shape, activation, i)) for i in impls]
        if not all(got):
            continue
        with_fused = rows.get((setting, shape, activation, fused))
        steps = [f"{r['median'] * 1e3:.2f} ({r['p90'] * 1e3:.2f})" for r in got]
        acts = [f"{r['activation_seconds'] * 1e3:.3f}" for r in got]
        steps.append(
            f"{with_fused['median'] * 1e3:.2f} ({with_fused['p90'] * 1e3:.2f})"
            if with_fused
            else "-"
        )
        acts.append(f"{with_fused['activation_seconds'] * 1e3:.3f}" if with_fused else "-")
        default, one, numpy = got
        step_ratio = default["median"] / one["median"]
        act_ratio = one["activation_seconds"] / default["activation_seconds"]
        fused_ratio = f"{default['median'] / with_fused['median']:.3f}" if with_fused else "-"
        lines.append(
            f"| {setting} | {shape} | {activation} | "
            + " | ".join(steps + acts)
            + f" | {step_ratio:.3f} | {act_ratio:.2f} | {fused_ratio} |"
        )
        name = f"{setting} {shape} {activation}"
        if step_ratio > MLP_NOISE:
            problems.append(f"{name}: defaults {step_ratio:.3f}x the one-thread step")
        if default["median"] > numpy["median"] * MLP_NOISE:
            problems.append(f"{name}: defaults {default['median'] / numpy['median']:.2f}x NumPy's")
        if setting.startswith("busy-core") and default["p90"] > MLP_TAIL * default["median"]:
            problems.append(
                f"{name}: p90 {default['p90'] / default['median']:.2f}x the median "
                f"(NumPy formulas: {numpy['p90'] / numpy['median']:.2f}x)"
            )
    lines += ["", f"MLP checks: {len(problems)} missed", ""]
    lines += [f"- {p}" for p in problems]
    return "\n".join(lines)


# The side-by-side studies: (baseline, variant) and how much slower the variant may be,
# checked at every n or at the largest only: read-only inputs against writable ones (per
# call), float16 against float32, and a fused dense layer in the user's @njit code
# against the same NumPy/fastgrad sequence (the targets of their issues).
STUDIES = {
    "read-only": (("writable", "read-only"), 1.2, "every n"),
    "float16": (("float32", "float16"), 1.5, "largest n"),
    "njit-fused": (("sequence", "fused"), 1.05, "every n"),
    # what fastgrad.torch costs against torch.nn.functional: reported, no target
    "torch-autograd": (("torch", "fastgrad.torch"), float("inf"), "every n"),
}


def studies_rows(bench_json):
    """{(study, function, n, variant): median} of the side-by-side benchmarks."""
    rows = BenchResults(bench_json).program("studies", ("study", "function", "n", "variant"))
    return {key: row["median"] for key, row in rows.items()}


def studies_table(rows):
    """Each study's variant against its baseline: medians, ratio, checks."""
    if not rows:
        return "No side-by-side study in this run."
    lines = [
        "Side by side (bench/test_inputs.py, test_njit.py, test_torch_functions.py): read-only "
        "against writable inputs, float16 against float32 (float32 arrays otherwise, "
        "allocating calls), a fused dense layer in @njit code against the NumPy/fastgrad "
        "sequence (one thread), an autograd step through fastgrad.torch against "
        "torch.nn.functional",
        "",
        "| study | function | n | baseline | variant | variant / baseline |",
        "|---|---|---|---|---|---|",
    ]
    problems = []
    largest = {}
    for study, _, n, _ in rows:
        largest[study] = max(n, largest.get(study, n))
    for study, function, n in dict.fromkeys(k[:3] for k in rows):
        (baseline, variant_name), factor, where = STUDIES[study]
        base, variant = (rows.get((study, function, n, v)) for v in (baseline, variant_name))
        if base is None or variant is None:
            continue
        ratio = variant / base
        lines.append(
            f"| {study} | {function} | {n:.0e} | {_time(base)} | {_time(variant)} | {ratio:.2f} |"
        )
        if ratio > factor and (where == "every n" or n == largest[study]):
            problems.append(f"{study} {function} n={n:.0e}: {ratio:.2f}x {baseline}")
    lines += ["", f"Side-by-side checks: {len(problems)} missed", ""]
    lines += [f"- {p}" for p in problems]
    return "\n".join(lines)


def machine(bench_json):
    """The CPU a run measured (figures are per machine)."""
    info = BenchResults(bench_json).machine_info
    brand = info.get("cpu", {}).get("brand_raw", "unknown CPU")
    return (
        f"Measured on: {brand} (LLVM CPU {info.get('llvm_cpu', '?')}), "
        f"{info.get('cpu', {}).get('count', '?')} CPUs; figures are per machine."
    )


def layer_table(bench_json):
    """The gated activations and PReLU against PyTorch eager (bench/test_layer.py), and
    the feed-forward block's step (bench/test_ffn.py): medians in ms."""
    results = BenchResults(bench_json)
    layer = results.program("layer", ("function", "n", "impl"))
    ffn = results.program("ffn", ("shape", "impl"))
    lines = []
    if layer:
        cpu = next(iter(layer.values()))["cpu"]
        lines += [
            "Gated activations and PReLU, forward + backward, float32, out= "
            f"(bench/test_layer.py), medians in ms; CPU: {cpu}",
            "",
            "| function | n | fastgrad | PyTorch eager | PyTorch / fastgrad |",
            "|---|---|---|---|---|",
        ]
        for function, n in dict.fromkeys(k[:2] for k in layer):
            ours, theirs = layer.get((function, n, "fastgrad")), layer.get((function, n, "torch"))
            if ours is None:
                continue
            them = f"{theirs['median'] * 1e3:.3f}" if theirs else "-"
            ratio = f"{theirs['median'] / ours['median']:.2f}" if theirs else "-"
            lines.append(
                f"| {function} | {n:.0e} | {ours['median'] * 1e3:.3f} | {them} | {ratio} |"
            )
    if ffn:
        cpu = next(iter(ffn.values()))["cpu"]
        lines += [
            "",
            f"Feed-forward block SGD step (bench/test_ffn.py), float32, medians in ms; CPU: {cpu}",
            "",
            "| shape (tokens x F) | fastgrad | NumPy formulas | PyTorch eager |",
            "|---|---|---|---|",
        ]
        for shape in dict.fromkeys(k[0] for k in ffn):
            cells = [ffn.get((shape, impl)) for impl in ("fastgrad", "numpy", "torch")]
            text = [f"{c['median'] * 1e3:.2f}" if c else "-" for c in cells]
            lines.append(f"| {shape} | " + " | ".join(text) + " |")
    return "\n".join(lines) if lines else "No gated-activation or FFN benchmark in this run."


def load_instructions(path):
    """{"<activation> <kind> <dtype>": {"per_element", "bits"}} from instructions.py."""
    return json.loads(pathlib.Path(path).read_text())["kernels"]


if __name__ == "__main__":
    medians = BenchResults(sys.argv[1]).kernel_medians()
    counts = load_instructions(sys.argv[2]) if len(sys.argv) > 2 else None
    print(
        machine(sys.argv[1]),
        mlp_table(mlp_rows(sys.argv[1])),
        studies_table(studies_rows(sys.argv[1])),
        layer_table(sys.argv[1]),
        compact(medians),
        compact(medians, sorted({k[3] for k in medians}), kinds=("backward_from_output",)),
        markdown(medians, counts),
        sep="\n\n",
    )
