"""``python -m fastgrad.compile [names] [--dtypes ...] [--processes N] [--without-epilogue]``:
fill Numba's
on-disk cache with the kernels of the named activations (default: all), on all cores
(see ``fastgrad._compile``)."""

import argparse
import time

from ._compile import compile_kernels
from ._table import ALIASES, BY_NAME


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m fastgrad.compile",
        description="Compile fastgrad's kernels into Numba's on-disk cache, so that later "
        "processes load them in milliseconds instead of compiling on first use.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"activations to compile (default: all): {', '.join([*BY_NAME, *ALIASES])}",
    )
    parser.add_argument(
        "--dtypes",
        nargs="+",
        default=["float32", "float64"],
        choices=["float32", "float64"],
        help="dtypes to compile (default: both; float16 runs the float32 kernels)",
    )
    parser.add_argument(
        "--processes", type=int, default=None, help="worker processes (default: one per core)"
    )
    parser.add_argument(
        "--without-epilogue",
        action="store_true",
        help="leave out the bias epilogue's kernels (f_bias and its relatives)",
    )
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BY_NAME and n not in ALIASES]
    if unknown:
        parser.error(f"unknown activation(s): {', '.join(unknown)}")
    if args.processes is not None and args.processes < 1:
        parser.error("--processes must be at least 1")
    names = [ALIASES.get(n, n) for n in args.names] or None
    start = time.perf_counter()

    def progress(count, total, job):
        name, variant, dtype, level = job
        label = name + (f" ({variant})" if variant else "") + f" {dtype}"
        label += "" if level == "accurate" else f" {level}"
        print(f"[{count}/{total}] {label} ({time.perf_counter() - start:.1f} s)", flush=True)

    done = compile_kernels(
        names, tuple(args.dtypes), args.processes, progress, epilogue=not args.without_epilogue
    )
    print(f"fastgrad: {len(done)} kernel sets ready in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
