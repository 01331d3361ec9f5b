"""overfit_batch: a working network memorizes a few samples; a crippled one does not."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule as cr
from chainrule.recipe import overfit_batch
from chainrule.recipe.overfit import knowing_nothing_loss


def test_passes_with_regularization_switched_off(cancer) -> None:
    X, y = cancer
    heavy = cr.MLPClassifier(hidden_layer_sizes=(32,), dropout=0.5, l2=1.0, early_stopping=True)
    result = overfit_batch(heavy, X, y, n_samples=24)
    assert result.passed
    assert result.n_samples == 24
    assert result.final_loss <= result.target_loss < result.initial_loss
    assert result.train_score == 1.0
    assert result.changed["dropout"] == 0.0 and result.changed["l2"] == 0.0
    assert result.changed["early_stopping"] is False
    assert len(result.losses) == result.epochs < 500  # stopped once the loss was ~0
    assert heavy.dropout == 0.5  # the estimator passed in is left alone
    assert "PASSED" in str(result)


def test_target_is_relative_to_the_loss_of_knowing_nothing() -> None:
    y = np.array([0, 0, 0, 1])
    p = np.array([0.75, 0.25])
    assert knowing_nothing_loss(y, True, None) == pytest.approx(-(p * np.log(p)).sum())
    t = np.array([1.0, 2.0, 3.0, 6.0])
    assert knowing_nothing_loss(t, False, "squared_error") == pytest.approx(0.5 * t.var())
    assert knowing_nothing_loss(t, False, "mse") == pytest.approx(t.var())


def test_fails_when_the_network_cannot_learn(cancer) -> None:
    X, y = cancer
    frozen = cr.MLPClassifier(hidden_layer_sizes=(8,), learning_rate=1e-7)
    result = overfit_batch(frozen, X, y, epochs=50)
    assert not result.passed
    assert result.epochs == 50
    assert "FAILED" in str(result) and "learning rate" in str(result)


def test_pipeline_and_regression(diabetes) -> None:
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), cr.MLPRegressor(hidden_layer_sizes=(64,)))
    result = overfit_batch(pipe, X, y, n_samples=16, epochs=800)
    assert result.passed and result.train_score > 0.98
    ax = result.plot()
    assert ax.get_yscale() == "log" and len(ax.lines) == 2


def test_rejects_other_estimators_and_bad_options(cancer) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = cancer
    with pytest.raises(ValueError, match="needs a chainrule MLPClassifier"):
        overfit_batch(LogisticRegression(), X, y)
    with pytest.raises(ValueError, match="n_samples"):
        overfit_batch(cr.MLPClassifier(), X, y, n_samples=0)
    with pytest.raises(ValueError, match="rel_tol"):
        overfit_batch(cr.MLPClassifier(), X, y, rel_tol=2)


def test_unscaled_data_is_what_the_check_is_for() -> None:
    # The estimator is checked as given: on raw breast-cancer features (standard deviations
    # from 0.002 to 500) the network learns, but too slowly to reach ~0; the result says why
    # and how to fix it, and the fixed pipeline (its scaler fitted on the subset) passes.
    X, y = load_breast_cancer(return_X_y=True)
    raw = overfit_batch(cr.MLPClassifier(), X, y, epochs=200)
    piped = overfit_batch(make_pipeline(StandardScaler(), cr.MLPClassifier()), X, y, epochs=200)
    scaled = overfit_batch(cr.MLPClassifier(), (X - X.mean(0)) / X.std(0), y, epochs=200)
    assert piped.passed and scaled.passed
    assert piped.unscaled is None and scaled.unscaled is None
    assert not raw.passed
    assert raw.initial_loss > 3 * scaled.initial_loss  # huge inputs: saturated, confident logits
    assert raw.unscaled is not None and "standard deviations" in raw.unscaled
    text = str(raw)
    assert "make_pipeline(StandardScaler(), estimator)" in text
    assert "does learn" in text and raw.train_score == 1.0  # not "cannot memorize"


def test_a_pipeline_without_a_scaler_is_flagged_too(cancer) -> None:
    from sklearn.preprocessing import FunctionTransformer

    X, y = cancer
    double = make_pipeline(FunctionTransformer(lambda A: 100 * A), cr.MLPClassifier())
    result = overfit_batch(double, X, y, epochs=5)
    assert result.unscaled is not None and "|means|" in result.unscaled


def test_scale_problem_rule() -> None:
    from chainrule.recipe.overfit import scale_problem

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(50, 3))
    assert scale_problem(Z) is None
    assert scale_problem(np.c_[Z, np.ones(50)]) is None  # a constant column is ignored
    assert scale_problem(Z * [1, 1, 50]) is not None  # one wide column
    assert scale_problem(Z + np.array([0, 10, 0])) is not None  # one far from 0
    assert scale_problem(np.array([["a", "b"], ["c", "d"]])) is None  # not numbers
