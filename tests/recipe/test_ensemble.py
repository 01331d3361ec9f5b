"""Ensemble: averaging of seeded members, classifier/regressor behaviour, the sklearn contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import chainrule as cr
from chainrule.recipe import Ensemble
from chainrule.recipe.ensemble import _bootstrap


def test_classifier_averages_member_probabilities(iris, small_clf) -> None:
    X, y = iris
    ens = Ensemble(small_clf(), n_members=3, random_state=0).fit(X, y)
    assert is_classifier(ens) and len(ens.estimators_) == 3
    assert len(set(ens.member_seeds_)) == 3
    assert ens.workers_ == [None, None, None]
    proba = ens.predict_proba(X)
    members = [m.predict_proba(X) for m in ens.estimators_]
    np.testing.assert_allclose(proba, np.mean(members, axis=0), rtol=1e-6)
    assert not np.allclose(members[0], members[1])  # different seeds, different networks
    np.testing.assert_array_equal(ens.predict(X), ens.classes_[proba.argmax(axis=1)])
    assert ens.score(X, y) == np.mean(ens.predict(X) == y)
    assert ens.n_features_in_ == 4
    assert len(ens.member_scores(X, y)) == 3


def test_string_labels_and_bootstrap(iris, small_clf) -> None:
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    ens = Ensemble(small_clf(), n_members=2, bootstrap=True, random_state=1).fit(X, names)
    assert list(ens.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(ens.predict(X)) <= set(names)
    assert ens.score(X, names) > 0.7


def test_stratified_bootstrap_keeps_class_counts() -> None:
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    rows = _bootstrap(y, True, np.random.default_rng(0))
    assert len(rows) == 20
    np.testing.assert_array_equal(np.bincount(y[rows]), [10, 3, 7])
    assert len(np.unique(rows)) < 20  # drawn with replacement
    plain = _bootstrap(y, False, np.random.default_rng(0))
    assert len(plain) == 20 and plain.max() < 20


def test_regressor_averages_predictions(diabetes, small_reg) -> None:
    X, y = diabetes
    ens = Ensemble(small_reg(), n_members=3, random_state=0).fit(X, y)
    assert is_regressor(ens) and not hasattr(ens, "predict_proba")
    preds = np.mean([m.predict(X) for m in ens.estimators_], axis=0)
    np.testing.assert_allclose(ens.predict(X), preds, rtol=1e-6)
    assert ens.score(X, y) > 0.3


def test_any_estimator_and_reproducibility(diabetes) -> None:
    X, y = diabetes
    ens = Ensemble(LinearRegression(), n_members=2, bootstrap=True, random_state=0).fit(X, y)
    again = Ensemble(LinearRegression(), n_members=2, bootstrap=True, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ens.predict(X), again.predict(X))
    other = Ensemble(LinearRegression(), n_members=2, bootstrap=True, random_state=1).fit(X, y)
    assert not np.array_equal(ens.predict(X), other.predict(X))


def test_sklearn_contract(iris, small_clf) -> None:
    X, y = iris
    ens = Ensemble(small_clf(epochs=5), n_members=2, random_state=0)
    copy = clone(ens)
    assert copy.get_params()["n_members"] == 2 and not hasattr(copy, "estimators_")
    scores = cross_val_score(ens, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.3
    assert is_classifier(Ensemble())  # the default member is an MLPClassifier


def test_bad_parameters(iris, small_clf) -> None:
    X, y = iris
    with pytest.raises(ValueError, match="n_members"):
        Ensemble(small_clf(), n_members=0).fit(X, y)
    with pytest.raises(ValueError, match="bootstrap"):
        Ensemble(small_clf(), bootstrap="yes").fit(X, y)
    with pytest.raises(ValueError, match="scheduler must be"):
        Ensemble(small_clf(), scheduler=8786).fit(X, y)


@pytest.mark.slow
@parametrize_with_checks(
    [
        Ensemble(
            cr.MLPClassifier(hidden_layer_sizes=(16,), epochs=50), n_members=2, random_state=0
        ),
        Ensemble(LinearRegression(), n_members=2, bootstrap=True, random_state=0),
    ]
)
def test_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)
