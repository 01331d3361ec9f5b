"""MLPClassifier: labels, probabilities, training options, weights, continuation, randomness."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import make_blobs, make_multilabel_classification

import chainrule as cr
from chainrule.estimators import MLPClassifier
from chainrule.training import Callback

FAST = {"hidden_layer_sizes": (16,), "epochs": 40, "learning_rate": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=150, centers=3, cluster_std=0.7, random_state=0)
    return X.astype(np.float32), y


def test_string_labels_binary_probabilities(blobs):
    X, y = blobs
    keep = y < 2
    X, labels = X[keep], np.where(y[keep] == 0, "cat", "dog")
    clf = MLPClassifier(**FAST).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog"]
    assert clf.n_outputs_ == 2 and clf.n_features_in_ == 2
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-4, atol=1e-6)
    predicted = clf.predict(X)
    assert set(predicted) <= {"cat", "dog"}
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, labels) > 0.95


def test_multiclass_learns_and_logs_training(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST).fit(X, y)
    assert clf.score(X, y) > 0.9
    assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.history_["loss"])
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert not clf.model_.training  # left in evaluation mode for prediction


def test_untrained_network_predicts_the_class_frequencies():
    # The output bias starts at log(class frequency): with a tiny η nothing else moves.
    X = np.zeros((40, 3), np.float32)
    y = np.array([0] * 10 + [1] * 30)
    clf = MLPClassifier(epochs=1, learning_rate=1e-12, random_state=0).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X[:1]), [[0.25, 0.75]], rtol=1e-4)


def test_sample_weight_weighs_each_samples_loss():
    # Inputs that cannot tell the samples apart: the best probabilities are the (weighted)
    # class shares, which training keeps once the output bias starts there.
    # (Plain SGD: Adam would blow float32 rounding noise in the zero gradient up to steps of η.)
    X = np.zeros((20, 2), np.float32)
    y = np.array([0] * 10 + [1] * 10)
    weights = np.array([1.0] * 10 + [3.0] * 10)
    params = {**FAST, "optimizer": "sgd"}
    plain = MLPClassifier(**params).fit(X, y)
    weighted = MLPClassifier(**params).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(plain.predict_proba(X[:1]), [[0.5, 0.5]], atol=1e-5)
    np.testing.assert_allclose(weighted.predict_proba(X[:1]), [[0.25, 0.75]], atol=1e-5)
    # Unit weights change nothing at all.
    ones = MLPClassifier(**params).fit(X, y, sample_weight=np.ones(20))
    np.testing.assert_array_equal(ones.predict_proba(X), plain.predict_proba(X))


def test_sample_weight_zero_equals_dropping_the_samples(blobs):
    X, y = blobs
    w = (np.arange(len(y)) % 3 != 0).astype(float)
    params = {**FAST, "batch_size": None, "dtype": "float64"}
    weighted = MLPClassifier(**params).fit(X, y, sample_weight=w)
    dropped = MLPClassifier(**params).fit(X[w > 0], y[w > 0])
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-10)


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(n_samples=120, n_classes=4, random_state=0)
    clf = MLPClassifier(**FAST).fit(X, Y)
    assert list(clf.classes_) == [0, 1, 2, 3]
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba > 0) & (proba < 1))
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape and set(np.unique(predicted)) <= {0, 1}
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert np.mean(predicted == Y) > 0.8  # label-wise accuracy


def test_float32_input_is_used_without_a_copy():
    X = np.random.default_rng(0).normal(size=(20000, 50)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    clf = MLPClassifier(hidden_layer_sizes=(8,), epochs=1, batch_size=256, random_state=0)
    tracemalloc.start()
    try:
        clf.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 2, f"fit allocated {peak} bytes for {X.nbytes} bytes of input"
    assert all(p.dtype == np.float32 for p in clf.model_.parameters())
    assert clf.predict_proba(X[:5]).dtype == np.float32
    assert clf.predict_proba(X[:5].astype(np.float64)).dtype == np.float64


def test_float64_networks():
    X, y = make_blobs(n_samples=60, centers=2, random_state=1)
    clf = MLPClassifier(**FAST, dtype="float64").fit(X, y)
    assert all(p.dtype == np.float64 for p in clf.model_.parameters())
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize(
    "params",
    [
        {"optimizer": "sgd", "learning_rate": 0.1},
        {"optimizer": "momentum", "learning_rate": 0.05},
        {"optimizer": "nesterov", "learning_rate": 0.05},
        {"optimizer": "rmsprop"},
        {"optimizer": "adamw"},
        {"activation": "sigmoid"},
        {"activation": "tanh"},
        {"activation": "leaky_relu"},
        {"batch_size": None, "learning_rate": 0.05},
        {"batch_size": 1, "epochs": 5},
        {"dropout": 0.2},
        {"batch_norm": True},
        {"l1": 1e-3, "l2": 0.0},
        {"init": "he"},
        {"init": "normal"},
        {"hidden_layer_sizes": ()},
        {"hidden_layer_sizes": (8, 8, 8)},
        {"lr_schedule": "step"},
        {"lr_schedule": "exponential"},
        {"lr_schedule": "cosine"},
        {"lr_schedule": "plateau", "early_stopping": True},
    ],
)
def test_every_option_trains(blobs, params):
    X, y = blobs
    clf = MLPClassifier(**{**FAST, **params}).fit(X, y)
    assert clf.score(X, y) > 0.85


def test_zero_initialization_keeps_hidden_units_identical(blobs):
    # The lecture's symmetry problem: equal weights get equal gradients, forever.
    X, y = blobs
    clf = MLPClassifier(**{**FAST, "init": "zeros", "activation": "tanh"}).fit(X, y)
    W = clf.model_[0].weight.data
    np.testing.assert_array_equal(W, np.broadcast_to(W[0], W.shape))


def test_penalties_shrink_the_weights(blobs):
    X, y = blobs
    norms = {}
    for name, params in {
        "none": {"l2": 0.0},
        "l2": {"l2": 0.1},
        "l1": {"l1": 0.01, "l2": 0},
    }.items():
        clf = MLPClassifier(**{**FAST, **params}).fit(X, y)
        norms[name] = sum(np.abs(m.weight.data).sum() for m in clf.model_ if hasattr(m, "weight"))
    assert norms["l2"] < 0.7 * norms["none"] and norms["l1"] < 0.7 * norms["none"]


class Recorder(Callback):
    def __init__(self):
        self.logs = []

    def on_epoch_end(self, trainer, epoch, logs):
        self.logs.append(dict(logs))


def test_early_stopping_reports_validation_scores_to_callbacks(blobs):
    X, y = blobs
    recorder = Recorder()
    clf = MLPClassifier(
        **{**FAST, "epochs": 200}, early_stopping=True, patience=3, callbacks=[recorder]
    ).fit(X, y)
    assert clf.n_iter_ < 200  # stopped early
    assert len(clf.validation_scores_) == clf.n_iter_ == len(recorder.logs)
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert [log["val_score"] for log in recorder.logs] == clf.validation_scores_
    assert all("val_loss" in log and "loss" in log for log in recorder.logs)
    assert clf.history_["val_score"] == clf.validation_scores_


def test_early_stopping_restores_the_best_weights():
    X, y = make_blobs(n_samples=200, centers=2, cluster_std=4.0, random_state=0)
    clf = MLPClassifier(
        hidden_layer_sizes=(64,),
        learning_rate=0.05,
        early_stopping=True,
        patience=5,
        l2=0.0,
        random_state=0,
    ).fit(X, y)
    val_losses = clf.history_["val_loss"]
    best = int(np.argmin(val_losses))
    assert best < len(val_losses) - 1  # the last epochs did not improve
    assert clf.n_iter_ == best + 1 + 5


def test_partial_fit_needs_classes_then_continues(blobs):
    X, y = blobs
    clf = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])  # class 2 is still to come
    assert list(clf.classes_) == [0, 1, 2] and clf.n_iter_ == 1
    for _ in range(30):
        clf.partial_fit(X, y)
    # As scikit-learn: n_iter_ counts the last call's epochs, loss_curve_ spans all calls.
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 31
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X[:3], np.array([0, 1, 7]))
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_warm_start_continues_and_cold_start_restarts(blobs):
    X, y = blobs
    clf = MLPClassifier(**{**FAST, "epochs": 5, "tol": 0}).fit(X, y)
    first = clf.model_
    W = first[0].weight.data.copy()
    clf.set_params(warm_start=True).fit(X, y)
    assert clf.model_ is first and clf.n_iter_ == 5 and len(clf.loss_curve_) == 10
    assert not np.array_equal(W, clf.model_[0].weight.data)
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.model_ is not first and clf.n_iter_ == 5
    with pytest.raises(ValueError, match="warm_start"):
        clf.set_params(warm_start=True, hidden_layer_sizes=(3,)).fit(X, y)


def test_random_state_makes_fits_reproducible(blobs):
    X, y = blobs
    params = {**FAST, "dropout": 0.1, "early_stopping": True}
    a = MLPClassifier(**params).fit(X, y).predict_proba(X)
    b = MLPClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = MLPClassifier(**{**params, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)
    # random_state=None draws from the library's generator: cr.set_seed governs it.
    params["random_state"] = None
    cr.set_seed(5)
    d = MLPClassifier(**params).fit(X, y).predict_proba(X)
    cr.set_seed(5)
    e = MLPClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(d, e)


def test_tol_none_runs_every_epoch_and_callbacks_can_stop(blobs):
    X, y = blobs
    assert MLPClassifier(**{**FAST, "epochs": 7, "tol": None}).fit(X, y).n_iter_ == 7

    class StopAfterThree(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            trainer.stop_training = epoch == 2

    clf = MLPClassifier(**{**FAST, "tol": None}, callbacks=[StopAfterThree()]).fit(X, y)
    assert clf.n_iter_ == 3


def test_one_class_is_an_error_that_says_so():
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier().fit(np.ones((5, 2)), ["a"] * 5)


def test_divergence_raises_training_diverged():
    X, y = make_blobs(n_samples=50, centers=2, random_state=0)
    clf = MLPClassifier(optimizer="sgd", learning_rate=1e6, init="normal", random_state=0)
    with pytest.raises(cr.TrainingDiverged, match="learning rate"):
        clf.fit(X * 1e4, y)
