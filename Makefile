# The README's two commands. Each one sets itself up on a fresh machine:
# it creates .venv if missing and (re)installs the project whenever pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Python sources ruff checks (the docs' generated Markdown pages are left alone).
LINT := src tests benchmarks docs/build_docs.py docs/playground_shots.py docs/tutorials/*.py

.PHONY: run test format docs clean

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

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(LINT)
	$(VENV)/bin/ruff format $(LINT)

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

docs: $(STAMP)
	$(PY) docs/build_docs.py
