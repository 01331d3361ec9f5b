"""The tabular preprocessing stored in command-line models: kinds, scaling, one-hot, targets."""

from __future__ import annotations

import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from chainrule.data.tabular import (  # noqa: E402
    TabularModel,
    TabularPreprocessor,
    encode_target,
    infer_task,
)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, 40.0, np.nan, 50.0],
            "city": ["Bern", "Basel", None, "Bern", "Genf"],
            "member": [True, False, True, True, False],
            "const": [7, 7, 7, 7, 7],
        }
    )


def test_numeric_columns_are_standardized_and_gaps_filled_with_the_mean():
    prep = TabularPreprocessor().fit(frame())
    X = prep.transform(frame(), dtype=np.float64)
    age = X[:, 0]
    ages = np.array([20.0, 30.0, 40.0, 50.0])
    expected = (np.array([20, 30, 40, ages.mean(), 50]) - ages.mean()) / ages.std()
    np.testing.assert_allclose(age, expected)
    assert age[3] == 0.0  # the missing value sits at the mean
    const = X[:, prep.feature_names_.index("const")]
    np.testing.assert_array_equal(const, 0.0)  # a constant column: centred, scale 1


def test_text_and_booleans_are_one_hot_encoded():
    prep = TabularPreprocessor().fit(frame())
    assert prep.feature_names_ == [
        "age",
        "city=Basel",
        "city=Bern",
        "city=Genf",
        "member=False",
        "member=True",
        "const",
    ]
    X = prep.transform(frame())
    city = X[:, 1:4]
    np.testing.assert_array_equal(city, [[0, 1, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X[:, 4] + X[:, 5], 1)


def test_unknown_categories_error_or_ignore():
    prep = TabularPreprocessor().fit(frame())
    new = frame().assign(city=["Bern", "Zug", "Basel", "Bern", "Bern"])
    with pytest.raises(ValueError, match=r"column 'city', row 2: unknown category 'Zug'"):
        prep.transform(new)
    X = prep.transform(new, unknown="ignore")
    np.testing.assert_array_equal(X[1, 1:4], 0)


def test_forced_categorical_numbers_match_whatever_their_dtype():
    train = pd.DataFrame({"zone": [1, 2, 3, 1]})
    prep = TabularPreprocessor(categorical=["zone"]).fit(train)
    assert prep.feature_names_ == ["zone=1", "zone=2", "zone=3"]
    # Read again with a gap, the column becomes float (1.0, 2.0): same categories.
    later = pd.DataFrame({"zone": [2.0, np.nan, 1.0]})
    np.testing.assert_array_equal(prep.transform(later), [[0, 1, 0], [0, 0, 0], [1, 0, 0]])


def test_text_in_a_numeric_column_is_named_by_row():
    bad = pd.DataFrame({"x": ["1", "2", "3", "4", "five", "6"]})
    with pytest.raises(ValueError, match=r"column 'x', row 5: 'five' is not a number"):
        TabularPreprocessor().fit(bad)
    prep = TabularPreprocessor().fit(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(ValueError, match=r"column 'x', row 2: 'b' is not a number"):
        prep.transform(pd.DataFrame({"x": ["1", "b"]}))
    with pytest.raises(ValueError, match=r"column 'x', row 1: infinite"):
        prep.transform(pd.DataFrame({"x": [np.inf, 1.0]}))
    with pytest.raises(ValueError, match=r"lacks 1 column\(s\).*'x'"):
        prep.transform(pd.DataFrame({"y": [1.0]}))


def test_input_must_be_a_table_with_named_columns():
    prep = TabularPreprocessor().fit({"x": [1.0, 2.0], "c": ["a", "b"]})  # a dict of columns
    assert prep.feature_names_ == ["x", "c=a", "c=b"]
    with pytest.raises(ValueError, match=r"DataFrame.*got ndarray"):
        prep.transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="DataFrame"):
        prep.transform(np.zeros((2, 2, 2)))


def test_json_round_trip_transforms_identically():
    prep = TabularPreprocessor(categorical=["const"]).fit(frame())
    data = json.loads(json.dumps(prep.to_json()))
    again = TabularPreprocessor.from_json(data)
    np.testing.assert_array_equal(again.transform(frame()), prep.transform(frame()))
    assert again.feature_names_ == prep.feature_names_


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"columns": []},
        {"columns": [{"name": "a", "kind": "numeric", "mean": 0.0, "scale": 0.0}]},
        {"columns": [{"name": "a", "kind": "numeric", "mean": "x", "scale": 1.0}]},
        {"columns": [{"name": "a", "kind": "categorical", "categories": [1, 2]}]},
        {"columns": [{"name": "a", "kind": "evil"}]},
        {"columns": ["a"]},
    ],
)
def test_malformed_json_is_rejected(data):
    with pytest.raises(ValueError):
        TabularPreprocessor.from_json(data)


