"""``fit(..., validation_data=...)``: early stopping on given rows; `best_epoch_`, `stopped_by_`."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.estimators import MLPClassifier, MLPRegressor


def _data(classifier: bool):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * rng.normal(size=200)
    return X, (y > 0).astype(int) if classifier else y


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_early_stopping_on_validation_data_keeps_the_best_epoch(cls):
    X, y = _data(cls is MLPClassifier)
    est = cls(hidden_layer_sizes=(8,), epochs=60, early_stopping=True, patience=3, random_state=0)
    est.fit(X[:150], y[:150], validation_data=(X[150:], y[150:]))
    scores = est.validation_scores_
    assert len(scores) == est.n_iter_ == len(est.history_["val_loss"])
    # The network holds the weights of best_epoch_: its score on those rows is that epoch's.
    assert est.score(X[150:], y[150:]) == pytest.approx(scores[est.best_epoch_ - 1], abs=1e-6)
    assert est.stopped_by_ in ("early_stopping", "epochs")


def test_validation_data_without_early_stopping_is_scored_only():
    X, y = _data(False)
    est = MLPRegressor(hidden_layer_sizes=(8,), epochs=7, tol=None, random_state=0)
    est.fit(X[:150], y[:150], validation_data=(X[150:], y[150:]))
    assert est.n_iter_ == est.best_epoch_ == 7 and est.stopped_by_ == "epochs"
    assert len(est.validation_scores_) == 7


def test_the_training_loss_rule_is_reported():
    X, y = _data(False)
    est = MLPRegressor(hidden_layer_sizes=(8,), epochs=500, tol=10.0, patience=2, random_state=0)
    est.fit(X, y)
    assert est.n_iter_ < 500 and est.stopped_by_ == "tol" and est.best_epoch_ == est.n_iter_
