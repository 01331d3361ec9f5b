"""The fast-path tests run twice: with the compiled kernels (numba, the ``[fast]`` extra) and
with the NumPy code alone, which is what runs without numba or with ``CHAINRULE_NO_NUMBA=1``."""

from __future__ import annotations

import pytest

from chainrule.fast import kernels


@pytest.fixture(params=["numpy", "compiled"])
def both_paths(request):
    """Run the test on the NumPy code, then on the compiled kernels (skipped without numba)."""
    compiled = request.param == "compiled"
    if compiled and not kernels.available():
        pytest.skip("numba is not installed (the [fast] extra)")
    with kernels.use_kernels(compiled):
        yield compiled
