"""``python -m fastgrad.compile``: fill Numba's on-disk cache with every kernel, on all
cores (see ``fastgrad._compile``)."""

import time

from ._compile import compile_kernels

if __name__ == "__main__":
    start = time.perf_counter()
    done = compile_kernels()
    print(f"fastgrad: {len(done)} kernel sets ready in {time.perf_counter() - start:.1f} s")
