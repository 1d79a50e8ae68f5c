"""The examples in the public docstrings run and print what they show."""

import doctest

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
