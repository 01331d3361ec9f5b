"""The convolution and pooling tests run twice: on the NumPy code, and on the compiled
kernels of `chainrule.fast.conv_kernels` (skipped without numba, the ``[fast]`` extra)."""

from __future__ import annotations

import pytest

from chainrule.fast import kernels


@pytest.fixture(params=["numpy", "compiled"])
def kernel_path(request):
    """Run the test on the NumPy code, then with the compiled kernels loaded and on."""
    compiled = request.param == "compiled"
    if compiled and not kernels.available():
        pytest.skip("numba is not installed (the [fast] extra)")
    with kernels.use_kernels(compiled):
        yield compiled
