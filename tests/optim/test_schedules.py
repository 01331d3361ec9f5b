"""Learning-rate schedules: sequences computed by hand, state_dict, validation, the name table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chainrule.nn.parameter import Parameter
from chainrule.optim import SGD, Adam
from chainrule.optim.schedules import (
    SCHEDULES,
    CosineAnnealingLR,
    ExponentialLR,
    ReduceLROnPlateau,
    StepLR,
    get_schedule,
    make_schedule,
)


def sgd(lr=1.0, *more_lrs):
    groups = [{"params": [Parameter(np.zeros(2))], "lr": x} for x in (lr, *more_lrs)]
    return SGD(groups, lr=lr)


def lrs(schedule, n_epochs, metrics=None):
    """The learning rate of group 0 in epochs 0 .. n_epochs − 1."""
    out = [schedule.get_last_lr()[0]]
    for e in range(n_epochs - 1):
        schedule.step(None if metrics is None else metrics[e])
        out.append(schedule.get_last_lr()[0])
        assert schedule.optimizer.param_groups[0]["lr"] == out[-1]
    return out


def test_step_decay():
    # η₀ = 1, γ = 0.5 every 2 epochs: 1, 1, 0.5, 0.5, 0.25, 0.25
    assert lrs(StepLR(sgd(1.0), step_size=2, gamma=0.5), 6) == [1, 1, 0.5, 0.5, 0.25, 0.25]


def test_exponential_decay():
    # η₀ = 0.8, γ = 0.5: 0.8, 0.4, 0.2, 0.1
    assert lrs(ExponentialLR(sgd(0.8), gamma=0.5), 4) == [0.8, 0.4, 0.2, 0.1]


def test_cosine_annealing():
    # T = 2, η_min = 0: η₀(1 + cos(πt/2))/2 = 1, 0.5, 0, then up again as PyTorch: 0.5, 1
    np.testing.assert_allclose(
        lrs(CosineAnnealingLR(sgd(1.0), T_max=2), 5), [1, 0.5, 0, 0.5, 1], atol=1e-15
    )
    # T = 4, η_min = 0.1: 0.1 + 0.9(1 + cos(πt/4))/2 with cos(π/4) = √2/2
    c = math.sqrt(2) / 2
    expected = [1.0, 0.1 + 0.9 * (1 + c) / 2, 0.55, 0.1 + 0.9 * (1 - c) / 2, 0.1]
    got = lrs(CosineAnnealingLR(sgd(1.0), T_max=4, eta_min=0.1), 5)
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_cosine_with_linear_warm_up():
    # W = 3: η₀(e + 1)/4 = 0.25, 0.5, 0.75; then the cosine with T = 2 from η₀: 1, 0.5, 0
    got = lrs(CosineAnnealingLR(sgd(1.0), T_max=2, warmup_epochs=3), 6)
    np.testing.assert_allclose(got, [0.25, 0.5, 0.75, 1.0, 0.5, 0.0], atol=1e-15)


def test_reduce_on_plateau():
    # patience 1, factor 0.5, cooldown 1, threshold 0; η starts at 1:
    # metric       10    9     9     9         9         9     9         8
    # bad epochs   0     0     1     2>1: ×½   cool: 0   1     2>1: ×½   best: 0
    # η after      1     1     1     0.5       0.5       0.5   0.25      0.25
    opt = sgd(1.0)
    s = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, threshold=0.0)
    metrics = [10, 9, 9, 9, 9, 9, 9, 8]
    assert lrs(s, 9, metrics) == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert s.best == 8


def test_reduce_on_plateau_respects_min_lr_and_max_mode_with_threshold():
    # mode max, rel. threshold 0.1: 1.05 does not beat 1.0·1.1, so with patience 0 η shrinks
    s = ReduceLROnPlateau(sgd(1.0), mode="max", factor=0.5, patience=0, threshold=0.1, min_lr=0.3)
    assert lrs(s, 5, [1.0, 1.05, 1.2, 1.0]) == [1.0, 1.0, 0.5, 0.5, 0.3]
    # absolute threshold in min mode: 0.95 is not below 1.0 − 0.1
    s = ReduceLROnPlateau(sgd(1.0), factor=0.1, patience=0, threshold=0.1, threshold_mode="abs")
    assert lrs(s, 3, [1.0, 0.95]) == [1.0, 1.0, pytest.approx(0.1)]


def test_reduce_on_plateau_counts_nan_as_bad_and_needs_a_metric():
    s = ReduceLROnPlateau(sgd(1.0), patience=0)
    s.step(1.0)
    s.step(float("nan"))
    assert s.get_last_lr() == [pytest.approx(0.1)]
    with pytest.raises(ValueError, match="needs the monitored metric"):
        s.step()


def test_each_group_scales_from_its_own_initial_rate():
    s = StepLR(sgd(1.0, 0.1), step_size=1, gamma=0.5)
    s.step()
    assert s.get_last_lr() == [0.5, 0.05]
    assert [g["lr"] for g in s.optimizer.param_groups] == [0.5, 0.05]
    s.step(metric=3.0)  # epoch schedules ignore a metric
    assert s.get_last_lr() == [0.25, 0.025]


def test_the_optimizer_steps_with_the_scheduled_rate():
    w = Parameter(np.array([0.0]))
    opt = SGD([w], lr=1.0)
    s = StepLR(opt, step_size=1, gamma=0.1)
    for _ in range(3):  # epochs with η = 1, 0.1, 0.01 and g = 1
        w.grad = np.array([1.0])
        opt.step()
        s.step()
    np.testing.assert_allclose(w.data, [-1.11], rtol=1e-14)


@pytest.mark.parametrize(
    ("make", "metrics"),
    [
        (lambda o: StepLR(o, step_size=2, gamma=0.3), None),
        (lambda o: ExponentialLR(o, gamma=0.9), None),
        (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=0.01, warmup_epochs=2), None),
        (lambda o: ReduceLROnPlateau(o, patience=1, factor=0.5, cooldown=1), [3, 2, 2, 2, 2, 2, 2]),
    ],
)
def test_state_dict_round_trip_through_json(make, metrics):
    metrics = metrics or [None] * 7
    opt = sgd(1.0, 0.5)
    s = make(opt)
    for m in metrics[:3]:
        s.step(m)
    saved = json.loads(json.dumps(s.state_dict()))
    rest = []
    for m in metrics[3:]:
        s.step(m)
        rest.append(s.get_last_lr())

    opt2 = sgd(1.0, 0.5)  # fresh, its η back at the start: load_state_dict restores η too
    s2 = make(opt2)
    s2.load_state_dict(saved)
    assert [g["lr"] for g in opt2.param_groups] == saved["last_lr"]
    rest2 = []
    for m in metrics[3:]:
        s2.step(m)
        rest2.append(s2.get_last_lr())
    assert rest2 == rest


def test_load_state_dict_mismatch():
    s = StepLR(sgd(1.0), step_size=2)
    good = s.state_dict()
    assert good == {"step_size": 2, "gamma": 0.1, "last_epoch": 0, "base_lrs": [1.0],
                    "last_lr": [1.0]}  # fmt: skip
    with pytest.raises(ValueError, match="needs keys"):
        s.load_state_dict({**good, "T_max": 3})
    with pytest.raises(ValueError, match="needs keys"):
        s.load_state_dict([1])
    with pytest.raises(ValueError, match="1 entries, not 2"):
        StepLR(sgd(1.0, 2.0), step_size=2).load_state_dict(good)
    with pytest.raises(ValueError, match="step_size"):
        s.load_state_dict({**good, "step_size": 0})
    assert s.step_size == 2  # a failed load leaves the schedule as it was


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda o: StepLR(o, step_size=0), "step_size"),
        (lambda o: StepLR(o, step_size=1.5), "step_size must be an integer"),
        (lambda o: StepLR(o, step_size=2, gamma=-0.1), "gamma"),
        (lambda o: ExponentialLR(o, gamma=float("inf")), "gamma"),
        (lambda o: CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1.0), "eta_min"),
        (lambda o: CosineAnnealingLR(o, T_max=5, warmup_epochs=-1), "warmup_epochs"),
        (lambda o: ReduceLROnPlateau(o, mode="minimum"), "mode"),
        (lambda o: ReduceLROnPlateau(o, factor=1.0), "factor"),
        (lambda o: ReduceLROnPlateau(o, patience=-1), "patience"),
        (lambda o: ReduceLROnPlateau(o, threshold_mode="relative"), "threshold_mode"),
        (lambda o: ReduceLROnPlateau(o, cooldown=True), "cooldown"),
        (lambda o: ReduceLROnPlateau(o, min_lr=-1e-6), "min_lr"),
        (lambda o: StepLR("sgd", step_size=1), "wraps an Optimizer"),
    ],
)
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(sgd(1.0))


def test_name_table_and_lookup():
    assert get_schedule("cosine") is CosineAnnealingLR
    assert get_schedule(None) is None
    assert set(SCHEDULES) == {"step", "exponential", "cosine", "plateau", None}
    with pytest.raises(ValueError, match=r"'linear'.*'step', 'exponential', 'cosine', 'plateau'"):
        get_schedule("linear")


def test_make_schedule_defaults_fit_the_number_of_epochs():
    assert make_schedule(None, sgd(), epochs=10) is None
    s = make_schedule("step", sgd(), epochs=9)
    assert (s.step_size, s.gamma) == (3, 0.1)
    s = make_schedule("exponential", sgd(1.0), epochs=10)
    assert lrs(s, 11)[-1] == pytest.approx(0.01)  # η₀/100 after `epochs` epochs
    s = make_schedule("cosine", sgd(1.0), epochs=10, warmup_epochs=2)
    assert s.T_max == 8
    assert lrs(s, 11)[-1] == pytest.approx(0.0, abs=1e-15)  # ends at η_min
    s = make_schedule("plateau", Adam([Parameter(np.zeros(1))]), epochs=10, patience=3)
    assert isinstance(s, ReduceLROnPlateau)
    assert s.patience == 3
    with pytest.raises(ValueError, match="epochs"):
        make_schedule("step", sgd(), epochs=0)
