"""Accuracy on real data bundled with scikit-learn, with the default hyperparameters.

Only ``random_state`` is set (for a deterministic test). Features go through a StandardScaler
in a Pipeline, as the estimators' docstrings recommend; digits (pixel values 0-16) also trains
well unscaled. The side-by-side comparison with scikit-learn's own MLP, with timings, is
benchmarks/estimators_vs_sklearn.py (not timed here).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_friedman1,
)
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.estimators import MLPClassifier, MLPRegressor


def scaled(estimator):
    return make_pipeline(StandardScaler(), estimator)


@pytest.mark.slow
@pytest.mark.parametrize("scale", [True, False])
def test_digits_test_accuracy_at_least_096(scale):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    clf = MLPClassifier(random_state=0)
    model = scaled(clf) if scale else clf
    assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.96
    assert clf.n_iter_ < 200  # stopped once the training loss levelled off


@pytest.mark.parametrize(("load", "threshold"), [(load_breast_cancer, 0.96), (load_iris, 0.93)])
@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_small_classification_sets_cross_validated(load, threshold):
    X, y = load(return_X_y=True)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = cross_val_score(scaled(MLPClassifier(random_state=0)), X, y, cv=folds)
    assert scores.mean() >= threshold


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_diabetes_regression_matches_a_linear_model():
    # Ten features and 442 patients: a linear model is hard to beat; the MLP must not overfit.
    X, y = load_diabetes(return_X_y=True)
    folds = KFold(5, shuffle=True, random_state=0)
    mlp = cross_val_score(scaled(MLPRegressor(random_state=0)), X, y, cv=folds).mean()
    linear = cross_val_score(LinearRegression(), X, y, cv=folds).mean()
    assert mlp >= 0.45 and mlp >= linear - 0.02


def test_nonlinear_regression_beats_a_linear_model():
    X, y = make_friedman1(n_samples=500, noise=1.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    mlp = scaled(MLPRegressor(random_state=0)).fit(X_train, y_train).score(X_test, y_test)
    linear = LinearRegression().fit(X_train, y_train).score(X_test, y_test)
    assert mlp >= 0.85 and mlp > linear + 0.1
    assert np.isfinite(mlp)
