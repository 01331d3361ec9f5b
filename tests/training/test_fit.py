"""`cr.fit`: the three regimes, epoch losses, seeds, train/eval modes, validation, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from trainkit import Recorder, make_data, make_model, same_weights

import chainrule as cr
from chainrule.autograd import is_grad_enabled
from chainrule.training import History, Trainer


class CountingSGD(cr.optim.SGD):
    """SGD that counts its steps."""

    steps = 0

    def step(self, closure=None):
        self.steps += 1
        return super().step(closure)


def _fit(model, X, y, **kw):
    kw.setdefault("epochs", 1)
    kw.setdefault("progress", False)
    opt = kw.pop("optimizer", None) or cr.optim.SGD(model.parameters(), lr=0.1)
    return cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y, **kw), opt


# ---------------------------------------------------------------------- the three regimes
@pytest.mark.parametrize(
    ("batch_size", "steps", "sizes"),
    [
        (None, 1, [10]),  # batch gradient descent
        (1, 10, [1] * 10),  # stochastic gradient descent
        (4, 3, [4, 4, 2]),  # minibatch: ⌈10/4⌉ steps, the last one partial
    ],
)
def test_one_optimizer_step_per_batch_in_each_regime(batch_size, steps, sizes):
    X, y = make_data(10)
    model = make_model()
    opt = CountingSGD(model.parameters(), lr=0.1)
    rec = Recorder()
    _fit(model, X, y, epochs=3, batch_size=batch_size, optimizer=opt, callbacks=[rec])
    assert opt.steps == 3 * steps
    assert rec.batch_sizes == sizes * 3


def test_batch_gradient_descent_takes_the_average_gradient_step():
    # One epoch with batch_size=None is one step w ← w − η · (1/N) Σₙ ∂Eₙ/∂w.
    X, y = make_data(12)
    model = make_model()
    reference = make_model()
    loss = cr.nn.CrossEntropyLoss()
    loss(reference(cr.Tensor(X)), y).backward()  # the mean over all N samples
    expected = {name: p.data - 0.5 * p.grad for name, p in reference.named_parameters()}
    _fit(model, X, y, batch_size=None, optimizer=cr.optim.SGD(model.parameters(), lr=0.5))
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, expected[name], rtol=1e-6, atol=1e-7)


def test_sgd_visits_samples_in_a_shuffled_order_each_epoch():
    X, y = make_data(8)
    seen = []

    class Spy(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = make_model()

        def forward(self, x):
            seen.append(x.data[0, 0])
            return self.net(x)

    model = Spy()
    _fit(model, X, y, epochs=2, batch_size=1, seed=0)
    first, second = seen[:8], seen[8:]
    assert sorted(first) == sorted(second) == sorted(X[:, 0])
    assert first != second and first != list(X[:, 0])


def test_epoch_loss_is_the_batch_mean_weighted_by_batch_size():
    # With η = 0 the weights stay put, so the epoch's loss must equal the loss on all the data:
    # batches of 4, 4, 2 weighted 4:4:2. An unweighted mean of the three would differ.
    X, y = make_data(10)
    model = make_model()
    full = cr.nn.CrossEntropyLoss()(model(cr.Tensor(X)), y).item()
    history, _ = _fit(
        model, X, y, batch_size=4, shuffle=False, optimizer=cr.optim.SGD(model.parameters(), 0.0)
    )
    assert history["loss"][0] == pytest.approx(full, rel=1e-6)
    losses = [
        cr.nn.CrossEntropyLoss()(model(cr.Tensor(X[i : i + 4])), y[i : i + 4]).item()
        for i in (0, 4, 8)
    ]
    assert abs(np.mean(losses) - full) > 1e-4  # the test can tell the two apart


def test_training_reduces_the_loss_and_returns_a_history(data):
    X, y = data
    model = make_model()
    history, _ = _fit(model, X, y, epochs=30, batch_size=8, metrics=["accuracy"], seed=0)
    assert isinstance(history, History) and len(history) == 30
    assert history.history is not None and set(history) == {"loss", "accuracy", "lr"}
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] >= 0.9
    assert history.epoch == list(range(30)) and history["lr"] == [0.1] * 30


# ---------------------------------------------------------------------- seeds
def _run(seed, set_seed=None, dropout=0.3):
    X, y = make_data()
    model = make_model(dropout=dropout)
    if set_seed is not None:
        cr.set_seed(set_seed)
    history, _ = _fit(model, X, y, epochs=3, batch_size=7, seed=seed)
    return model.state_dict(), history.history


def test_seed_makes_runs_bit_identical_and_different_seeds_differ():
    w1, h1 = _run(seed=5)
    w2, h2 = _run(seed=5)
    assert same_weights(w1, w2) and h1 == h2
    w3, _ = _run(seed=6)
    assert not same_weights(w1, w3)


def test_set_seed_makes_runs_without_a_seed_identical():
    w1, h1 = _run(seed=None, set_seed=3)
    w2, h2 = _run(seed=None, set_seed=3)
    w3, _ = _run(seed=None, set_seed=4)
    assert same_weights(w1, w2) and h1 == h2
    assert not same_weights(w1, w3)


def test_a_generator_as_seed_is_used_for_shuffling():
    X, y = make_data()
    out = []
    for _ in range(2):
        model = make_model()
        _fit(model, X, y, epochs=2, batch_size=5, seed=np.random.default_rng(9))
        out.append(model.state_dict())
    assert same_weights(*out)


# ---------------------------------------------------------------------- modes
class ModeSpy(cr.nn.Module):
    """Scales its output by 2 in evaluation mode; records (training, grad enabled) per call."""

    def __init__(self):
        super().__init__()
        self.net = make_model()
        self.calls: list[tuple[bool, bool, int]] = []

    def forward(self, x):
        self.calls.append((self.training, is_grad_enabled(), len(x)))
        out = self.net(x)
        return out if self.training else out * 2.0


def test_training_mode_for_steps_eval_mode_without_graph_for_validation():
    X, y = make_data(20)
    Xv, yv = make_data(9, seed=1)
    model = ModeSpy()
    model.eval()
    history, _ = _fit(model, X, y, epochs=2, batch_size=10, validation_data=(Xv, yv))
    train_calls = [c for c in model.calls if c[2] == 10]
    val_calls = [c for c in model.calls if c[2] == 9]
    assert train_calls == [(True, True, 10)] * 4
    assert val_calls == [(False, False, 9)] * 2
    assert not model.training  # left in the mode it had
    # val_loss is the evaluation-mode loss of the final weights (doubled logits).
    with cr.no_grad():
        expected = cr.nn.CrossEntropyLoss()(model(cr.Tensor(Xv)), yv).item()
        model.train()
        train_mode = cr.nn.CrossEntropyLoss()(model(cr.Tensor(Xv)), yv).item()
    assert history["val_loss"][-1] == pytest.approx(expected, rel=1e-6)
    assert abs(expected - train_mode) > 1e-3


def test_validation_metrics_and_split(data):
    X, y = data
    model = ModeSpy()
    history, _ = _fit(model, X, y, epochs=2, validation_split=0.25, metrics=["accuracy"])
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert max(c[2] for c in model.calls if not c[0]) == 15  # ⌈0.25 · 60⌉ held out
    assert sum(c[2] for c in model.calls if c[0]) == 2 * 45


def test_custom_metric_functions(data):
    X, y = data

    def positive_rate(y_true, y_pred):
        return float(np.mean(y_pred.argmax(axis=1) == 1))

    history, _ = _fit(make_model(), X, y, validation_data=(X, y), metrics=[positive_rate])
    assert 0.0 <= history["val_positive_rate"][0] <= 1.0 and "positive_rate" in history


def test_sample_weight_reaches_the_loss(data):
    X, y = data
    got = []

    def loss(prediction, target, sample_weight=None):
        got.append(None if sample_weight is None else sample_weight.copy())
        return cr.nn.CrossEntropyLoss()(prediction, target, sample_weight)

    model = make_model()
    w = np.linspace(0.5, 2.0, len(X))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    cr.fit(
        model,
        loss,
        opt,
        X,
        y,
        epochs=1,
        batch_size=20,
        shuffle=False,
        sample_weight=w,
        progress=False,
    )
    assert len(got) == 3
    np.testing.assert_allclose(np.concatenate(got), w, rtol=1e-6)


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X": np.full((4, 3), np.nan)}, "X contains NaN"),
        ({"X": np.zeros((5, 3))}, "X has 5 samples but y has 4"),
        ({"X": np.zeros((0, 3)), "y": np.zeros(0)}, "empty"),
        ({"X": np.array([["a", "b", "c"]] * 4)}, "must be numeric"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"seed": "x"}, "seed"),
        ({"validation_split": 0.5, "validation_data": (np.zeros((2, 3)), [0, 1])}, "not both"),
        ({"validation_data": (np.zeros((2, 3)),)}, "validation_data"),
        ({"validation_data": (np.zeros((2, 3)), [0])}, "validation X has 2 samples"),
        ({"sample_weight": -np.ones(4)}, "non-negative"),
        ({"metrics": ["nope"]}, "unknown metric"),
    ],
)
def test_bad_input_is_rejected_before_any_step(kwargs, message):
    model = make_model()
    opt = CountingSGD(model.parameters(), lr=0.1)
    args = {"X": np.zeros((4, 3)), "y": np.zeros(4, dtype=np.int64), "epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        cr.fit(model, cr.nn.CrossEntropyLoss(), opt, progress=False, **args)
    assert opt.steps == 0


def test_bad_objects_are_rejected():
    model = make_model()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="callbacks must be a list"):
        Trainer(model, cr.nn.CrossEntropyLoss(), opt, callbacks=cr.EarlyStopping())
    with pytest.raises(ValueError, match="is not a callback"):
        Trainer(model, cr.nn.CrossEntropyLoss(), opt, callbacks=[object()])
    with pytest.raises(ValueError, match="step"):
        Trainer(model, cr.nn.CrossEntropyLoss(), object())


# ---------------------------------------------------------------------- divergence
def test_huge_learning_rate_raises_training_diverged_and_keeps_finite_weights():
    # Linear least squares with η far above 2/λ_max: the error grows ~1000× per step until
    # float32 overflows.
    X, _ = make_data(40)
    y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32)
    cr.set_seed(0)
    model = cr.nn.Sequential(cr.nn.Dense(3, 1))
    steps = []
    rec = Recorder()
    rec.on_batch_end = lambda trainer, step, logs: steps.append(trainer.model.state_dict())
    opt = cr.optim.SGD(model.parameters(), lr=1e3)
    with pytest.raises(cr.TrainingDiverged) as info:
        cr.fit(
            model,
            cr.nn.MSELoss(),
            opt,
            X,
            y[:, None],
            epochs=50,
            batch_size=4,
            callbacks=[rec],
            progress=False,
        )
    exc = info.value
    assert exc.epoch >= 1 and 1 <= exc.step <= 10
    assert (exc.epoch - 1) * 10 + exc.step == len(steps) + 1  # the step after the last good one
    message = str(exc)
    assert f"epoch {exc.epoch} of 50" in message and f"step {exc.step} of 10" in message
    assert "smaller learning rate" in message and "try 100" in message
    final = model.state_dict()
    assert all(np.isfinite(a).all() for a in final.values())
    assert same_weights(final, steps[-1])  # the weights after the last good step


def test_a_step_that_makes_weights_non_finite_is_undone():
    X, y = make_data(20)
    model = make_model()

    class Poisoned(cr.optim.SGD):
        calls = 0

        def step(self, closure=None):
            self.calls += 1
            super().step(closure)
            if self.calls == 3:
                self.param_groups[0]["params"][0].data[0, 0] = np.inf

    opt = Poisoned(model.parameters(), lr=0.1)
    before = []
    rec = Recorder()
    rec.on_batch_end = lambda trainer, step, logs: before.append(trainer.model.state_dict())
    with pytest.raises(cr.TrainingDiverged, match="weights non-finite") as info:
        cr.fit(
            model,
            cr.nn.CrossEntropyLoss(),
            opt,
            X,
            y,
            epochs=1,
            batch_size=5,
            callbacks=[rec],
            progress=False,
        )
    assert (info.value.epoch, info.value.step) == (1, 3)
    assert same_weights(model.state_dict(), before[-1])


def test_non_finite_initial_weights_are_rejected(data):
    X, y = data
    model = make_model()
    next(model.parameters()).data[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite weights before training"):
        _fit(model, X, y)


def test_input_dtype_follows_the_parameters():
    X, y = make_data(10)
    model = make_model()
    seen = []
    inner = model.forward
    model.forward = lambda x: (seen.append(x.dtype), inner(x))[1]
    _fit(model, X.astype(np.float64), y)
    assert seen == [np.float32]
    assert math.isfinite(model.state_dict()["0.weight"].sum())


def test_sparse_X_trains_as_its_dense_copy():
    sp = pytest.importorskip("scipy.sparse")
    X, y = make_data(40)
    X[np.abs(X) < 0.5] = 0.0
    runs = []
    for data in (sp.csr_matrix(X), X):
        model = make_model()
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        history = cr.fit(
            model, cr.nn.CrossEntropyLoss(), opt, data, y, epochs=3, batch_size=8,
            validation_split=0.25, seed=0, progress=False, metrics=["accuracy"],
        )  # fmt: skip
        runs.append((history, [p.data.copy() for p in model.parameters()]))
    (h_sparse, w_sparse), (h_dense, w_dense) = runs
    assert h_sparse.history == h_dense.history
    for a, b in zip(w_sparse, w_dense, strict=True):
        np.testing.assert_array_equal(a, b)


def test_sparse_X_with_a_non_finite_value_is_rejected():
    sp = pytest.importorskip("scipy.sparse")
    X, y = make_data(10)
    X[2, 1] = np.nan
    model = make_model()
    with pytest.raises(ValueError, match="NaN"):
        cr.fit(
            model, cr.nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), lr=0.1),
            sp.csr_matrix(X), y, epochs=1, progress=False,
        )  # fmt: skip
