"""Static vector instructions per element of every kernel's main loop, from its machine
code: a figure that does not move with machine noise (the speed issue compares it with
XNNPACK's ~17 instructions per 16 floats for its AVX-512 sigmoid).

python bench/instructions.py bench/results/instructions.json   (``make bench`` runs it)

Each serial kernel is compiled afresh for this CPU (Numba shows no code of cached
kernels) with fastgrad's jit policy, in worker processes. In its x86-64 assembly the main
loop of an element loop is a single basic block that jumps back to itself using the
widest vector registers; per element = the block's instructions over the elements one
pass handles (vector lanes times the stores to the output, over the outputs per element).
Where a kernel has several element loops (in place or not) they are the same body: the
smallest count is taken. x86-64 only (the register names); elsewhere it writes nothing.
"""

import json
import multiprocessing
import platform
import re
import sys
from concurrent.futures import ProcessPoolExecutor

_LABEL = re.compile(r"^(\.LBB\w+):")
_JUMP = re.compile(r"^\s*j\w+\s+(\.LBB\w+)")
_STORE = re.compile(r"^\s*vmov\w*\s+%(zmm|ymm|xmm)\d+,\s*-?\w*\(")


def _blocks(asm):
    """(label, instruction lines) of each basic block that ends with a jump to itself."""
    found, label, body = [], None, []
    for line in asm.splitlines():
        text = line.split("#")[0].rstrip()
        if not text.strip():
            continue
        start = _LABEL.match(text.strip())
        if start:
            label, body = start.group(1), []
            continue
        if text.strip().startswith("."):
            continue  # assembler directives
        body.append(text.strip())
        jump = _JUMP.match(text)
        if jump and label is not None and jump.group(1) == label:
            found.append((label, list(body)))
    return found


def per_element(asm, element_bytes, n_out):
    """(vector instructions per element, register width in bits) of the kernel's main
    loops (the widest), or None where no vector loop is found."""
    best = None
    for _, body in _blocks(asm):
        widths = [
            w
            for w, reg in ((512, "%zmm"), (256, "%ymm"), (128, "%xmm"))
            if any(reg in i for i in body)
        ]
        if not widths:
            continue
        width = widths[0]
        reg = {512: "zmm", 256: "ymm", 128: "xmm"}[width]
        stores = sum(1 for i in body if (m := _STORE.match(i)) and m.group(1) == reg)
        vector = sum(1 for i in body if re.search(r"%[xyz]mm", i))
        if not stores:
            continue
        elements = width // 8 // element_bytes * stores / n_out
        candidate = (width, -vector / elements)
        if best is None or candidate > best[0]:
            best = (candidate, vector / elements, width)
    return None if best is None else (round(best[1], 2), best[2])


def _measure(name, variant, dtype, level="accurate"):
    import numpy as np

    from fastgrad._kernels import KernelSet
    from fastgrad._kinds import BY_KIND_NAME
    from fastgrad._table import BY_NAME

    kernels = KernelSet(BY_NAME[name], np.dtype(dtype), cache=False, variant=variant, level=level)
    out = {}
    for kind in kernels.names():
        dispatcher = kernels.dispatcher(kind, False)
        asm = dispatcher.inspect_asm(dispatcher.signatures[0])
        found = per_element(asm, np.dtype(dtype).itemsize, BY_KIND_NAME[kind].outputs)
        if found:
            label = (
                name if variant in (None, BY_NAME[name].maths_default()) else f"{name}-{variant}"
            )
            label += "" if level == "accurate" else f" {level}"
            out[f"{label} {kind} {dtype}"] = {"per_element": found[0], "bits": found[1]}
    return out


def measure_all(processes=2):
    from fastgrad._table import TABLE

    jobs = [
        (a.name, v, d, "accurate") for a in TABLE for v in a.maths() for d in ("float32", "float64")
    ]
    # the fast accuracy level's own kernels (float32, where the row has fast math), labelled
    # "<activation> fast <kind> float32"
    jobs += [(a.name, v, "float32", "fast") for a in TABLE for v in a.maths() if a.fast_math(v)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        results = pool.map(_measure, *zip(*jobs, strict=True))
    merged = {}
    for r in results:
        merged.update(r)
    return merged


if __name__ == "__main__":
    if platform.machine() not in ("x86_64", "AMD64"):
        print("instructions.py: x86-64 assembly only; skipped")
        sys.exit(0)
    import llvmlite.binding as llvm

    counts = measure_all()
    data = {"llvm_cpu": llvm.get_host_cpu_name(), "kernels": counts}
    with open(sys.argv[1], "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    print(f"{len(counts)} kernels written to {sys.argv[1]}")
