"""The estimators inside scikit-learn's machinery: Pipeline, GridSearchCV, cross_val_score,
clone, pickling, and pandas DataFrames."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule as cr
from chainrule.estimators import MLPClassifier, MLPRegressor

FAST = {"hidden_layer_sizes": (16,), "epochs": 40, "learning_rate": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, np.asarray(load_iris().target_names)[y]  # string labels


def test_public_names_are_the_estimators():
    assert cr.MLPClassifier is MLPClassifier and cr.MLPRegressor is MLPRegressor


def test_pipeline_with_scaler(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**FAST)).fit(X, y)
    assert pipe.score(X, y) > 0.95
    assert set(pipe.predict(X)) == {"setosa", "versicolor", "virginica"}


def test_cross_val_score(iris):
    X, y = iris
    scores = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(**FAST)), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_grid_search_over_hyperparameters(iris):
    X, y = iris
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(**FAST)),
        {
            "mlpclassifier__hidden_layer_sizes": [(2,), (16,)],
            "mlpclassifier__activation": ["relu", "tanh"],
        },
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > 0.9
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_[-1].n_iter_ >= 1


def test_clone_gives_an_unfitted_copy_with_the_same_params(iris):
    X, y = iris
    fitted = MLPClassifier(**FAST).fit(X, y)
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "model_") and not hasattr(twin, "classes_")


def test_pickle_round_trip(iris):
    X, y = iris
    fitted = MLPClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_pandas_dataframe_and_feature_names(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    columns = ["sepal length", "sepal width", "petal length", "petal width"]
    frame = pd.DataFrame(X, columns=columns)
    clf = MLPClassifier(**FAST).fit(frame, pd.Series(y))
    assert list(clf.feature_names_in_) == columns
    with pytest.warns(UserWarning, match="feature names"):  # scikit-learn's reminder
        from_array = clf.predict(X.astype(np.float32))
    np.testing.assert_array_equal(clf.predict(frame), from_array)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"petal width": "stem width"}))
    reg = MLPRegressor(**FAST).fit(frame, frame["petal width"])
    assert list(reg.feature_names_in_) == columns and reg.score(frame, frame["petal width"]) > 0.9


def test_float32_dataframe_stays_float32(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X.astype(np.float32), columns=list("abcd"))
    clf = MLPClassifier(**FAST).fit(frame, y)
    assert clf.predict_proba(frame).dtype == np.float32
