# The README's two commands. Each one sets itself up on a fresh machine:
# it creates .venv if missing and (re)installs the project whenever pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Python sources ruff checks (the docs' generated Markdown pages are left alone).
LINT := src tests benchmarks docs/build_docs.py docs/playground_shots.py docs/tutorials/*.py

.PHONY: run test test-fast test-tools test-numpy-only format docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m chainrule train

test: $(STAMP)
	$(VENV)/bin/ruff check $(LINT)
	$(VENV)/bin/ruff format --check $(LINT)
	$(PY) -m pytest

# The edit loop: the tests not marked slow, spread over the CPU cores (pytest-xdist), no lint:
# under a minute on two idle cores.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow" -n auto

# CI installs PyTorch (CPU) before `make test`, so the parity tests against PyTorch run on
# every submission. PyTorch is a test-only tool, never a dependency of the library.
TORCH_VERSION := 2.13.0
test-tools: $(STAMP)
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION)

# The numerical packages' tests once more without the compiled kernels (as without the [fast]
# extra); tests/fast runs both paths in every run anyway. CI runs it after `make test`.
test-numpy-only: $(STAMP)
	CHAINRULE_NO_NUMBA=1 $(PY) -m pytest -q -m "not slow" tests/fast tests/nn tests/optim tests/training

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(LINT)
	$(VENV)/bin/ruff format $(LINT)

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

docs: $(STAMP)
	$(PY) docs/build_docs.py
