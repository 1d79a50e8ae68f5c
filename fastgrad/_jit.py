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

import contextlib
import os
import signal
import sys
import threading
import time
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


# The options of every function compiled inline into its callers: fastgrad's scalar
# functions, and its @njit overloads (``_numba``) inside the user's code.
INLINE_OPTIONS = dict(forceinline=True, **_COMMON)


def scalar(fn):
    """Compile a scalar function, inlined into every caller.

    ``forceinline=True`` marks the LLVM function ``alwaysinline``: each scalar compiles
    once per dtype and LLVM inlines it into every loop (a call left in a loop body stops
    vectorisation, and LLVM's cost model alone declines the larger functions).
    Numba's ``inline='always'`` would inline at its own IR level instead, re-running
    type inference on every copy: compiling gelu's 16 kernels took 157 s that way and
    13 s this way, with the same vectorised machine code.
    """
    return numba.njit(cache=False, **INLINE_OPTIONS)(fn)


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
            return _guarded(numba.njit(cache=True, nogil=True, **_COMMON)(fn))
        except RuntimeError as exc:  # Numba: "cannot cache function ...: no locator"
            if "cannot cache" not in str(exc):
                raise
            _cache_unavailable = True
            where = os.environ.get("NUMBA_CACHE_DIR")
            advice = (
                f"NUMBA_CACHE_DIR ({where}) cannot be written: point it at a writable folder"
                if where
                else "Set NUMBA_CACHE_DIR to a writable folder"
            )
            warnings.warn(
                f"fastgrad: no writable place for Numba's kernel cache ({exc}); kernels "
                f"compile in memory in this process. {advice} to keep them.",
                RuntimeWarning,
                stacklevel=3,
            )
    return _guarded(numba.njit(cache=False, nogil=True, **_COMMON)(fn))


_cache_unavailable = False


def _guarded(dispatcher):
    """The dispatcher, its compiles and cache loads made in the ``compiling`` section
    (Ctrl-C held, Numba repaired after an interrupt), also those Numba starts itself on
    a first call (the small helpers of ``_threads``, ``_run`` and ``_half``)."""
    unguarded = dispatcher.compile

    def compile(signature):
        with compiling():
            return unguarded(signature)

    dispatcher.compile = compile
    return dispatcher


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


def _hold_compiles_across_fork():
    """A fork waits for a compile under way to finish (the child would otherwise inherit
    the lock held by a thread that does not exist there, and Numba's and LLVM's state
    half-changed): the forking thread takes the compile lock before the fork and both
    processes release it after."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(
            before=compile_lock.acquire,
            after_in_parent=compile_lock.release,
            after_in_child=compile_lock.release,
        )


_hold_compiles_across_fork()


@contextlib.contextmanager
def _interrupts_held():
    """Ctrl-C (SIGINT) arriving during the block is delivered when it ends.

    Numba's compiler and cache loader are not written to be interrupted: a
    KeyboardInterrupt raised inside them (inside llvmlite's calls, or inside Numba's
    registry generators) crashed the process or left it unable to compile again. Python
    runs signal handlers in the main thread only, so only there is there anything to
    hold; elsewhere, and where the program installed no Python handler, this does
    nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:  # not the main interpreter
        previous = None
    if not callable(previous):  # SIG_DFL, SIG_IGN or a handler set outside Python
        yield
        return
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            previous(signal.SIGINT, received[0])


def _numba_registry_loaders():
    """Numba's incremental registry loaders: its typing and target contexts install new
    registrations from one generator per registry list (``numba.core.utils.stream_list``),
    kept in ``loader._registrations``. Yields (registry, loader)."""
    from numba.core.registry import cpu_target

    for context in (cpu_target.typing_context, cpu_target.target_context):
        yield from getattr(context, "_registries", {}).items()


def _registry_positions():
    """{(loader, list name): where its generator continues}: the ``stop`` of its last
    sublist (a generator not yet started continues from 0)."""
    positions = {}
    for _, loader in _numba_registry_loaders():
        for name, generator in getattr(loader, "_registrations", {}).items():
            frame = getattr(generator, "gi_frame", None)
            if frame is not None:
                positions[id(loader), name] = frame.f_locals.get("stop", 0)
    return positions


def _stream_from(lst, start):
    """``numba.core.utils.stream_list`` resumed at ``start``: each ``next`` gives an
    iterator over the items appended since the previous one."""
    while True:
        stop = len(lst)
        yield iter(lst[start:stop])
        start = stop


