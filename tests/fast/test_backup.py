"""`StepBackup`: the weights before a step, saved by the update itself or by a copy first."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.fast import kernels
from chainrule.fast.backup import StepBackup, all_finite
from chainrule.nn import Parameter, flatten_parameters


def params(flat, dtype=np.float32):
    rng = np.random.default_rng(0)
    ps = [Parameter(rng.standard_normal(s).astype(dtype)) for s in [(3, 4), (4,), (1,)]]
    if flat:
        flatten_parameters(ps)
    return ps


def test_each_parameter_is_its_own_slot_and_is_saved_once():
    ps = params(flat=False)
    backup = StepBackup([p.data for p in ps])
    backup.start()
    slots = [backup.slot(p.data) for p in ps]
    assert slots == [0, 1, 2]
    assert backup.slot(ps[0].data.copy()) is None  # an equal array elsewhere is not a weight
    backup.saved(0, True)
    assert backup.slot(ps[0].data) is None  # saved in this step: not again
    backup.start()
    assert backup.slot(ps[0].data) == 0


def test_a_flat_buffer_is_one_slot_found_through_any_view_of_all_of_it():
    ps = params(flat=True)
    backup = StepBackup([p.data for p in ps])
    assert len(backup.arrays) == 1
    base = ps[0].data.base
    whole = base[: sum(p.size for p in ps)]  # another view object of the same memory
    backup.start()
    assert backup.slot(whole) == 0
    assert backup.slot(ps[0].data) is None  # a part of the buffer: the caller copies all


@pytest.mark.parametrize("flat", [False, True])
def test_save_all_copies_what_is_not_saved_and_restore_puts_back_only_that(flat):
    ps = params(flat)
    backup = StepBackup([p.data for p in ps])
    backup.start()
    if not flat:  # the first array "saved by its update": a marker in its copy
        backup.copies[0][...] = 42.0
        backup.saved(0, None)
    before = [p.data.copy() for p in ps]
    backup.save_all()
    for p in ps:
        p.data[...] = np.nan
    assert not backup.finite()
    backup.restore()
    if flat:
        for p, want in zip(ps, before, strict=True):
            np.testing.assert_array_equal(p.data, want)
    else:
        np.testing.assert_array_equal(ps[0].data, 42.0)  # from its own copy, not re-copied
        for p, want in zip(ps[1:], before[1:], strict=True):
            np.testing.assert_array_equal(p.data, want)


def test_an_array_the_step_did_not_change_is_neither_checked_nor_restored():
    ps = params(flat=False)
    backup = StepBackup([p.data for p in ps])
    backup.start()
    backup.copies[1][...] = 0.0
    backup.saved(1, False)  # the update checked its new values: not finite
    ps[0].data[0, 0] = np.inf  # not changed by the step (as far as the backup knows)
    assert not backup.finite()
    backup.restore()
    assert np.isinf(ps[0].data[0, 0])
    np.testing.assert_array_equal(ps[1].data, 0.0)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite_with_and_without_the_kernel(compiled, dtype):
    if compiled and not kernels.available():
        pytest.skip("numba is not installed (the [fast] extra)")
    with kernels.use_kernels(compiled), np.errstate(all="raise"):
        a = np.full((5, 3), np.finfo(dtype).max, dtype, order="F")
        assert all_finite(a) and all_finite(a[:, ::2]) and all_finite(a[:0])
        for bad in (np.inf, -np.inf, np.nan):
            b = a.copy(order="K")
            b[4, 2] = bad
            assert not all_finite(b)
            assert not all_finite(b[:, ::2])
