"""The trainer's step without a graph (`chainrule.fast.train_step`) equals the generic step.

Each test trains the same seeded model twice, once with the fused step and once with it
switched off (`plan_step` returning None), and compares every weight, every ``p.grad`` and
the loss history bit for bit; and checks that the fused step did run (or, for the cases it
must leave alone, that it did not).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.training.trainer as trainer_module
from chainrule.fast.train_step import DenseStep
from chainrule.training.fused import plan_step


def _data(task: str, n: int = 45, d: int = 5, k: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    if task == "classify":
        return X, rng.integers(0, k, n)
    return X, rng.standard_normal((n, k)).astype(np.float32)


def _model(d: int = 5, k: int = 3, act: type = cr.nn.ReLU, flatten: bool = True, dtype=np.float32):
    cr.set_seed(0)
    model = cr.nn.Sequential(
        cr.nn.Dense(d, 7, dtype=dtype),
        act(),
        cr.nn.Dense(7, 6, dtype=dtype),
        cr.nn.Tanh(),
        cr.nn.Dense(6, k, dtype=dtype),
    )
    if flatten:
        model.flatten_parameters()
    return model


def _train(fused: bool, monkeypatch, model_args=(), loss=None, task="classify", **fit_kw):
    """(weights, grads, history losses, fused steps run) after 3 epochs of cr.fit."""
    X, y = _data(task)
    model = _model(**dict(model_args))
    X = X.astype(model[0].weight.dtype)
    runs = []
    backward = DenseStep.backward

    def counted(self):
        runs.append(1)
        backward(self)

    with monkeypatch.context() as m:
        m.setattr(DenseStep, "backward", counted)
        if not fused:
            m.setattr(trainer_module, "plan_step", lambda *a: None)
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)
        history = cr.fit(
            model, loss, opt, X, y, epochs=3, batch_size=8, seed=0, progress=False, **fit_kw
        )
    params = list(model.parameters())
    return (
        [p.data.copy() for p in params],
        [None if p.grad is None else p.grad.copy() for p in params],
        history["loss"],
        len(runs),
    )


def _same(a, b) -> bool:
    return all(
        (x is None and y is None) or (x.dtype == y.dtype and x.tobytes() == y.tobytes())
        for x, y in zip(a, b, strict=True)
    )


def _compare(monkeypatch, expect_fused: bool = True, **kw) -> None:
    w1, g1, h1, n1 = _train(True, monkeypatch, **kw)
    w0, g0, h0, n0 = _train(False, monkeypatch, **kw)
    assert n0 == 0
    assert (n1 > 0) == expect_fused
    assert _same(w1, w0)
    assert _same(g1, g0)
    assert h1 == h0


CLASSIFY = [cr.nn.losses.cross_entropy, cr.nn.CrossEntropyLoss()]
REGRESS = [cr.nn.losses.mse_loss, cr.nn.MSELoss(), cr.nn.losses.squared_error, cr.nn.SquaredError()]


@pytest.mark.parametrize("loss", CLASSIFY, ids=["function", "module"])
@pytest.mark.parametrize("flatten", [True, False], ids=["flat", "not flat"])
def test_cross_entropy_steps_equal_the_graphs(loss, flatten, monkeypatch, both_paths):
    _compare(monkeypatch, loss=loss, model_args={"flatten": flatten})


@pytest.mark.parametrize("loss", [CLASSIFY[1], REGRESS[1]], ids=["cross_entropy", "mse"])
def test_float64_steps_equal_the_graphs(loss, monkeypatch, both_paths):
    task = "classify" if loss is CLASSIFY[1] else "regress"
    _compare(monkeypatch, loss=loss, task=task, model_args={"dtype": np.float64})


@pytest.mark.parametrize("loss", REGRESS, ids=["mse", "MSELoss", "squared_error", "module"])
def test_regression_steps_equal_the_graphs(loss, monkeypatch, both_paths):
    _compare(monkeypatch, loss=loss, task="regress", model_args={"act": cr.nn.Sigmoid})


def test_a_column_target_for_one_output_equals_the_graph(monkeypatch):
    X = np.random.default_rng(1).standard_normal((20, 5)).astype(np.float32)
    y = X[:, 0] - X[:, 1]  # (N,) for a (N, 1) output: matched up by the loss
    results = []
    for fused in (True, False):
        model = _model(k=1)
        with monkeypatch.context() as m:
            if not fused:
                m.setattr(trainer_module, "plan_step", lambda *a: None)
            opt = cr.optim.SGD(model.parameters(), lr=0.1)
            cr.fit(model, cr.nn.MSELoss(), opt, X, y, epochs=2, batch_size=6, progress=False)
        results.append([p.data.copy() for p in model.parameters()])
    assert _same(*results)


@pytest.mark.parametrize(
    "penalties", [{"l2": 1e-2}, {"l1": 1e-2, "l2": 0.0}, {"l1": 3e-3, "l2": 2e-2}]
)
def test_estimator_penalties_equal_the_graphs(penalties, monkeypatch, both_paths):
    X, y = _data("classify", n=80)
    fits = []
    for fused in (True, False):
        with monkeypatch.context() as m:
            if not fused:
                m.setattr(trainer_module, "plan_step", lambda *a: None)
            clf = cr.MLPClassifier(
                hidden_layer_sizes=(9,), epochs=4, batch_size=16, random_state=0, **penalties
            ).fit(X, y)
        fits.append(clf)
    a, b = fits
    assert a.loss_curve_ == b.loss_curve_
    pa, pb = list(a.model_.parameters()), list(b.model_.parameters())
    assert _same([p.data for p in pa], [p.data for p in pb])
    assert _same([p.grad for p in pa], [p.grad for p in pb])


def test_the_estimator_plans_a_fused_step():
    clf = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=1)
    X, y = _data("classify")
    clf.fit(X, y)
    from chainrule.estimators.network import make_loss

    loss = make_loss("cross_entropy", clf.model_, clf._check_params())
    step = plan_step(clf.model_, loss, y)
    assert isinstance(step, DenseStep)
    assert [p.lam for p in step.penalties] == [clf.l2]


class Swap(cr.nn.Sequential):
    def forward(self, x):  # a subclass that changes forward: its own code must run
        return super().forward(x) * 2.0


@pytest.mark.parametrize(
    "model, loss, y",
    [
        (cr.nn.Sequential(cr.nn.Dense(5, 3), fuse=False), cr.nn.CrossEntropyLoss(), [0, 1]),
        (Swap(cr.nn.Dense(5, 3)), cr.nn.CrossEntropyLoss(), [0, 1]),
        (cr.nn.Sequential(cr.nn.Dense(5, 3), cr.nn.Dropout(0.5)), cr.nn.CrossEntropyLoss(), [0]),
        (cr.nn.Sequential(cr.nn.Dense(5, 3)), cr.nn.CrossEntropyLoss(label_smoothing=0.1), [0]),
        (cr.nn.Sequential(cr.nn.Dense(5, 3)), cr.nn.CrossEntropyLoss(weight=[1, 2, 3]), [0]),
        (cr.nn.Sequential(cr.nn.Dense(5, 3)), cr.nn.CrossEntropyLoss(), [0, 3]),  # 3: no class
        (cr.nn.Sequential(cr.nn.Dense(5, 3)), cr.nn.CrossEntropyLoss(), [0.5, 1]),
        (cr.nn.Sequential(cr.nn.Dense(5, 3)), cr.nn.BinaryCrossEntropy(), [[0, 1, 0]]),
        (cr.nn.Sequential(cr.nn.Dense(5, 3)), cr.nn.MSELoss(), [[0.0, 1.0]]),  # 2 of 3 columns
        (cr.nn.Sequential(cr.nn.Dense(5, 3)), lambda p, t: cr.nn.MSELoss()(p, t), [[0, 1, 2]]),
    ],
    ids=[
        "fuse=False",
        "subclass",
        "dropout",
        "smoothing",
        "class weights",
        "bad label",
        "fractional label",
        "other loss",
        "target shape",
        "unknown callable",
    ],
)
def test_what_the_fused_step_leaves_to_the_graph(model, loss, y):
    assert plan_step(model, loss, np.asarray(y)) is None


def test_invalid_labels_still_fail_where_they_did():
    X, _ = _data("classify", n=16)
    y = np.zeros(16, int)
    y[-1] = 7  # in the second batch
    model = _model()
    before = [p.data.copy() for p in model.parameters()]
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="labels must lie in"):
        cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y,
               epochs=1, batch_size=8, shuffle=False, progress=False)  # fmt: skip
    # the first batch was stepped, as the graph's per-batch check lets it
    assert not _same(before, [p.data for p in model.parameters()])


def test_weighted_samples_and_frozen_parameters_take_the_graph(monkeypatch):
    X, y = _data("classify")
    w = np.linspace(0.5, 1.5, len(y))
    _compare(monkeypatch, expect_fused=False, loss=cr.nn.CrossEntropyLoss(), sample_weight=w)

    # A frozen first layer: the fused step would write its gradient; the graph gives none.
    def frozen(fused):
        model = _model()
        model[0].weight.requires_grad = False
        with monkeypatch.context() as m:
            if not fused:
                m.setattr(trainer_module, "plan_step", lambda *a: None)
            opt = cr.optim.Adam([p for p in model.parameters() if p.requires_grad])
            cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y, epochs=2, progress=False)
        return [p.data.copy() for p in model.parameters()], model[0].weight.grad

    (a, ga), (b, gb) = frozen(True), frozen(False)
    assert _same(a, b) and ga is None and gb is None


def test_a_batch_callback_that_replaces_a_layer_gets_the_graph(monkeypatch):
    class Replace(cr.callbacks.Callback):
        def on_batch_end(self, trainer, step, logs):
            if step == 1:
                setattr(trainer.model, "4", cr.nn.Dense(6, 3))

    X, y = _data("classify")
    model = _model(flatten=False)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    cr.fit(model, cr.nn.CrossEntropyLoss(), opt, X, y, epochs=1, batch_size=8,
           callbacks=[Replace()], progress=False)  # fmt: skip
    new_layer = model[4]
    assert new_layer.weight.grad is not None  # the new layer was trained through the graph
