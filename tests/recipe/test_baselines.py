"""baselines: every simple model cross-validated on the same folds, as a table."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from chainrule.recipe import baselines

pd = pytest.importorskip("pandas")


def test_classification_table(iris, small_clf) -> None:
    X, y = iris
    table = baselines(X, y, cv=3, mlp=small_clf(epochs=40, learning_rate=0.01))
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["model", "score", "std", "fit_time_s", "total_time_s"]
    assert table.attrs == {"metric": "accuracy", "task": "classification"}
    scores = dict(zip(table["model"], table["score"], strict=True))
    assert len(scores) == 5
    # Stratified folds of a balanced 3-class set: always guessing one class scores about 1/3.
    assert scores["majority class"] == pytest.approx(1 / 3, abs=0.02)
    assert scores["logistic regression"] > 0.9
    assert scores["chainrule MLP"] > 0.8
    assert (table["std"] >= 0).all() and (table["fit_time_s"] > 0).all()


def test_regression_is_inferred_and_scored_by_r2(diabetes, small_reg) -> None:
    X, y = diabetes
    table = baselines(X, y, cv=3, mlp=small_reg())
    assert table.attrs["task"] == "regression" and table.attrs["metric"] == "R²"
    scores = dict(zip(table["model"], table["score"], strict=True))
    assert scores["mean"] <= 0.0 and scores["mean"] > -0.1  # predicting the mean: R² ≈ 0
    assert scores["linear regression"] > 0.4


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_same_seed_same_table(iris, small_clf) -> None:
    X, y = iris
    a = baselines(X, y, cv=3, mlp=small_clf(), random_state=1)
    b = baselines(X, y, cv=3, mlp=small_clf(), random_state=1)
    np.testing.assert_array_equal(a["score"], b["score"])


def test_bad_input(iris) -> None:
    X, y = iris
    with pytest.raises(ValueError, match="at least 2 folds"):
        baselines(X, y, cv=1)
    with pytest.raises(ValueError, match="numeric"):
        baselines(np.array([["a"], ["b"]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="rows but y has"):
        baselines(X, y[:-1])


def test_missing_sklearn_names_the_extra(monkeypatch, iris) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now fails
    with pytest.raises(ImportError, match=r"chainrule\[sklearn\]"):
        baselines(*iris)
