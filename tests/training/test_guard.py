"""The divergence guard undoes a step that makes a weight non-finite, with the compiled
updates (which save the old weights and check the new ones in their own pass) and without."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.fast import kernels
from chainrule.fast.backup import StepBackup
from chainrule.nn import Parameter
from chainrule.nn.losses import cross_entropy
from chainrule.optim import SGD, Adam, AdamW, RMSprop
from chainrule.training.guard import WeightGuard

OPTIMIZERS = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (Adam, {"lr": 0.01}),
    (AdamW, {"lr": 0.01}),
    (RMSprop, {"lr": 0.01, "momentum": 0.5}),
]


@pytest.fixture(params=["numpy", "compiled"])
def path(request):
    if request.param == "compiled" and not kernels.available():
        pytest.skip("numba is not installed (the [fast] extra)")
    with kernels.use_kernels(request.param == "compiled"):
        yield request.param


def model_and_data(dtype, flat):
    cr.set_seed(0)
    layers = [cr.nn.Dense(3, 5, dtype=dtype), cr.nn.ReLU(), cr.nn.Dense(5, 2, dtype=dtype)]
    model = cr.nn.Sequential(*layers)
    if flat:
        model.flatten_parameters()
    X = np.random.default_rng(0).standard_normal((8, 3)).astype(dtype)
    return model, X, np.arange(8) % 2


def backward(model, X, y, bad=None):
    """Gradients into the parameters' own buffers; `bad` written into one of them."""
    model.zero_grad()
    cross_entropy(model(cr.Tensor(X)), y).backward()
    if bad is not None:
        list(model.parameters())[2].grad[0, 1] = bad


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS)
def test_a_non_finite_step_is_undone_to_the_weights_before_it(path, cls, options, flat, dtype, bad):
    model, X, y = model_and_data(dtype, flat)
    opt = cls(model.parameters(), **options)
    guard = WeightGuard(list(model.parameters()))
    assert guard.finite()
    with np.errstate(all="ignore"):  # (cr.fit silences NumPy's warnings about inf too)
        for _ in range(3):
            backward(model, X, y)
            assert guard.step(opt)
        before = [p.data.copy() for p in model.parameters()]
        backward(model, X, y, bad)
        assert not guard.step(opt)
    for p, want in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, want)  # bit for bit: the step is undone


@pytest.mark.parametrize("flat", [False, True])
def test_compiled_updates_save_and_check_the_weights_in_their_own_pass(monkeypatch, flat):
    if not kernels.available():
        pytest.skip("numba is not installed (the [fast] extra)")
    from chainrule.fast import backup as backup_module

    calls = []
    real_save, real_check = StepBackup.save_all, backup_module.all_finite
    monkeypatch.setattr(StepBackup, "save_all", lambda b: calls.append("copy") or real_save(b))
    monkeypatch.setattr(
        backup_module, "all_finite", lambda a: calls.append("check") or real_check(a)
    )
    model, X, y = model_and_data(np.float32, flat)
    opt = Adam(model.parameters(), lr=0.01)
    guard = WeightGuard(list(model.parameters()))
    with kernels.use_kernels(True), np.errstate(all="ignore"):
        for _ in range(3):
            backward(model, X, y)
            assert guard.step(opt)
        assert calls == []  # neither a copy nor a check of the guard's own
        with kernels.use_kernels(False):  # NumPy's update copies into the backup itself
            backward(model, X, y)
            assert guard.step(opt)
        assert "check" in calls and "copy" not in calls
        calls.clear()
        before = [p.data.copy() for p in model.parameters()]
        backward(model, X, y, np.nan)
        assert not guard.step(opt)
        assert calls == []
    for p, want in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, want)


class _NoKeep(SGD):
    def _update(self, w, g, state, group):  # an override that knows nothing of keep=
        w -= group["lr"] * g


class _Foreign:
    """Another library's optimizer: only step()."""

    def __init__(self, params):
        self.params = list(params)

    def step(self):
        for p in self.params:
            p.data -= 0.1 * p.grad


@pytest.mark.parametrize("kind", ["override", "foreign", "two groups"])
@pytest.mark.parametrize("flat", [False, True])
def test_optimizers_that_cannot_save_are_guarded_by_a_copy(path, kind, flat):
    model, X, y = model_and_data(np.float32, flat)
    params = list(model.parameters())
    if kind == "override":
        opt = _NoKeep(params, lr=0.1)
    elif kind == "foreign":
        opt = _Foreign(params)
    else:  # on a flat model each group is part of the buffer
        opt = SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.2}], lr=0.1)
    guard = WeightGuard(params)
    with np.errstate(all="ignore"):
        backward(model, X, y)
        assert guard.step(opt)
        before = [p.data.copy() for p in params]
        backward(model, X, y, np.inf)
        assert not guard.step(opt)
    for p, want in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.data, want)


def test_weights_a_step_leaves_alone_are_not_put_back(path):
    # Only what the step changed is restored: a parameter without a gradient in the bad step
    # keeps the value it has now, not the one saved in an earlier step.
    a, b = Parameter(np.ones(4, np.float32)), Parameter(np.ones(3, np.float32))
    opt = SGD([a, b], lr=0.5)
    guard = WeightGuard([a, b])
    a.grad, b.grad = np.ones(4, np.float32), np.ones(3, np.float32)
    assert guard.step(opt)
    b.data[:] = 7.0  # changed between steps (as a callback may)
    a.grad, b.grad = np.full(4, np.inf, np.float32), None
    assert not guard.step(opt)
    np.testing.assert_array_equal(a.data, np.full(4, 0.5, np.float32))
    np.testing.assert_array_equal(b.data, np.full(3, 7.0, np.float32))


def test_non_finite_weights_are_found(path):
    p = Parameter(np.ones(7, np.float32))
    p.data[6] = np.nan
    assert not WeightGuard([p]).finite()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weights_near_the_largest_float_are_finite_and_warn_nothing(path, dtype):
    # (a sum of such weights overflows: the check must not add them up)
    p = Parameter(np.full(9, np.finfo(dtype).max, dtype))
    guard = WeightGuard([p])
    p.grad = np.zeros(9, dtype)
    with np.errstate(all="raise"):
        assert guard.finite()
        assert guard.step(SGD([p], lr=0.1))
