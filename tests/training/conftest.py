"""Fixtures for the training-loop tests (helpers live in trainkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# The helpers module beside these tests, importable by the tests and the subprocess scripts.
sys.path.insert(0, str(Path(__file__).parent))

from trainkit import make_data


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_data()
