"""A playground session trains, resets, refuses bad settings and shows the lecture's effects."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.playground.config import Config, PlaygroundError
from chainrule.playground.datasets import grid
from chainrule.playground.session import Session


def test_xor_with_tanh_learns_below_a_test_loss_of_0_1() -> None:
    s = Session(Config(dataset="xor", activation="tanh", learning_rate=0.1, seed=3))
    start = s.losses()[1]
    while s.epoch < 300 and s.losses()[1] >= 0.1:
        s.run_epochs(10)
    assert s.losses()[1] < 0.1 < start
    assert len(s.history["test"]) == s.epoch + 1  # epoch 0 and one point per epoch


def test_steps_per_epoch_follow_the_three_regimes() -> None:
    for regime, steps in (("stochastic", 250), ("minibatch", 25), ("batch", 1)):
        s = Session(Config(regime=regime, batch_size=10))
        s.run_epochs(1)
        assert (s.epoch, s.steps) == (1, steps), regime


def test_minibatch_losses_are_noisier_with_smaller_batches() -> None:
    s = Session(Config(dataset="xor", learning_rate=0.1, seed=3))
    s.run_epochs(30)
    s.apply({"learning_rate": 1e-6})  # keep the weights still: only the batches differ

    def spread(regime: str) -> float:
        assert s.apply({"regime": regime}) is False  # the same network goes on
        s.step_losses.clear()
        for _ in range(100):
            s.step()
        return float(np.std(s.step_losses))

    stochastic, minibatch, batch = spread("stochastic"), spread("minibatch"), spread("batch")
    assert stochastic > 2 * minibatch > 0  # std of a mean of B samples: σ/√B
    assert batch < 0.1 * minibatch  # one batch, the same loss but for a slow drift


def test_same_settings_same_run() -> None:
    a, b = Session(Config(dataset="spiral")), Session(Config(dataset="spiral"))
    a.run_epochs(3)
    b.run_epochs(3)
    assert a.history["train"] == b.history["train"]


def test_learning_rate_changes_keep_training_and_activation_changes_reset() -> None:
    s = Session()
    s.run_epochs(2)
    assert s.apply({"learning_rate": "0.3"}) is False
    assert s.epoch == 2 and s.optimizer.param_groups[0]["lr"] == 0.3
    assert s.apply({"optimizer": "adam"}) is False and s.epoch == 2
    assert type(s.optimizer).__name__ == "Adam"
    assert s.apply({"activation": "relu"}) is True
    assert s.epoch == 0 and s.history["train"] == s.history["train"][:1]


def test_a_bad_value_changes_nothing() -> None:
    s = Session()
    s.run_epochs(1)
    weights = s.model[0].weight.data.copy()
    with pytest.raises(PlaygroundError, match="learning rate"):
        s.apply({"learning_rate": "-1", "activation": "relu"})
    assert s.config == Config() and s.epoch == 1
    np.testing.assert_array_equal(s.model[0].weight.data, weights)


def test_batch_norm_needs_more_than_one_sample_per_step() -> None:
    s = Session(Config(batch_norm=True))
    with pytest.raises(PlaygroundError, match="batch norm"):
        s.apply({"regime": "stochastic"})
    assert s.config.regime == "minibatch"
    s.run_epochs(1)  # and the old settings still train


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_zero_initialization_keeps_hidden_neurons_identical(activation: str) -> None:
    s = Session(Config(dataset="circle", init="zeros", activation=activation, hidden=(4, 3)))
    s.run_epochs(5)
    _, neurons = s.grid_outputs(grid(20))
    for layer in neurons:
        for z in layer[1:]:
            np.testing.assert_array_equal(z, layer[0])
    w = s.model[0].weight.data
    np.testing.assert_array_equal(w, np.repeat(w[:1], len(w), axis=0))
    if activation == "sigmoid":  # the neurons did learn, all the same thing
        assert np.abs(s.model[2].weight.data).max() > 0


def test_random_initialization_breaks_the_symmetry() -> None:
    s = Session(Config(init="random"))
    _, neurons = s.grid_outputs(grid(20))
    assert not np.array_equal(neurons[0][0], neurons[0][1])


def _first_to_last_gradient_ratio(activation: str) -> float:
    s = Session(Config(dataset="circle", activation=activation, hidden=(8,) * 6, init="xavier"))
    s.run_epochs(3)
    norms = np.array(s.history["grad_norms"][1:])
    return float(np.mean(norms[:, 0] / norms[:, -1]))


def test_sigmoid_gradients_vanish_towards_the_input_relu_ones_less() -> None:
    sigmoid, relu = _first_to_last_gradient_ratio("sigmoid"), _first_to_last_gradient_ratio("relu")
    assert sigmoid < 0.05  # the lecture: σ′ ≤ 1/4 per layer
    assert relu > 10 * sigmoid


def test_l1_and_l2_shrink_the_weights_l1_to_exact_sparsity_sooner() -> None:
    def weights(reg: str) -> np.ndarray:
        s = Session(Config(dataset="gauss", regularization=reg, reg_rate=0.03, hidden=(8, 8)))
        s.run_epochs(20)
        return np.concatenate([s.model[i].weight.data.ravel() for i in (0, 2, 4)])

    none, l1, l2 = weights("none"), weights("l1"), weights("l2")
    assert np.abs(l1).sum() < np.abs(none).sum() and np.abs(l2).sum() < np.abs(none).sum()
    assert np.mean(np.abs(l1) < 0.01) > np.mean(np.abs(l2) < 0.01)


def test_too_high_a_learning_rate_diverges_without_crashing() -> None:
    s = Session(Config(dataset="plane", activation="relu", learning_rate=10, hidden=(8, 8)))
    s.run_epochs(50)
    assert s.diverged and "lower the learning rate" in s.diverged
    assert s.step() != s.step() or math.isnan(s.step())  # no more steps, NaN reported
    s.reset()
    assert s.diverged is None


def test_early_stopping_marker() -> None:
    s = Session(Config(dataset="xor", noise=50, learning_rate=0.3, hidden=(8, 8), patience=5))
    s.run_epochs(60)
    assert s.stop_epoch is not None
    assert s.stop_epoch - s.best_epoch == 5
    tests = s.history["test"][: s.stop_epoch + 1]
    assert tests[s.best_epoch] == min(tests)


def test_regression_uses_the_squared_error_and_values() -> None:
    s = Session(Config(dataset="multigauss"))
    assert type(s.loss_fn).__name__ == "SquaredError"
    out, _ = s.grid_outputs(grid(10))
    assert out.shape == (100,) and np.abs(out).max() <= 1


def test_sessions_compute_at_the_same_time_in_threads_as_they_would_alone():
    """Grad mode is per thread, so one session's no_grad frames (grid outputs, losses) cannot
    switch off another's backward pass: sessions need no process-wide lock."""
    import threading

    def run(session: Session, frames: bool) -> None:
        for _ in range(40):
            session.step()
            if frames:
                session.grid_outputs(np.zeros((64, 2)))
                session.losses()

    def weights(session: Session) -> list[np.ndarray]:
        return [p.data.copy() for p in session.model.parameters()]

    alone = [Session(), Session()]
    for s in alone:
        run(s, frames=False)
    together = [Session(), Session()]
    threads = [threading.Thread(target=run, args=(s, True)) for s in together]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, together, strict=True):
        for wa, wb in zip(weights(a), weights(b), strict=True):
            np.testing.assert_array_equal(wa, wb)
