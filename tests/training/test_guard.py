"""The divergence guard keeps the last finite weights, with the compiled check and without."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.fast import kernels
from chainrule.nn import Parameter, flatten_parameters
from chainrule.training.guard import WeightGuard


@pytest.fixture(params=["numpy", "compiled"])
def path(request):
    if request.param == "compiled" and not kernels.available():
        pytest.skip("numba is not installed (the [fast] extra)")
    with kernels.use_kernels(request.param == "compiled"):
        yield request.param


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_step_is_undone_to_the_last_finite_weights(path, flat, dtype, bad):
    rng = np.random.default_rng(0)
    params = [Parameter(rng.standard_normal(s).astype(dtype)) for s in [(3, 5), (5,), (1,)]]
    if flat:
        flatten_parameters(params)
    guard = WeightGuard(params)
    assert guard.save()
    history = []
    for step in range(4):  # three good steps, then a bad one
        for p in params:
            p.data += 1.0
        if step == 3:
            params[1].data[4] = bad
            assert not guard.check()
        else:
            assert guard.check()
            history.append([p.data.copy() for p in params])
    guard.restore()
    for p, want in zip(params, history[-1], strict=True):
        np.testing.assert_array_equal(p.data, want)
    assert guard.check()  # the restored weights are finite, and stay kept


def test_non_finite_weights_fail_save(path):
    p = Parameter(np.ones(7, np.float32))
    p.data[6] = np.nan
    assert not WeightGuard([p]).save()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_near_the_largest_float_are_finite_and_warn_nothing(path, dtype):
    # (a sum of such weights overflows: the check must not add them up)
    p = Parameter(np.full(9, np.finfo(dtype).max, dtype))
    guard = WeightGuard([p])
    with np.errstate(all="raise"):
        assert guard.save()
        assert guard.check()
