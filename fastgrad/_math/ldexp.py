"""ldexp(v, k) = v * 2^k with one rounding (LLVM's llvm.ldexp intrinsic).

With AVX-512, LLVM turns a vector of these into one ``vscalef`` instruction, which
rounds once, also where the result is subnormal (gradual underflow) or overflows.
Elsewhere LLVM may call libm's ldexp per element, which stops vectorisation, so
``exp.py`` uses this only where ``_jit.NATIVE_LDEXP`` says the target has it.
"""

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def ldexp(typingctx, v, k):
    if not (isinstance(v, types.Float) and isinstance(k, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        value, exponent = args
        ty, i32 = value.type, ir.IntType(32)
        name = "llvm.ldexp.f32.i32" if isinstance(ty, ir.FloatType) else "llvm.ldexp.f64.i32"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty, i32]), name)
        if exponent.type.width > 32:  # callers' exponents are far inside int32
            exponent = builder.trunc(exponent, i32)
        elif exponent.type.width < 32:
            exponent = builder.sext(exponent, i32)
        return builder.call(fn, [value, exponent])

    return v(v, k), codegen
