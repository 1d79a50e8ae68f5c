"""Reductions LLVM vectorises: a max and a sum whose order is LLVM's to choose.

LLVM vectorises a floating-point reduction (``total += v`` in a loop) only where the
additions may be reassociated, and a compare-and-select max not at all; fastgrad
compiles without fast-math flags (``fastgrad._jit``). These two are the exceptions, each
one instruction:

- ``maximum(a, b)``: LLVM's ``llvm.maximum`` (IEEE 754-2019 maximum): the larger of a
  and b, NaN where either is NaN, +0 above -0. Unlike a compare-and-select (or
  ``llvm.maxnum``, which drops NaN), LLVM vectorises its reductions with no fast-math
  flag: a row's max runs at the full vector width, and NaN reaches it.
- ``add_any_order(total, v)``: ``total + v`` marked reassociable ('reassoc' on this one
  addition, nothing else): the loop's sum vectorises into several partial sums, added
  at the end. The order is LLVM's (it depends on the CPU's vector width), so callers
  state an error bound that holds in any order, and the same compiled code gives the
  same bits whatever the thread count.
"""

import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def maximum(typingctx, a, b):
    if not (isinstance(a, types.Float) and a == b):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        name = "llvm.maximum.f32" if isinstance(ty, ir.FloatType) else "llvm.maximum.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 2), name)
        return builder.call(fn, args)

    return a(a, b), codegen


@numba.njit(fastmath={"reassoc"}, forceinline=True, error_model="numpy", cache=False)
def add_any_order(total, v):
    return total + v
