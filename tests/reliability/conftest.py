"""Fixtures for the reliability tests (helpers live in relkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers module beside these tests, importable by the tests and the subprocess scripts.
sys.path.insert(0, str(Path(__file__).parent))

from relkit import ModelFile, make_model_files


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelFile]:
    """A saved network, a fitted classifier and a tabular model, with reference outputs."""
    return make_model_files(tmp_path_factory.mktemp("models"))