@contextlib.contextmanager
def _numba_registries_restored_on_interrupt():
    """An exception that is not an error (KeyboardInterrupt from a signal handler or a
    trace hook, SystemExit) raised inside one of Numba's registry generators finishes
    that generator: every later compile in the process then failed with 'generator
    raised StopIteration'. Such a generator is replaced by one resuming where the
    finished one stood."""
    positions = _registry_positions()
    try:
        yield
    except Exception:
        raise
    except BaseException:
        for registry, loader in _numba_registry_loaders():
            table = getattr(loader, "_registrations", {})
            for name, generator in table.items():
                if getattr(generator, "gi_frame", True) is None:  # finished for good
                    start = positions.get((id(loader), name), 0)
                    table[name] = _stream_from(getattr(registry, name), start)
        raise


@contextlib.contextmanager
def compiling():
    """The critical section of a compile or load, and of storing its result where later
    calls find it: one thread at a time (``compile_lock``), Ctrl-C held until the end (a
    KeyboardInterrupt raised between compiling a kernel and storing it made every retry
    compile or load again), Numba's registries repaired after an interrupt."""
    with compile_lock, _interrupts_held(), _numba_registries_restored_on_interrupt():
        yield


def _problem_with(dispatcher, signature):
    """Why the compiled (or loaded) overload is not the function asked for, or None.
    A cache entry names the function it was compiled from: an index pointing at another
    kernel's file (a copied or swapped file) loads that kernel's machine code."""
    loaded = dispatcher.overloads[signature].fndesc.qualname
    wanted = dispatcher.py_func.__qualname__
    return None if loaded == wanted else f"it holds {loaded}, not {wanted}"


# A first call whose kernel took longer than this to compile says so, once per process, on
# stderr (a cold cache otherwise looks like a hang: 0.2-5 s per kernel), unless
# FASTGRAD_QUIET_COMPILE is set to a non-empty value.
COLD_NOTICE_SECONDS = 1.0
_cold_noticed = False


def built_once(cache, key, build):
    """``cache[key]``, made by ``build()`` on first use in the ``compiling`` section: one
    thread builds it, the others then find it."""
    entry = cache.get(key)
    if entry is None:
        with compiling():
            entry = cache.get(key)
            if entry is None:
                entry = cache[key] = build()
    return entry


def compiling_ahead():
    """This process compiles on purpose (``fastgrad.compile``): no cold-call note."""
    global _cold_noticed
    _cold_noticed = True


def _notice_cold_compile(seconds, name):
    global _cold_noticed
    if _cold_noticed or seconds < COLD_NOTICE_SECONDS or os.environ.get("FASTGRAD_QUIET_COMPILE"):
        return
    _cold_noticed = True
    print(
        f"fastgrad: compiled {' '.join(name.split('__')[:-1])} in {seconds:.1f} s on first use "
        "(kernels are cached on disk afterwards; `python -m fastgrad.compile` compiles them "
        "all ahead; FASTGRAD_QUIET_COMPILE=1 silences this note)",
        file=sys.stderr,
        flush=True,
    )


def compile_kernel(dispatcher, signature):
    """Compile (or load from the cache) ``dispatcher`` for ``signature`` with 512-bit
    vectors preferred; then close compiling again, so that calls with any other argument
    types raise instead of compiling a second, 256-bit specialisation on the spot.
    Returns the dispatcher holding the compiled kernel.

    A cache entry that cannot be loaded (a truncated or overwritten file) or that holds
    another function's code (a swapped file) is replaced: the kernel is compiled afresh
    without the cache and, that having worked, the function's cache entries are dropped
    and the fresh code saved, with one warning naming the file. An error that compiling
    afresh meets too is the compiler's, and leaves the cache alone. Ctrl-C during the
    compile is delivered when it ends (``_interrupts_held``), and an interrupt raised
    inside it anyway (a trace hook) leaves Numba able to compile the next call."""
    with compiling():
        if signature in dispatcher.overloads:
            return dispatcher
        cache = dispatcher._cache
        started = time.perf_counter()
        try:
            _compile(dispatcher, signature)
            problem = _problem_with(dispatcher, signature)
            _notice_cold_compile(time.perf_counter() - started, dispatcher.py_func.__name__)
        except Exception as exc:
            if isinstance(cache, _NullCache):
                raise  # no cache: the error is the compiler's, not the cache's
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            return dispatcher
        fresh = kernel(dispatcher.py_func, cache=False)
        _compile(fresh, signature)
        warnings.warn(
            f"fastgrad: the cached kernel {dispatcher.py_func.__qualname__} in "
            f"{cache.cache_path} could not be used ({problem}); compiled it again",
            RuntimeWarning,
            stacklevel=3,
        )
        cache.flush()  # forget the damaged entries, then save the fresh code
        cache.save_overload(signature, fresh.overloads[signature])
        return fresh


def _compile(dispatcher, signature):
    dispatcher.disable_compile(False)
    _wide.on = True
    try:
        dispatcher.compile(signature)
    finally:
        _wide.on = False
        if dispatcher.signatures:  # (Numba asserts there is one before closing)
            dispatcher.disable_compile()
