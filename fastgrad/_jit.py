"""The one jit policy: every compiled function in fastgrad is made by `scalar` or `kernel`.

Each option is a deliberate choice:

- ``cache=True``: kernels compile once per machine and load in milliseconds afterwards.
  Scalar functions are not cached on their own: they are compiled into (and cached
  with) the kernels that call them.
- ``error_model='numpy'``: a division by zero gives inf/NaN as IEEE says instead of a
  ZeroDivisionError branch, which would stop the loop from vectorising.
- No fast-math flags at all, not even 'contract': LLVM would fuse ``a*b + c`` into an
  FMA only where the product has no other use, so the same scalar code rounded
  differently inside a fused forward-and-derivative loop (where the derivative shares
  products with the forward) than alone: ``f_fwd_grad`` and ``f``/``f_grad`` disagreed in
  the last bit (elu, tanhshrink). Every FMA is written explicitly (``_math.fma``; the
  polynomials' Horner steps too), so results do not depend on the surrounding loop.
  'nnan'/'ninf' would let LLVM delete the NaN and inf handling, 'reassoc' would undo the
  exact range reductions and the round-to-nearest trick in the elementary functions.
- ``boundscheck=False``: loops index 0..n-1 of arrays the wrapper has checked.
- ``nogil=True``: kernels release the GIL, so fastgrad's helper threads and the user's
  own threads run them concurrently.
- No ``parallel=True``: Numba's threading layers spin (omp), abort a forked child (GNU
  OpenMP) or abort on concurrent use (workqueue); ``fastgrad._threads`` says what
  runs large calls on several threads instead.
- ``"prefer-vector-width"="512"`` on the kernels (see ``compile_kernel``): LLVM's x86
  cost model prefers 256-bit vectors even where AVX-512 exists. 512-bit loops ran the
  transcendental kernels 1.2-1.5x faster at 1e7 on an Intel Xeon (Emerald Rapids), and
  1.28-1.65x faster at 1e5 on one thread on an AMD EPYC (Zen 4, whose 512-bit operations
  take two 256-bit passes; relu unchanged, 0.94-1.07x). Numba has no option for it, so a
  hook on its CPU context adds the attribute to the functions that ``compile_kernel``
  compiles, in that thread only; other code is untouched. Targets without 512-bit
  vectors ignore it.
- Compiling is closed after each ``compile_kernel``: a call with argument types that
  were not compiled explicitly raises instead of compiling a 256-bit specialisation on
  the spot. Each kernel has one signature; the wrappers call its compiled entry point
  (``fastgrad._kernels.KernelSet.get``), which takes read-only arrays as well.
- Subnormal results are not flushed: the elementary functions underflow gradually (see
  ``fastgrad._math.exp``), and no FTZ/DAZ mode is set.
"""

import threading
import warnings

import llvmlite.binding as _llvm
import numba
from numba.core import codegen as _numba_codegen
from numba.core import config as _numba_config
from numba.core import cpu as _numba_cpu
from numba.core.caching import NullCache as _NullCache

_COMMON = dict(
    error_model="numpy",
    fastmath=False,
    boundscheck=False,
)


def scalar(fn):
    """Compile a scalar function, inlined into every caller.

    ``forceinline=True`` marks the LLVM function ``alwaysinline``: each scalar compiles
    once per dtype and LLVM inlines it into every loop (a call left in a loop body stops
    vectorisation, and LLVM's cost model alone declines the larger functions).
    Numba's ``inline='always'`` would inline at its own IR level instead, re-running
    type inference on every copy: compiling gelu's 16 kernels took 157 s that way and
    13 s this way, with the same vectorised machine code.
    """
    return numba.njit(cache=False, forceinline=True, **_COMMON)(fn)


def _target():
    """(CPU name, features) Numba compiles for: NUMBA_CPU_NAME / NUMBA_CPU_FEATURES where
    set (features even when empty: the named CPU's own), else the host's. This is Numba's
    own rule (``numba.core.codegen.JITCPUCodegen``)."""
    name = _numba_config.CPU_NAME or _llvm.get_host_cpu_name()
    features = _numba_config.CPU_FEATURES
    if features is None:
        features = _numba_codegen.get_host_cpu_features()
    return name, features


# A vector of llvm.ldexp calls, compiled for the target: one instruction each where the
# target has one (AVX-512's vscalef), else LLVM calls libm's ldexp once per element.
_LDEXP_PROBE = """
declare <16 x float> @llvm.ldexp.v16f32.v16i32(<16 x float>, <16 x i32>)
define <16 x float> @probe(<16 x float> %x, <16 x i32> %k) {
  %r = call <16 x float> @llvm.ldexp.v16f32.v16i32(<16 x float> %x, <16 x i32> %k)
  ret <16 x float> %r
}
"""


