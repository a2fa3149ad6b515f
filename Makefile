# `make test` and `make bench` do all set-up on a fresh machine with Python >= 3.10 and pip.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: test bench lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test,lint]'
	rm -f $(VENV)/.installed-* && touch $@

test: venv
	$(PY) -m pytest -q

bench: venv
	$(PY) -m pytest benchmarks -q --benchmark-only --benchmark-columns=median,iqr,rounds

lint: venv
	$(VENV)/bin/ruff check fastact kernels tests benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .benchmarks benchmarks/results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
