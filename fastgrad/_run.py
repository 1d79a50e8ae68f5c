"""Running a compiled kernel: the one place every call that is not a plain serial call
goes through (a serial float32/float64 call is the kernel itself, called directly by the
wrappers).

- ``run_chunked``: a chunked kernel (``_templates``' chunk loops) on the calling thread
  and fastgrad's helpers (``_threads.run_parallel``), after separating inputs that
  partly overlap an output.
- ``run_half``: a float32 serial kernel on float16 arrays, one block at a time through
  float32 buffers (``_half``'s conversions), on one thread or shared among several.
- ``run_repeated_grad_out``: a serial backward kernel whose grad_out is one period of x
  (one value, ``fg.gelu_backward(1.0, x)``, or a row against a matrix), repeated in a
  block-sized buffer instead of an array of x's size, block by block as ``run_half``
  goes.

Both take the kernel's arguments as its serial form does, ``(*inputs, *outputs, a, b)``
(flat, C-contiguous), and return False, writing nothing, when the two outputs of a pair
overlap (the wrapper raises), else True.
"""

import functools

import numpy as np

from . import _jit, _threads
from ._atomics import count_done, take_next
from ._half import to_float16, to_float32


def separate(inputs, outputs):
    """The inputs of a chunked kernel call, each copied if it overlaps an output without
    being the first output itself (an input that *is* it is read by the in-place loops);
    None when the two outputs of a pair overlap. (``np.may_share_memory`` compares
    bounds only: a quarter of a microsecond; the addresses only where it says yes.)"""
    if len(outputs) == 2 and np.may_share_memory(outputs[0], outputs[1]):
        return None
    separated = []
    for arr in inputs:
        for out in outputs:
            if np.may_share_memory(arr, out) and not (out is outputs[0] and _same(arr, out)):
                arr = arr.copy()
                break
        separated.append(arr)
    return separated


def _same(a, b):
    """Same start (the arrays here have the same size, so: the same memory)."""
    return a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def _separated(args, n_out):
    """A serial-form call's ``(*inputs, *outputs, a, b)`` as (inputs, outputs, a, b), the
    inputs ``separate``d from the outputs; None when the two outputs of a pair overlap."""
    arrays, (a, b) = args[:-2], args[-2:]
    outputs = arrays[-n_out:]
    inputs = separate(arrays[:-n_out], outputs)
    return None if inputs is None else (inputs, outputs, a, b)


def run_chunked(kernel, n_out, *args):
    """Call a chunked kernel like a serial one, ``kernel(*inputs, *outputs, a, b)``, on
    ``fastgrad.get_num_threads()`` threads."""
    call = _separated(args, n_out)
    if call is None:
        return False
    inputs, outputs, a, b = call
    _threads.run_parallel(kernel, (*inputs, *outputs, a, b), outputs[0].size, _threads.current)
    return True


# ----------------------------------------------------------------- float16 in blocks
# Each thread taking part in a float16 call converts one block of ``BLOCK`` elements at
# a time into float32 buffers of its own, runs the float32 serial kernel on them and
# rounds the results into the float16 outputs. The blocks are shared among threads as
# the chunks of a float32 call are: each thread takes the next block number from an
# atomic counter. The conversions and kernels release the GIL, so the threads overlap
# everywhere but in the few Python steps per block.

# Elements per block: per block the Python steps cost a few microseconds, a 2^16-element
# block's kernel and conversions tens of them; the float32 buffers (256 KiB per array)
# stay in a core's L2 cache.
BLOCK = 1 << 16


@_jit.kernel
def _take(counters, index):
    return take_next(counters, index)


@_jit.kernel
def _count_block(counters):
    return count_done(counters, 1)


