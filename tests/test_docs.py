"""The examples in the public docstrings run and print what they show."""

import doctest
import pathlib
import re

import pytest

import fastgrad as fg
from fastgrad._table import public_names


@pytest.mark.parametrize("name", public_names())
def test_docstring_example(name):
    fn = getattr(fg, name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(fn, name, globs={})
    assert tests and tests[0].examples
    for t in tests:
        runner.run(t)
    assert runner.failures == 0


def test_readme_api_examples_run():
    """The API section's example, the gated activations' section's and the epilogue's."""
    text = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    gated = text[text.index("## Gated activations") :]
    epilogue = text[text.index("## The dense layer's epilogue") :]
    threads = fg.get_num_threads()
    try:
        for source in (text, gated, epilogue):
            block = re.search(r"```python\n(.*?)```", source, re.S).group(1)
            exec(compile(block, "README.md", "exec"), {})
    finally:
        fg.set_num_threads(threads)
