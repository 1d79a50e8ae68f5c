"""Atomic counters for compiled code: how the threads of one parallel call share its work.

A parallel call cuts its arrays into chunks; every thread taking part runs the same
compiled loop, which takes the next chunk number with ``take_next`` until none is left,
and counts each finished chunk with ``count_done`` (``fastgrad._threads``). Both are single
LLVM ``atomicrmw add`` instructions on an element of an int64 array (``lock xadd`` on
x86-64, ``ldadd``/an exclusive-load loop on aarch64), so taking a chunk costs nanoseconds
and no lock.

Memory order: ``take_next`` only needs atomicity ('monotonic'); ``count_done`` is
'acq_rel' and ``read_done`` 'acquire', so that a thread that sees the last chunk counted
also sees every other thread's writes to the output.
"""

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _counter_op(emit, doc):
    """An intrinsic ``op(counters, index)`` on ``counters[index]`` (an int64 array's
    element) returning an int64: ``emit(builder, pointer, context)`` writes the one
    atomic instruction."""

    @intrinsic
    def op(typingctx, counters, index):
        if not (
            isinstance(counters, types.Array)
            and counters.dtype == types.int64
            and counters.ndim == 1
            and isinstance(index, types.Integer)
        ):
            return None

        def codegen(context, builder, signature, args):
            array_type = signature.args[0]
            array = context.make_array(array_type)(context, builder, args[0])
            pointer = cgutils.get_item_pointer(
                context, builder, array_type, array, [args[1]], wraparound=False
            )
            return emit(builder, pointer, context)

        return types.int64(counters, index), codegen

    op.__doc__ = doc
    return op


def _fetch_add(ordering):
    def emit(builder, pointer, context):
        return builder.atomic_rmw("add", pointer, context.get_constant(types.int64, 1), ordering)

    return _counter_op(emit, "counters[index] += 1, atomically; the value before it.")


take_next = _fetch_add("monotonic")
count_done = _fetch_add("acq_rel")
read_done = _counter_op(
    lambda builder, pointer, context: builder.load_atomic(pointer, "acquire", 8),
    "counters[index], read atomically with acquire order.",
)
