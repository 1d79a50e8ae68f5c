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


def test_readme_api_example_runs():
    readme = pathlib.Path(__file__).parents[1] / "README.md"
    block = re.search(r"```python\n(.*?)```", readme.read_text(), re.S).group(1)
    threads = fg.get_num_threads()
    try:
        exec(compile(block, "README.md", "exec"), {})
    finally:
        fg.set_num_threads(threads)
