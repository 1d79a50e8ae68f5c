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


def _is_counter(counters, index):
    return (
        isinstance(counters, types.Array)
        and counters.dtype == types.int64
        and counters.ndim == 1
        and isinstance(index, types.Integer)
    )


def _element_pointer(context, builder, signature, args):
    """The address of ``counters[index]`` (the intrinsic's two arguments)."""
    array_type = signature.args[0]
    array = context.make_array(array_type)(context, builder, args[0])
    return cgutils.get_item_pointer(
        context, builder, array_type, array, [args[1]], wraparound=False
    )


def _fetch_add(ordering):
    @intrinsic
    def fetch_add(typingctx, counters, index):
        """counters[index] += 1, atomically; returns the value before the addition."""
        if not _is_counter(counters, index):
            return None

        def codegen(context, builder, signature, args):
            pointer = _element_pointer(context, builder, signature, args)
            one = context.get_constant(types.int64, 1)
            return builder.atomic_rmw("add", pointer, one, ordering)

        return types.int64(counters, index), codegen

    return fetch_add


take_next = _fetch_add("monotonic")
count_done = _fetch_add("acq_rel")


@intrinsic
def read_done(typingctx, counters, index):
    """counters[index], read atomically with acquire order."""
    if not _is_counter(counters, index):
        return None

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        return builder.load_atomic(pointer, "acquire", 8)

    return types.int64(counters, index), codegen
