"""What a user installs: the licence and metadata, one version, extras with lower bounds,
the type stub (generated from the tables, used by mypy), the public namespace, and the
thread count a cluster's environment asks for."""

import os
import pathlib
import subprocess
import sys
import types
import zipfile

import pytest

import fastgrad as fg

ROOT = pathlib.Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_licence_metadata_and_one_version_source():
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause"
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text()
    assert "version" not in project and project["dynamic"] == ["version"]
    dynamic = _pyproject()["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "fastgrad.__version__"}
    assert project["classifiers"] and project["authors"]


def test_extras_give_lower_bounds_and_the_pins_live_apart():
    """``pip install fastgrad[peers]`` must not fight a user's own torch: no extra pins
    an exact version; the tested versions are in constraints.txt, which the Makefile uses."""
    extras = _pyproject()["project"]["optional-dependencies"]
    pinned = [req for reqs in extras.values() for req in reqs if "==" in req]
    assert not pinned, pinned
    constraints = (ROOT / "constraints.txt").read_text()
    assert "torch==" in constraints
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text()


def test_nothing_public_but_the_api():
    """Internals (the table's indexes, the function factory) are not in the namespace:
    every public attribute that is not a submodule is in ``__all__``."""
    extra = [
        name
        for name in dir(fg)
        if not name.startswith("_")
        and name not in fg.__all__
        and not isinstance(getattr(fg, name), types.ModuleType)
    ]
    assert not extra, extra


def test_the_stub_is_generated_from_the_tables_and_names_the_api():
    from tools.generate_stubs import render

    stub = (ROOT / "fastgrad" / "__init__.pyi").read_text()
    assert stub == render(), "run: python -m tools.generate_stubs > fastgrad/__init__.pyi"
    defined = {line[4:].split("(")[0] for line in stub.splitlines() if line.startswith("def ")}
    assert defined == set(fg.__all__) - {"ACCURACY_LEVELS", "TABLE", "reference"}
    assert (ROOT / "fastgrad" / "py.typed").exists()


_GOOD = """
import numpy as np
import fastgrad as fg

x = np.linspace(-3, 3, 7, dtype=np.float32)
y = np.empty_like(x)
fg.gelu(x, out=y)
fg.gelu_backward(np.ones_like(x), x, approximate="tanh", accuracy="fast")
y2, d = fg.silu_fwd_grad(x)
fg.softplus(x, beta=2.0, threshold=None)
fg.threshold(x, threshold=0.5, value=-1.0)
previous: str = fg.set_accuracy("fast")
"""
_BAD = """
import numpy as np
import fastgrad as fg

fg.gelu(np.ones(3), aproximate="tanh")
fg.gelu(np.ones(3), accuracy="fastest")
fg.threshold(np.ones(3))
fg.not_an_activation(np.ones(3))
"""


def _mypy(tmp_path, source):
    script = tmp_path / "user_script.py"
    script.write_text(source)
    env = {**os.environ, "MYPYPATH": str(ROOT)}  # the checkout (an editable install hides it)
    command = [sys.executable, "-m", "mypy", "--no-incremental", str(script)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)


def test_mypy_checks_a_users_calls_against_the_stub(tmp_path):
    pytest.importorskip("mypy")
    good = _mypy(tmp_path, _GOOD)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _mypy(tmp_path, _BAD)
    assert bad.returncode == 1
    for expected in (
        'Unexpected keyword argument "aproximate"',
        'Argument "accuracy" to "gelu" has incompatible type',
        'Missing named argument "threshold"',
        'Module has no attribute "not_an_activation"',
    ):
        assert expected in bad.stdout, bad.stdout


def test_the_wheel_carries_the_licence_the_stub_and_the_version(tmp_path):
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("fastgrad-*.whl")
    assert wheel.name.startswith(f"fastgrad-{fg.__version__}-")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = zf.read(metadata).decode()
    assert "fastgrad/py.typed" in names and "fastgrad/__init__.pyi" in names
    assert any(n.endswith("licenses/LICENSE") for n in names), names
    assert "License-Expression: BSD-3-Clause" in text
    assert not any(n.startswith(("harness/", "tests/")) for n in names)


@pytest.mark.parametrize(
    "env, threads",
    [
        ({"OMP_NUM_THREADS": "1"}, 1),
        ({"OMP_NUM_THREADS": "1,1"}, 1),
        ({"OMP_NUM_THREADS": "1", "FASTGRAD_NUM_THREADS": "2"}, 2),
    ],
)
def test_the_thread_count_follows_omp_num_threads(env, threads):
    """Dask's workers set OMP_NUM_THREADS=1: fastgrad then runs one thread per worker
    (FASTGRAD_NUM_THREADS, when set, wins); on a machine with one CPU both are 1."""
    environment = {k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}
    environment.update(env)
    code = "import fastgrad as fg; print(fg.get_num_threads())"
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == min(threads, os.cpu_count() or 1)


def test_a_bad_omp_num_threads_is_ignored_with_a_warning():
    environment = {k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}
    environment["OMP_NUM_THREADS"] = "lots"
    code = "import fastgrad as fg; print(fg.get_num_threads())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment
    )
    assert done.returncode == 0, done.stderr
    assert "OMP_NUM_THREADS='lots' is not a positive integer; ignored" in done.stderr


def _compile_in_a_daemon(queue):
    from fastgrad._compile import compile_kernels

    try:
        queue.put(compile_kernels(["relu"], ("float32",)))
    except Exception as error:  # reported to the parent, which fails the test
        queue.put(repr(error))


def test_compile_works_in_a_daemonic_process(tmp_path, monkeypatch):
    """A Dask worker's ``client.run`` (and any daemonic pool worker) may not start child
    processes: compile_kernels then compiles in the process itself."""
    import multiprocessing

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=_compile_in_a_daemon, args=(queue,), daemon=True)
    worker.start()
    result = queue.get(timeout=600)
    worker.join(timeout=60)
    assert result == [("relu", None, "float32", "accurate")], result


@pytest.mark.parametrize("quiet", ["", "1"])
def test_a_cold_first_call_says_so_once_unless_asked_not_to(tmp_path, quiet):
    """With an empty cache, gelu's first calls compile: one note on stderr (not two), none
    with FASTGRAD_QUIET_COMPILE=1; stdout untouched. The threshold is set to zero in the
    child: on a fast CPU gelu compiles in under COLD_NOTICE_SECONDS, and a test of the note
    must not depend on how fast the machine compiles."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "FASTGRAD_QUIET_COMPILE": quiet}
    code = (
        "import numpy as np, fastgrad as fg, fastgrad._jit as jit; "
        "jit.COLD_NOTICE_SECONDS = 0.0; fg.gelu(np.ones(3)); fg.gelu_grad(np.ones(3))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0 and done.stdout == "", done.stderr
    notes = done.stderr.count("fastgrad: compiled gelu none forward float64 serial in")
    assert notes == (0 if quiet else 1), done.stderr


def test_compiling_ahead_prints_progress_not_the_cold_call_note(tmp_path):
    """``python -m fastgrad.compile`` compiles on purpose: its progress lines, and none of
    the note a cold first call prints (a worker's first kernel takes over a second)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "FASTGRAD_QUIET_COMPILE": ""}
    command = [sys.executable, "-m", "fastgrad.compile", "gelu", "--dtypes", "float32"]
    done = subprocess.run(
        [*command, "--processes", "2"], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert "[3/3] gelu (none) float32 fast" in done.stdout, done.stdout
    assert "on first use" not in done.stderr, done.stderr
