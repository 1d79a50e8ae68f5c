"""Polynomials with constant coefficients, as straight-line scalar code."""

from .._jit import scalar
from .fma import fma


def polynomial(coeffs):
    """p(x) = coeffs[0]*x^(n-1) + ... + coeffs[n-1] (highest degree first), by Horner's rule
    with an FMA per step.

    The evaluation is generated as straight-line code with the coefficients as constants:
    a loop over a tuple can survive into the kernel (LLVM does not always unroll a long
    one inside a large body), and a loop inside the element loop stops vectorisation.
    """
    lines = ["def p(x):", "    acc = c0"]
    lines += [f"    acc = fma(acc, x, c{i})" for i in range(1, len(coeffs))]
    lines.append("    return acc")
    namespace = {"fma": fma, **{f"c{i}": c for i, c in enumerate(coeffs)}}
    exec("\n".join(lines), namespace)  # noqa: S102 (generated from constants only)
    return scalar(namespace["p"])
