"""fma(a, b, c) = a*b + c with one rounding (LLVM's llvm.fma intrinsic, vectorisable).

Used to recover the exact rounding error of a product: with p = a*b rounded,
fma(a, b, -p) is exactly a*b - p.
"""

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        name = "llvm.fma.f32" if isinstance(ty, ir.FloatType) else "llvm.fma.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3), name)
        return builder.call(fn, args)

    return a(a, b, c), codegen
