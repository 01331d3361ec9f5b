"""Shared test settings and helpers.

A hypothesis profile sized so the whole suite stays fast (choose another profile with
``HYPOTHESIS_PROFILE=thorough pytest`` for a deeper search), and the in-place gradient check of
module parameters used by the network tests (tests/nn/, tests/fast/). Helper modules kept
here (`killkit`) are importable from every test folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from chainrule.autograd import Tensor, no_grad

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,  # timings vary on shared CI machines; speed is measured in benchmarks/
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def check_tensor_grads(
    f: Callable[[], Tensor],
    tensors: list[Tensor],
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> None:
    """Assert autograd's ∂f/∂t equals central differences for tensors used inside `f`.

    Unlike `cr.grad_check`, which feeds fresh inputs to a function, this perturbs existing
    float64 leaves (module parameters, inputs) in place, so a module can be checked as built.
    """
    for t in tensors:
        assert t.data.dtype == np.float64, "gradient checks run in float64"
        t.grad = None
    f().backward()
    analytic = [np.zeros_like(t.data) if t.grad is None else t.grad.copy() for t in tensors]
    with no_grad():
        for t, a in zip(tensors, analytic, strict=True):
            flat = t.data.reshape(-1, order="A")  # memory order: a view, also column-major
            assert np.shares_memory(flat, t.data)
            numeric = np.empty_like(flat)
            for j in range(flat.size):
                v = flat[j]
                flat[j] = v + eps
                f_plus = f().item()
                flat[j] = v - eps
                f_minus = f().item()
                flat[j] = v
                numeric[j] = (f_plus - f_minus) / (2 * eps)
            column_major = t.data.flags.f_contiguous and not t.data.flags.c_contiguous
            numeric = numeric.reshape(t.data.shape, order="F" if column_major else "C")
            np.testing.assert_allclose(a, numeric, rtol=rtol, atol=atol)


@pytest.fixture
def grads_match() -> Callable[..., None]:
    """The in-place gradient check, as a fixture (test modules need no imports)."""
    return check_tensor_grads


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def pytest_configure(config):
    # Most tests train for a handful of epochs on purpose, so the estimators' ConvergenceWarning
    # ("ran all epochs without converging") is expected noise there; the tests of the warning
    # itself catch it with pytest.warns, which sees it whatever the filters say.
    try:
        import sklearn.exceptions  # noqa: F401 - only to know the warning class exists
    except ImportError:
        return
    config.addinivalue_line("filterwarnings", "ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(params=["numpy", "compiled"])
def both_paths(request):
    """Run the test on the NumPy code (what runs without numba, the ``[fast]`` extra, or with
    ``CHAINRULE_NO_NUMBA=1``), then on the compiled kernels (skipped without numba)."""
    from chainrule.fast import kernels

    compiled = request.param == "compiled"
    if compiled and not kernels.available():
        pytest.skip("numba is not installed (the [fast] extra)")
    with kernels.use_kernels(compiled):
        yield compiled
