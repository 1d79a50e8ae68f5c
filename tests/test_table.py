"""The table is the single source of truth: everything else must match it."""

import ast
import inspect
import re

import numpy as np
import pytest

import fastgrad as fg
from fastgrad._gated import GATED
from fastgrad._gated_api import forms_of
from fastgrad._kinds import kinds_of
from fastgrad._softmax import PUBLIC as SOFTMAX_PUBLIC
from fastgrad._table import ALIASES, TABLE, public_names
from harness import oracle


def test_names_are_unique():
    names = [act.name for act in TABLE]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("act", TABLE, ids=lambda a: a.name)
def test_every_activation_has_its_public_functions(act):
    for suffix in (kind.suffix for kind in kinds_of(act)):
        fn = getattr(fg, act.name + suffix)
        assert callable(fn)
        assert fn.__name__ == act.name + suffix
        assert act.name + suffix in fg.__all__


@pytest.mark.parametrize("act", TABLE, ids=lambda a: a.name)
def test_every_activation_has_a_reference_and_an_oracle(act):
    for suffix in (kind.suffix for kind in kinds_of(act)):
        assert callable(getattr(fg.reference, act.name + suffix))
    assert act.name in oracle.ORACLES


def test_nothing_public_outside_the_table():
    utilities = {"TABLE", "get_num_threads", "set_num_threads", "reference"}
    utilities |= {"ACCURACY_LEVELS", "get_accuracy", "set_accuracy"}
    gated = {row.name + form.suffix for row in GATED for form in forms_of(row)}
    prelu = {"prelu", "prelu_backward", "rrelu", "rrelu_fwd_grad", "rrelu_backward"}
    softmax = {f.__name__ for f in SOFTMAX_PUBLIC}
    assert softmax == {
        "softmax",
        "softmin",
        "log_softmax",
        "logsumexp",
        "softmax_backward",
        "softmin_backward",
        "log_softmax_backward",
        "logsumexp_backward",
    }
    # the bias epilogue: three functions per activation and alias
    names = {act.name for act in TABLE} | set(ALIASES)
    suffixes = ("_bias", "_bias_fwd_grad", "_bias_backward", "_bias_backward_from_grad")
    bias = {n + s for n in names for s in suffixes}
    assert len(bias) == 4 * len(names)
    everything = set(public_names()) | gated | prelu | softmax | bias | utilities
    assert set(fg.__all__) == everything
    assert set(oracle.ORACLES) == {act.name for act in TABLE}


@pytest.mark.parametrize("act", TABLE, ids=lambda a: a.name)
def test_docstrings_state_the_math(act):
    for suffix in (kind.suffix for kind in kinds_of(act)):
        doc = getattr(fg, act.name + suffix).__doc__
        for word in ("Formula:", "Computed:", "Derivative:", "Example"):
            assert word in doc, (act.name + suffix, word)


@pytest.mark.parametrize("act", TABLE, ids=lambda a: a.name)
def test_signatures_show_the_parameters(act):
    sig = inspect.signature(getattr(fg, act.name))
    expected = ["x", "out", "where", "dtype"]
    if act.params is not None:
        expected += list(inspect.signature(act.params).parameters)
    if act.variant is not None:
        expected.append(act.variant.param)
    expected.append("accuracy")
    assert list(sig.parameters) == expected
    assert list(inspect.signature(getattr(fg, act.name + "_backward")).parameters)[:2] == [
        "grad_out",
        "x",
    ]


@pytest.mark.parametrize("act", TABLE, ids=lambda a: a.name)
def test_math_builds_a_scalar_pair_per_dtype(act):
    from fastgrad._math import elementary

    for dtype in (np.float32, np.float64):
        forward, derivative = act.math(dtype, elementary(dtype))
        assert callable(forward) and callable(derivative)


def test_aliases_are_the_same_functions():
    """PyTorch's other spellings (the rows' ``aliases``): swish (silu) and logsigmoid
    (F.logsigmoid)."""
    from fastgrad._table import ALIASES, BY_NAME

    assert ALIASES == {"swish": "silu", "logsigmoid": "log_sigmoid"}
    for alias, name in ALIASES.items():
        for suffix in (kind.suffix for kind in kinds_of(BY_NAME[name])):
            assert getattr(fg, alias + suffix) is getattr(fg, name + suffix)
            assert alias + suffix in fg.__all__