def _block(kernel, n_in, arrays, buffers, start, stop, a, b):
    """Elements start:stop of a float16 call (``arrays``: its inputs and outputs as uint16
    bits), through the float32 ``buffers``."""
    views = [buffer[: stop - start] for buffer in buffers]
    for array, view in zip(arrays[:n_in], views, strict=False):
        to_float32(array[start:stop], view)
    kernel(*views, a, b)
    for array, view in zip(arrays[n_in:], views[n_in:], strict=True):
        to_float16(view, array[start:stop])


def _blocks(run_block, buffers, seats, *args):
    """What each thread of a call run in blocks runs: ``args`` are the inputs and outputs,
    the slots a, b, then the counters and the block size (the chunked-kernel protocol of
    ``run_parallel``). Each thread takes a seat (``buffers[seat]``: its buffers, allocated
    by the caller beforehand, so no helper can fail) and calls ``run_block(arrays, own
    buffers, start, stop, a, b)`` for each block it takes. True when this thread finished
    the last block."""
    *arrays, a, b, counters, block = args
    n = arrays[-1].size
    own = buffers[_take(seats, 0)]
    last = False
    while True:
        start = _take(counters, 0) * block
        if start >= n:
            return last
        run_block(arrays, own, start, min(start + block, n), a, b)
        last = _count_block(counters) == (n - 1) // block


def _in_blocks(run_block, buffers, arrays, n, threads, a, b, block=None):
    """Run ``run_block`` over the n elements of ``arrays``, ``block`` elements at a time
    (None: ``BLOCK``, read when called), on the calling thread alone or shared among
    ``threads`` (one row of ``buffers`` each)."""
    block = block or BLOCK
    if threads == 1:
        for start in range(0, n, block):
            run_block(arrays, buffers[0], start, min(start + block, n), a, b)
        return
    step = functools.partial(_blocks, run_block, buffers, np.zeros(1, np.int64))
    _threads.run_parallel(step, (*arrays, a, b), n, threads, block)


def run_half(kernel, n_out, threads, *args):
    """Call the float32 serial ``kernel`` like a kernel of float16 arrays,
    ``(*inputs, *outputs, a, b)``, on ``threads`` threads. A call allocates, per thread,
    one float32 buffer per array of a block's size."""
    call = _separated(args, n_out)
    if call is None:
        return False
    inputs, outputs, a, b = call
    n = outputs[0].size
    threads = min(threads, -(-n // BLOCK)) or 1
    buffers = np.empty((threads, len(inputs) + len(outputs), min(BLOCK, n)), np.float32)
    bits = [array.view(np.uint16) for array in (*inputs, *outputs)]
    _in_blocks(functools.partial(_block, kernel, len(inputs)), buffers, bits, n, threads, a, b)
    return True


# ------------------------------------------------------- a grad_out repeated in blocks


def _repeated_block(kernel, arrays, repeated, start, stop, a, b):
    """Elements start:stop of a backward call whose grad_out is ``repeated``'s value."""
    x, out = arrays
    kernel(repeated[: stop - start], x[start:stop], out[start:stop], a, b)


def run_repeated_grad_out(kernel, threads, grad_out, x, out, a, b):
    """Call the serial backward ``kernel(grad_out, x, out, a, b)`` with ``grad_out`` one
    period of x's elements in C order, standing for x's size: one element
    (``fg.gelu_backward(1.0, x)``), or a row of x's trailing axes (a bias-shaped gradient
    against a matrix). On ``threads`` threads, each repeats it in a buffer of one block (a
    whole number of periods, so every block starts on one), never an array of x's size.
    The same bits as the kernel on the repeated array: each element goes through the
    same loop body."""
    (x,) = separate([x], [out])  # a block must not read what an earlier one wrote
    n, period = out.size, grad_out.size
    block = period * max(1, BLOCK // period)
    threads = min(threads, -(-n // block)) or 1
    repeated = np.tile(grad_out.astype(out.dtype, copy=False), min(block, n) // period)
    buffers = np.broadcast_to(repeated, (threads, repeated.size))  # read only: one copy
    _in_blocks(
        functools.partial(_repeated_block, kernel), buffers, (x, out), n, threads, a, b, block
    )
    return True
