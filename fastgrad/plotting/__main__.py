"""``python -m fastgrad.plotting``: see the package's docstring."""

from . import main

main()