def _ldexp_is_native():
    """Does the target compute a vector ldexp without a libm call? Asked of LLVM itself,
    for the CPU Numba compiles for, rather than read from a vendor's feature list."""
    _llvm.initialize_native_target()
    _llvm.initialize_native_asmprinter()
    name, features = _target()
    machine = _llvm.Target.from_default_triple().create_target_machine(
        cpu=name, features=features, opt=2
    )
    module = _llvm.parse_assembly(_LDEXP_PROBE)
    return "ldexp" not in machine.emit_assembly(module)


# Where the target has a vector ldexp (AVX-512: vscalef, Intel and AMD alike), the
# elementary functions scale by 2^k with it (``fastgrad._math.ldexp``); elsewhere (AVX2,
# baseline x86-64, aarch64 NEON) with two multiplications.
NATIVE_LDEXP = _ldexp_is_native()


def kernel(fn, *, cache=True):
    """Compile an array kernel: a serial loop that releases the GIL (threads are
    fastgrad's own, ``fastgrad._threads``, never Numba's ``parallel=True``).

    ``cache=False`` is for inspecting the machine code (Numba cannot show cached code).
    Where Numba finds no writable place for its cache (a read-only install, no
    NUMBA_CACHE_DIR, a read-only home), kernels compile in memory, with one warning.
    """
    global _cache_unavailable
    if cache and not _cache_unavailable:
        try:
            return numba.njit(cache=True, nogil=True, **_COMMON)(fn)
        except RuntimeError as exc:  # Numba: "cannot cache function ...: no locator"
            if "cannot cache" not in str(exc):
                raise
            _cache_unavailable = True
            warnings.warn(
                f"fastgrad: no writable place for Numba's kernel cache ({exc}); kernels "
                "compile in memory in this process. Set NUMBA_CACHE_DIR to a writable "
                "folder to keep them.",
                RuntimeWarning,
                stacklevel=3,
            )
    return numba.njit(cache=False, nogil=True, **_COMMON)(fn)


_cache_unavailable = False


# The LLVM function attribute that lifts the 256-bit preference (harmless without AVX-512).
_PREFER_512 = '"prefer-vector-width"="512"'
_wide = threading.local()


def _install_vector_width_hook():
    """Wrap Numba's per-function attribute hook so that functions compiled inside
    ``compile_kernel`` (the kernel, its parfor gufunc, the inlined scalars) prefer
    512-bit vectors. A Numba without the hook just keeps 256-bit loops."""
    hook = getattr(_numba_cpu.CPUContext, "apply_target_attributes", None)
    if hook is None or getattr(hook, "_fastgrad", False):
        return

    def apply_target_attributes(self, llvm_func, argtypes=None, restype=None):
        hook(self, llvm_func, argtypes, restype)
        if getattr(_wide, "on", False):
            # set.add: llvmlite's AttributeSet.add only knows enum attributes
            set.add(llvm_func.attributes, _PREFER_512)

    apply_target_attributes._fastgrad = True
    _numba_cpu.CPUContext.apply_target_attributes = apply_target_attributes


_install_vector_width_hook()


# One compile at a time, and the check for "already compiled" inside it: two threads
# making the same first call must not both compile, nor close compiling while the other
# still waits on Numba's compiler lock to use it.
compile_lock = threading.RLock()


def compile_kernel(dispatcher, signature):
    """Compile (or load from the cache) ``dispatcher`` for ``signature`` with 512-bit
    vectors preferred; then close compiling again, so that calls with any other argument
    types raise instead of compiling a second, 256-bit specialisation on the spot.

    A cache entry that cannot be loaded (a truncated or overwritten file) is dropped and
    the kernel compiled again and cached afresh, with one warning naming the file. An
    interrupt (Ctrl-C) during the compile raises KeyboardInterrupt, and the next call
    compiles again."""
    with compile_lock:
        if signature in dispatcher.overloads:
            return dispatcher
        try:
            _compile(dispatcher, signature)
        except Exception as exc:
            cache = dispatcher._cache
            if isinstance(cache, _NullCache):
                raise  # no cache: the error is the compiler's, not the cache's
            warnings.warn(
                f"fastgrad: the cached kernel {dispatcher.py_func.__qualname__} in "
                f"{cache.cache_path} could not be loaded ({type(exc).__name__}: {exc}); "
                "compiling it again",
                RuntimeWarning,
                stacklevel=3,
            )
            cache.flush()  # forget the damaged entries; the compile below rewrites them
            _compile(dispatcher, signature)
    return dispatcher


def _compile(dispatcher, signature):
    dispatcher.disable_compile(False)
    _wide.on = True
    try:
        dispatcher.compile(signature)
    finally:
        _wide.on = False
        if dispatcher.signatures:  # (Numba asserts there is one before closing)
            dispatcher.disable_compile()