@pytest.mark.parametrize(
    ("values", "task"),
    [
        (["a", "b", "a"], "classification"),
        ([True, False, True], "classification"),
        ([0, 1, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2], "classification"),
        ([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0], "classification"),
        ([0.5, 1.25, 3.0, 0.5], "regression"),
        (list(range(100)), "regression"),  # many distinct integers: a quantity
    ],
)
def test_infer_task(values, task):
    assert infer_task(pd.Series(values)) == task


def test_encode_target_keeps_label_types():
    assert encode_target(pd.Series(["x", "y"]), "classification", "t").dtype.kind == "U"
    assert encode_target(pd.Series([True, False]), "classification", "t").dtype == bool
    ints = encode_target(pd.Series([1.0, 2.0, 1.0]), "classification", "t")
    assert ints.dtype == np.int64 and ints.tolist() == [1, 2, 1]
    values = encode_target(pd.Series(["1.5", "2"]), "regression", "t")
    np.testing.assert_array_equal(values, [1.5, 2.0])


@pytest.mark.parametrize(
    ("values", "task", "message"),
    [
        (["a", None, "b"], "classification", r"target column 't' has a missing value in row 2"),
        ([1.0, 2.0, np.nan, np.nan], "regression", r"missing value in row 3 \(and 1 more\)"),
        (["1", "x", "3"], "regression", r"target column 't', row 2: 'x' is not a number"),
        (["a", "a"], "classification", r"single class \('a'\)"),
    ],
)
def test_encode_target_errors_name_the_row(values, task, message):
    with pytest.raises(ValueError, match=message):
        encode_target(pd.Series(values), task, "t")


def test_infer_task_rejects_a_damaged_numeric_target():
    y = pd.Series([str(v) for v in range(20)] + ["oops"], name="t")
    with pytest.raises(ValueError, match=r"target column 't', row 21: 'oops'.*--task"):
        infer_task(y)


def test_tabular_model_maps_regression_outputs_back():
    class Doubler:  # a stand-in estimator: predicts twice the first feature
        _dtype = np.dtype(np.float64)

        def predict(self, X):
            return 2 * X[:, 0]

    prep = TabularPreprocessor().fit(pd.DataFrame({"x": [0.0, 2.0]}))  # mean 1, sd 1
    model = TabularModel(
        Doubler(), prep, task="regression", target="y", target_mean=10.0, target_scale=3.0
    )
    # x = 2 -> standardized 1 -> estimator 2 -> 2 * 3 + 10 = 16
    np.testing.assert_allclose(model.predict(pd.DataFrame({"x": [2.0, 1.0]})), [16.0, 10.0])
    with pytest.raises(ValueError, match="classification"):
        model.predict_proba(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="task"):
        TabularModel(Doubler(), prep, task="ranking", target="y")


def test_the_recipe_and_the_command_line_infer_the_same_task() -> None:
    import pandas as pd

    from chainrule.data.tabular import infer_task
    from chainrule.recipe._common import infer_task as recipe_task

    rng = np.random.default_rng(0)
    cases = [
        rng.integers(0, 3, 50),
        rng.integers(0, 40, 50),
        rng.normal(size=50),
        np.r_[rng.integers(0, 2, 49).astype(float), np.nan],
        np.r_[rng.integers(0, 2, 49).astype(float), np.inf],
        np.array([1.0, 2.0]),
        np.array([np.nan, np.nan]),
    ]
    for y in cases:
        assert recipe_task(y) == infer_task(pd.Series(y)), y