def test_compile_command_line(tmp_path):
    """--help prints the usage and compiles nothing; an unknown name is an error naming
    it; names (aliases too) and dtypes select what is compiled."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))

    def run(*args):
        command = [sys.executable, "-m", "fastgrad.compile", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)

    helped = run("--help")
    assert helped.returncode == 0 and "usage: python -m fastgrad.compile" in helped.stdout
    assert "logsigmoid" in helped.stdout
    assert not list(tmp_path.rglob("_templates.*"))
    wrong = run("gelu", "nonsense")
    assert wrong.returncode == 2 and "unknown activation(s): nonsense" in wrong.stderr
    done = run("relu", "--dtypes", "float32", "--processes", "1")
    assert done.returncode == 0 and "1 kernel sets ready" in done.stdout, done.stderr
    assert done.stdout.startswith("[1/1] relu float32 ("), done.stdout  # progress first
    names = {p.name.split("__")[0] for p in tmp_path.rglob("_templates.*.nbi")}
    assert names == {"_templates.relu"}, names


def test_every_torch_peer_is_keyed_by_an_activation_name():
    """PyTorch's calling conventions live apart from the table, keyed by name: a key that
    names no activation (a typo) would leave that activation without its peer."""
    from harness.torch_peers import TORCH_PEERS

    names = {act.name for act in TABLE}
    assert set(TORCH_PEERS) <= names
    # every activation but the two PyTorch composes of other ops has ATen kernels
    assert {n for n, peer in TORCH_PEERS.items() if peer.forward is None} == {
        "softsign",
        "tanhshrink",
    }
    assert set(TORCH_PEERS) == names


def test_extra_parameter_sets_and_plot_ranges_fit_their_activation():
    """A row's extra parameter sets name only its parameters (a typo would raise in every
    test); its plot range is an interval."""
    for act in TABLE:
        accepted = set(inspect.signature(getattr(fg, act.name)).parameters) - {"x", "out"}
        assert all(set(params) <= accepted for params in act.extra_params), act.name
        lo, hi = act.plot_range
        assert lo < hi, act.name


def test_the_harness_tables_agree_with_the_rows():
    """What lives in the harness, keyed by name, agrees with the rows: the oracle takes
    each activation's parameters (its keys are checked above), ONNX Runtime's operators
    name activations, and the rows' accuracy bounds are the two the README states."""
    from fastgrad._table import CORRECTLY_ROUNDED, SMOOTH_MAX_ULPS
    from harness.peers import _ONNX_NODES

    names = {act.name for act in TABLE}
    assert set(_ONNX_NODES) <= names
    for act in TABLE:
        ours = set(inspect.signature(getattr(fg, act.name)).parameters)
        ours -= {"x", "out", "where", "dtype", "accuracy"}
        for oracle_function in oracle.ORACLES[act.name]:
            parameters = inspect.signature(oracle_function).parameters
            assert set(parameters) - {"x"} == ours, act.name
        assert act.max_ulps in (CORRECTLY_ROUNDED, SMOOTH_MAX_ULPS), act.name


def _torch_defaults(function):
    """{parameter: default} of a ``torch.nn.functional`` function, from its signature or,
    for a builtin (no signature), from the first line of its docstring
    (``softplus(input, beta=1, threshold=20) -> Tensor``)."""
    try:
        parameters = inspect.signature(function).parameters
        return {n: p.default for n, p in parameters.items() if n != "input"}
    except ValueError:
        head = function.__doc__.strip().splitlines()[0]
        spelled = re.findall(r"(\w+)\s*=\s*([^,)]+)", head)
        return {name: ast.literal_eval(value.strip()) for name, value in spelled}


def test_the_rows_pytorch_facts_are_pytorchs():
    """Each row's PyTorch name, aliases, defaults and ``inplace=`` are those of
    ``torch.nn.functional`` itself: its function exists under ``torch_function``, takes
    ``inplace`` exactly where the row says, and has the row's ``torch_defaults`` (else
    fastgrad's defaults) for every parameter they share."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    for act in TABLE:
        theirs = _torch_defaults(getattr(functional, act.torch_function))
        assert ("inplace" in theirs) == act.torch_inplace, act.name
        assert set(act.torch_defaults) <= set(theirs), act.name
        ours = inspect.signature(getattr(fg, act.name)).parameters
        for name, param in ours.items():
            if name in theirs and param.default is not inspect.Parameter.empty:
                want = act.torch_defaults.get(name, param.default)
                assert theirs[name] == want, (act.name, name, theirs[name])
        for alias in act.aliases:  # PyTorch's spelling, or nn.Module's (nn.SiLU: swish)
            assert hasattr(functional, alias) or alias == "swish", alias


def test_linear_pieces_are_the_activations_with_piecewise_constant_derivatives():
    """``linear_pieces`` (second derivative 0: the torch bridge's double backward) is
    true exactly where f' takes only a few values over a dense grid, parameters at their
    defaults."""
    xs = np.linspace(-7.3, 7.3, 20001)
    for act in TABLE:
        d = getattr(fg, act.name + "_grad")(xs, **act.default_params)
        assert act.linear_pieces == (np.unique(d).size <= 3), act.name


def test_each_kind_fits_its_loop_template():
    """A kind row names as many inputs as its template's loops read, and binds exactly
    the names (``_f``, ``_df``, ``_times``) its template's serial loop and scalar form
    use: a row pointing at the wrong template fails here, not as a Numba typing error."""
    from fastgrad._kinds import KINDS

    for kind in KINDS:
        template = kind.template
        assert len(kind.inputs) == template.inputs, kind.name
        bound = {glob for glob, _ in kind.scalars}
        for loop in (template.serial, template.scalar):
            used = {n for n in loop.__code__.co_names if n in ("_f", "_df", "_times")}
            assert used == bound, (kind.name, loop.__name__, used, bound)
