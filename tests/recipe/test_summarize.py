"""summarize: the numbers it reports and the warnings it raises, on real and planted data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from chainrule.recipe import summarize

pd = pytest.importorskip("pandas")


def test_iris_numbers_and_scale_warning() -> None:
    X, y = load_iris(return_X_y=True)
    s = summarize(X, y)
    assert (s.n_samples, s.n_features, s.task) == (150, 4, "classification")
    assert s.target["classes"] == {"0": 50, "1": 50, "2": 50}
    assert s.target["imbalance_ratio"] == 1.0
    first = s.features[0]
    assert first["mean"] == pytest.approx(X[:, 0].mean())
    assert first["std"] == pytest.approx(X[:, 0].std())
    assert (first["min"], first["max"]) == (X[:, 0].min(), X[:, 0].max())
    assert s.duplicate_rows == 1  # iris has one repeated flower
    assert any("unit scale" in w for w in s.warnings)
    assert not s.leakage and not s.constant_columns


def test_standardized_features_raise_no_scale_warning() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    s = summarize(X, y)
    assert not any("unit scale" in w for w in s.warnings)
    assert s.warnings == []
    assert "No warnings" in str(s)


def test_planted_problems_are_all_found() -> None:
    rng = np.random.default_rng(0)
    n = 200
    y = rng.choice(["cat", "dog"], size=n, p=[0.95, 0.05])
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "copy_of_a": None,
            "constant": 3.0,
            "leak": np.where(y == "dog", 1.0, 0.0),
            "colour": rng.choice(["red", "blue", None], size=n),
        }
    )
    frame["copy_of_a"] = frame["a"]
    frame.loc[5] = frame.loc[4]  # a duplicated row, same target
    y[5] = y[4]
    s = summarize(frame, y)
    assert s.constant_columns == ["constant"]
    assert s.duplicate_columns == [["a", "copy_of_a"]]
    assert (s.duplicate_rows, s.conflicting_duplicates) == (1, 0)
    assert [leak["column"] for leak in s.leakage] == ["leak"]
    colour = next(f for f in s.features if f["name"] == "colour")
    assert colour["kind"] == "categorical" and colour["missing"] > 0 and colour["unique"] == 2
    text = " ".join(s.warnings)
    for phrase in (
        "missing values",
        "constant",
        "repeats column a",
        "1 duplicated row",
        "heavy class imbalance",
        "possible leakage, column leak",
    ):
        assert phrase in text


def test_conflicting_duplicates_are_label_noise() -> None:
    X = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [2.0, 3.0], [2.0, 3.0]])
    s = summarize(X, np.array([0, 0, 1, 1, 1]))
    assert (s.duplicate_rows, s.conflicting_duplicates) == (3, 1)
    assert any("label noise" in w for w in s.warnings)


def test_a_feature_that_separates_the_classes_by_threshold_is_flagged() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=90)
    X = np.column_stack([rng.normal(size=90), y * 10 + rng.uniform(0, 1, size=90)])
    s = summarize(X, y)
    assert [leak["column"] for leak in s.leakage] == ["x1"]
    assert "thresholds" in s.leakage[0]["reason"]


def test_regression_target_and_correlation_leak() -> None:
    X, y = load_diabetes(return_X_y=True)
    s = summarize(X, y)
    assert s.task == "regression"
    assert s.target["mean"] == pytest.approx(y.mean())
    assert s.target["median"] == pytest.approx(np.median(y))
    assert any("far from unit scale" in w for w in s.warnings)
    leaky = np.column_stack([X, y * 0.01 + 1e-4 * np.arange(len(y)) % 3])
    assert [leak["column"] for leak in summarize(leaky, y).leakage] == ["x10"]
    skewed = np.exp(np.random.default_rng(0).normal(0, 1.5, size=500))
    assert any("skewed" in w for w in summarize(np.ones((500, 1)), skewed).warnings)


def test_markdown_and_dict() -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    s = summarize(X, y)
    md = s.to_markdown()
    assert md.startswith("**150 samples, 4 features**")
    assert "| sepal length (cm) | float64 | 0 | 35 |" in md
    assert str(s) == md and s._repr_markdown_() == md
    data = json.loads(json.dumps(s.to_dict()))
    assert data["target"]["classes"]["2"] == 50
    ax = s.plot()
    assert len(ax.patches) == 4


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="2-d"):
        summarize(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="rows but y has"):
        summarize(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="task must be"):
        summarize(np.zeros((5, 2)), np.zeros(5), task="clustering")


def test_advice_knows_what_chainrules_preprocessing_does() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"big": rng.normal(500, 100, 200), "kind": rng.choice(["a", "b", None], 200)})
    y = rng.normal(1000, 300, 200)
    plain = " ".join(summarize(X, y).warnings)
    assert "standardize them" in plain and "impute them" in plain
    told = " ".join(summarize(X, y, preprocessed=True).warnings)
    assert "standardize" not in told and "impute them" not in told
    assert "fills a missing number with the training mean" in told
