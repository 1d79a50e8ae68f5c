"""float16 <-> float32 conversions, for float16 calls computed in float32.

float16 arrays are computed in float32, as NumPy's own ufuncs do, and returned as
float16. Converting whole arrays first would hold a float32 copy of every input and
output at once (``gelu_fwd_grad`` on float16 peaked at 8x its input). Instead each thread
taking part in a call converts one block of ``BLOCK`` elements at a time into float32
buffers of its own (``_run.run_half``) with the conversions here.

The conversions are compiled loops of integer bit operations (``_widen``: exact;
``_narrow``: round to nearest, ties to even, as IEEE 754 and NumPy's ``astype``), which
vectorise on every target; NumPy's own float16 casts ran ~4x slower here, and LLVM's
half-precision conversions need F16C or a runtime-library call on baseline x86-64.
"""

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from . import _jit

# IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits; binary32:
# 8 exponent bits (bias 127), 23 mantissa bits. The conversions are written as LLVM IR on
# 32-bit integers: Numba would widen the same integer code to 64 bits, which halves the
# vector lanes (3-6x slower loops, measured).
_HALF_SIGN, _HALF_MAGNITUDE, _HALF_MANTISSA_BITS = 0x8000, 0x7FFF, 10
_HALF_SMALLEST_NORMAL, _HALF_INF, _HALF_QUIET_NAN = 0x0400, 0x7C00, 0x7E00
_FLOAT_SIGN, _FLOAT_MAGNITUDE, _FLOAT_INF = 0x80000000, 0x7FFFFFFF, 0x7F800000
_SHIFT = 23 - _HALF_MANTISSA_BITS  # mantissa bits binary32 has beyond binary16's
_REBIAS = (127 - 15) << 23  # binary16's exponent field -> binary32's
_HALF_SUBNORMAL_UNIT = 2.0**-24  # the value of a binary16 subnormal's last bit
_FLOAT_ROUNDS_TO_HALF_INF = 0x477FF000  # 65520: the least magnitude rounding to inf
_FLOAT_HALF_SMALLEST_NORMAL = 113 << 23  # 2^-14
# A magnitude below 2^-14 plus 0.5 is rounded by the FPU (to nearest, ties to even) to a
# multiple of 2^-24, binary16's subnormal unit, which lands in the sum's low bits.
_ROUNDER, _ROUNDER_BITS = 0.5, 126 << 23
_I16, _I32, _F32 = ir.IntType(16), ir.IntType(32), ir.FloatType()


def _i32(value):
    return ir.Constant(_I32, value)


def _conversion(source, result):
    """Decorator: ``emit(builder, value)``, which writes the LLVM IR converting one
    ``source`` scalar, as an intrinsic ``converted = name(value)`` of type ``result``."""

    def make(emit):
        @intrinsic
        def convert(typingctx, value):
            if value != source:
                return None

            def codegen(context, builder, signature, args):
                return emit(builder, args[0])

            return result(value), codegen

        convert.__doc__ = emit.__doc__
        return convert

    return make


@_conversion(types.uint16, types.float32)
def _widen(builder, half_bits):
    """The float32 equal to the binary16 number with bits ``half_bits`` (uint16): exact
    (normal, subnormal, zero, inf; NaN keeps its sign and payload)."""
    h = builder.zext(half_bits, _I32)
    sign = builder.shl(builder.and_(h, _i32(_HALF_SIGN)), _i32(16))
    magnitude = builder.and_(h, _i32(_HALF_MAGNITUDE))
    normal = builder.add(builder.shl(magnitude, _i32(_SHIFT)), _i32(_REBIAS))
    inf_nan = builder.add(normal, _i32(_REBIAS))  # exponent 31 -> 255
    tiny = builder.fmul(  # zero or subnormal: its mantissa times 2^-24, exactly
        builder.sitofp(magnitude, _F32), ir.Constant(_F32, _HALF_SUBNORMAL_UNIT)
    )
    bits = builder.select(
        builder.icmp_unsigned("<", magnitude, _i32(_HALF_SMALLEST_NORMAL)),
        builder.bitcast(tiny, _I32),
        builder.select(builder.icmp_unsigned(">=", magnitude, _i32(_HALF_INF)), inf_nan, normal),
    )
    return builder.bitcast(builder.or_(bits, sign), _F32)


@_conversion(types.float32, types.uint16)
def _narrow(builder, value):
    """The bits (uint16) of the binary16 number nearest the float32 ``value``, ties to
    even; beyond binary16's range inf, NaN a quiet NaN of the same sign."""
    f = builder.bitcast(value, _I32)
    sign = builder.lshr(builder.and_(f, _i32(_FLOAT_SIGN)), _i32(16))
    magnitude = builder.and_(f, _i32(_FLOAT_MAGNITUDE))
    huge = builder.select(
        builder.icmp_unsigned(">", magnitude, _i32(_FLOAT_INF)),
        _i32(_HALF_QUIET_NAN),
        _i32(_HALF_INF),
    )
    rounded = builder.fadd(builder.bitcast(magnitude, _F32), ir.Constant(_F32, _ROUNDER))
    tiny = builder.sub(builder.bitcast(rounded, _I32), _i32(_ROUNDER_BITS))
    # normal: drop 13 mantissa bits, adding just under half of the last kept bit, plus
    # one more when that bit is odd: round to nearest, ties to even
    odd = builder.and_(builder.lshr(magnitude, _i32(_SHIFT)), _i32(1))
    biased = builder.add(builder.sub(magnitude, _i32(_REBIAS)), _i32((1 << (_SHIFT - 1)) - 1))
    normal = builder.lshr(builder.add(biased, odd), _i32(_SHIFT))
    bits = builder.select(
        builder.icmp_unsigned(">=", magnitude, _i32(_FLOAT_ROUNDS_TO_HALF_INF)),
        huge,
        builder.select(
            builder.icmp_unsigned("<", magnitude, _i32(_FLOAT_HALF_SMALLEST_NORMAL)),
            tiny,
            normal,
        ),
    )
    return builder.trunc(builder.or_(bits, sign), _I16)


@_jit.kernel
def to_float32(half_bits, out):
    for i in range(out.size):
        out[i] = _widen(half_bits[i])


@_jit.kernel
def to_float16(values, out_half_bits):
    for i in range(out_half_bits.size):
        out_half_bits[i] = _narrow(values[i])
