# fastgrad: every target makes its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_JSON := bench/results/latest.json

.PHONY: test bench plots lint accuracy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench,plot,dev]'
	touch $(STAMP)

# Tests, then every benchmark once with timing off, so the suites never rot.
test: $(STAMP)
	$(PY) -m pytest -q tests
	$(PY) -m pytest -q bench --benchmark-disable

# Benchmarks (saved as JSON), then the plots drawn from them.
bench: $(STAMP)
	mkdir -p bench/results
	$(PY) -m pytest -q bench --benchmark-only --benchmark-json=$(BENCH_JSON) \
		--benchmark-max-time=0.5 --benchmark-sort=name
	$(PY) bench/report.py $(BENCH_JSON) > bench/results/summary.md
	$(MAKE) plots

# Maximum error in ulps of every kernel against the mpmath oracle.
accuracy: $(STAMP)
	$(PY) tests/accuracy_report.py

plots: $(STAMP)
	MPLBACKEND=Agg $(PY) -m fastgrad.plotting --bench $(BENCH_JSON) --out plots

lint: $(STAMP)
	$(VENV)/bin/ruff check fastgrad tests bench
	$(VENV)/bin/ruff format --check fastgrad tests bench

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
