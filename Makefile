# `make test` and `make bench` do all set-up on a fresh machine with Python >= 3.10 and pip.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

RESULTS = benchmarks/results
BENCH_OPTS = --benchmark-only --benchmark-storage=file://$(RESULTS) --benchmark-autosave \
             --benchmark-max-time=0.1 --benchmark-min-rounds=5 --benchmark-columns=median,iqr,rounds \
             --benchmark-group-by=group --benchmark-sort=name -p no:cacheprovider

.PHONY: test bench bench-compare lint gen accuracy docs clean clean-cache venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test,lint,plot]'
	rm -f $(VENV)/.installed-* && touch $@

# One pytest worker per test file (pytest-xdist), as many as there are cores: the cold Numba
# compile of every loop dominates, and files compile disjoint sets of loops in parallel.
TEST_OPTS ?= -n auto --dist loadfile

# tests/cuda runs in its own process on Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM must be set
# before numba is imported); on a machine with a GPU, `pytest tests/cuda` runs it on the device.
test: venv
	$(PY) -m pytest -q $(TEST_OPTS) --ignore=tests/cuda
	NUMBA_ENABLE_CUDASIM=1 $(PY) -m pytest -q -n auto --dist load tests/cuda

# BENCH=quick make bench: the 2-minute subset. Peers (torch, JAX, numexpr) are timed when installed.
bench: venv
	$(PY) -m pytest benchmarks -q $(BENCH_OPTS)
	$(PY) benchmarks/report.py --latest $(RESULTS)

bench-compare: venv
	$(PY) benchmarks/compare.py $(RESULTS)

# ruff, and the layers of DESIGN.md as import-linter contracts ([tool.importlinter] in pyproject.toml)
lint: venv
	$(VENV)/bin/ruff check fastact kernels tests benchmarks tools
	$(VENV)/bin/lint-imports

# Every generated file, from the registry and the committed measurements (docs/data/): the
# backends' loops and CUDA kernels, the README's analysis and activation tables, docs/accuracy.md's
# tables and docs/activations/. Measures nothing; tests/test_generated.py fails while one is stale.
gen: venv
	$(PY) tools/gen_loops.py
	$(PY) tools/gen_analysis.py
	$(PY) tools/gen_docs.py

# The sampled accuracy measurement behind docs/accuracy.md (a few minutes), then its tables. The
# every-float32-input sweep is separate (hours): python benchmarks/exhaustive.py --json
# docs/data/exhaustive.json
accuracy: venv
	$(PY) benchmarks/accuracy.py --json docs/data/accuracy.json
	$(PY) tools/gen_docs.py

# The documentation site (mkdocs-material + mkdocstrings) into site/; builds offline.
DOCS_STAMP = $(VENV)/.docs-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
$(DOCS_STAMP): $(STAMP)
	$(PIP) install --quiet -e '.[docs]'
	rm -f $(VENV)/.docs-* && touch $@

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# Numba's on-disk cache (stale after editing kernels/: the cache is keyed on the loops' files)
clean-cache:
	find . -name '*.nb[ic]' -not -path './$(VENV)/*' -print -delete | wc -l

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache .benchmarks benchmarks/results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
