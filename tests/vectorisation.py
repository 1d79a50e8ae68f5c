"""Did LLVM vectorise a compiled kernel? Read from its optimised LLVM IR, which says what
the loop vectoriser did whatever the CPU (x86-64 with or without AVX-512, Intel or AMD,
aarch64): a vectorised loop has a ``vector.body`` block computing on ``<N x float>``
values, and a loop LLVM could not vectorise has none. Instruction ratios in the machine
code depend on each CPU's cost model (AMD's Zen 4 unrolls the scalar remainder more than
Intel's cores), so they are not used.
"""

import re

# Calls a vectorised kernel may make: LLVM intrinsics (fma, fabs, ldexp, memcpy, ...) and
# Numba's runtime (reference counts, the allocation of an input's copy).
_ALLOWED_CALLEE = re.compile(r"@(llvm\.|NRT_)")
# llvm.memcpy and friends, as the machine code calls them (an input's copy, not per element)
_MEMORY_CALLS = {"memcpy", "memmove", "memset"}
_DEFINE = re.compile(r"^define [^@]*@(_ZN\S+?)\(", re.M)
_LABEL = re.compile(r"^([\w.$-]+):", re.M)


def kernel_function(ir):
    """The IR of the kernel's own function (not Numba's CPython or cfunc wrappers)."""
    match = _DEFINE.search(ir)
    if match is None:
        raise ValueError("no kernel function in this IR")
    end = ir.find("\n}\n", match.start())
    return ir[match.start() : end + 2]


def vector_bodies(function, element):
    """The main vector loop bodies (not the epilogues) that compute on vectors of
    ``element`` ('float' or 'double')."""
    labels = list(_LABEL.finditer(function))
    bodies = []
    for label, following in zip(labels, labels[1:] + [None], strict=True):
        # vector.body, vector.body12, vector.body.i (inlined); not vec.epilog.vector.body
        if not label.group(1).startswith("vector.body"):
            continue
        block = function[label.end() : following.start() if following else len(function)]
        if re.search(rf"<(\d+) x {element}>", block):
            bodies.append(label.group(1))
    return bodies


def foreign_calls(function):
    """Callees other than LLVM intrinsics and Numba's runtime: a scalar libm or Numba
    function left in the kernel keeps its loop scalar."""
    callees = re.findall(r"\bcall [^@\n]*(@[\w.$]+)\(", function)
    return sorted({c for c in callees if not _ALLOWED_CALLEE.match(c)})


def machine_code_calls(asm):
    """Functions the kernel's x86-64 machine code calls, besides Numba's runtime: an LLVM
    intrinsic the target has no instruction for becomes a libm call here (``llvm.fma``
    without FMA, ``llvm.ldexp`` without AVX-512), one element at a time. Numba's JIT
    code loads a callee's address (``movabsq $name``) and calls through a register."""
    start = re.search(r"^_ZN\w+:", asm, re.M)
    if start is None:
        return []
    end = asm.find(".Lfunc_end", start.end())
    body = asm[start.end() : end if end >= 0 else len(asm)]
    names = re.findall(r"movabsq\s+\$([A-Za-z_]\w*)", body)
    names += re.findall(r"\bcallq?\s+([A-Za-z_]\w*)", body)
    return sorted({n for n in names if not n.startswith("NRT_") and n not in _MEMORY_CALLS})


def check(ir, element, loops, asm=None):
    """Problems with a kernel whose source has ``loops`` element loops: [] when each has
    its vector body and no call to a scalar function is left, in the IR and (given
    x86-64 ``asm``) in the machine code."""
    function = kernel_function(ir)
    problems = []
    bodies = vector_bodies(function, element)
    if len(bodies) < loops:
        problems.append(f"{len(bodies)} vector loop bodies for {loops} loops")
    calls = foreign_calls(function) + (machine_code_calls(asm) if asm else [])
    if calls:
        problems.append(f"calls {', '.join(calls)}")
    return problems
