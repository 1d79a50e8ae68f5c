# fastgrad: every target makes its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_JSON := bench/results/latest.json
QUICK_JSON := bench/results/quick.json

.PHONY: test test-portable bench bench-full plots lint accuracy compile clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,bench,plot,dev,peers,duck]'
	touch $(STAMP)

# Every kernel compiled into Numba's on-disk cache, on all cores (seconds when cached).
compile: $(STAMP)
	$(PY) -m fastgrad.compile

# Tests, then every benchmark once with timing off (at n = 1e3 and 1e5), so the suite
# never rots.
test: compile
	$(PY) -m pytest -q tests
	FASTGRAD_BENCH_SIZES=1e3,1e5 $(PY) -m pytest -q bench --benchmark-disable

# The kernels compiled for CPUs other than this one, and the math, kernel, accuracy and
# semantics tests run on that code (Numba compiles for NUMBA_CPU_NAME; an empty
# NUMBA_CPU_FEATURES means that CPU's own features): haswell (AVX2 and FMA, no AVX-512:
# every laptop and older server) and baseline x86-64 (SSE2, no FMA: results must hold;
# its FMAs are libm calls, so the vectorisation check is left out there). x86-64 only.
# The epilogue's kernels (``_bias``), which those tests do not call, are not compiled.
PORTABLE_TESTS := tests/test_math.py tests/test_kernels.py tests/test_accuracy.py tests/test_semantics.py
test-portable: $(STAMP)
	@if [ "$$(uname -m)" != x86_64 ]; then echo "test-portable: x86-64 targets only, skipped"; exit 0; fi; \
	for cpu in haswell x86-64; do \
		skip=$$([ $$cpu = x86-64 ] && echo "not vectorised" || echo ""); \
		echo "== kernels compiled for $$cpu"; \
		NUMBA_CPU_NAME=$$cpu NUMBA_CPU_FEATURES= $(PY) -m fastgrad.compile --without-epilogue || exit 1; \
		NUMBA_CPU_NAME=$$cpu NUMBA_CPU_FEATURES= $(PY) -m pytest -q $(PORTABLE_TESTS) -k "$$skip" || exit 1; \
	done

# The benchmarks a newcomer wants, in about five minutes (bench/conftest.py's quick set:
# relu, sigmoid, tanh, gelu and silu, forward and backward, float32, 1e3 to 1e7 elements,
# against NumPy, PyTorch and ONNX Runtime, and the MLP step), then their figures in
# plots/quick and their tables in bench/results/summary_quick.md.
bench: compile
	mkdir -p bench/results
	FASTGRAD_BENCH_SET=quick $(PY) -m pytest -q bench --benchmark-only \
		--benchmark-json=$(QUICK_JSON) --benchmark-max-time=0.2 --benchmark-sort=name
	$(PY) bench/report.py $(QUICK_JSON) > bench/results/summary_quick.md
	MPLBACKEND=Agg $(PY) -m fastgrad.plotting --figures speed --bench $(QUICK_JSON) \
		--accuracy plots/accuracy.json --out plots/quick

# Every benchmark (every activation, kind, dtype; the studies; about 20 minutes), saved
# as JSON, then the plots drawn from them.
bench-full: compile
	mkdir -p bench/results
	$(PY) -m pytest -q bench --benchmark-only --benchmark-json=$(BENCH_JSON) \
		--benchmark-max-time=0.2 --benchmark-sort=name
	$(PY) bench/instructions.py bench/results/instructions.json
	$(PY) bench/report.py $(BENCH_JSON) bench/results/instructions.json > bench/results/summary.md
	$(MAKE) plots

# The full accuracy sweep against the mpmath oracle: plots/accuracy.md and
# plots/accuracy_<name>.png (fastgrad, the NumPy reference and PyTorch on the same axes);
# then where fastgrad and PyTorch disagree, with the oracle's verdict: plots/parity.md.
accuracy: compile
	$(PY) -m tools.accuracy_report --size full --out plots
	$(PY) -m tools.parity_report --out plots

plots: $(STAMP)
	MPLBACKEND=Agg $(PY) -m fastgrad.plotting --bench $(BENCH_JSON) --accuracy plots/accuracy.json --out plots
	MPLBACKEND=Agg $(PY) examples/vanishing_gradients.py --out plots/vanishing_gradients.png

lint: $(STAMP)
	$(VENV)/bin/ruff check fastgrad harness tests bench examples tools
	$(VENV)/bin/ruff format --check fastgrad harness tests bench examples tools

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
