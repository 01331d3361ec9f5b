"""`chainrule export --onnx`: the raw table's columns in, chainrule's predictions out.

The parity check of the issue: onnxruntime fed the raw CSV (read as a user would, with no
chainrule code) matches `chainrule predict` to 1e-5 in probabilities, with identical labels,
on tables with categorical columns and missing values.
"""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import FAST

pd = pytest.importorskip("pandas")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _with_gaps(frame, columns, seed):
    """`frame` with about a sixth of each of `columns` emptied."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    for name in columns:
        frame.loc[rng.random(len(frame)) < 1 / 6, name] = None
    return frame


def _table(n, seed):
    """Animals from two numbers, a colour, a size class written as a number, and gaps."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(50, 10, size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    size = rng.choice([1, 2, 3], size=n)
    score = x1 + 0.05 * (x2 - 50) + np.where(color == "red", 1.5, 0.0) - 0.3 * size
    animal = np.where(score > 0.5, "dog", np.where(score > -0.8, "cat", "bird"))
    frame = pd.DataFrame({"x1": x1, "x2": x2, "color": color, "size": size, "animal": animal})
    return _with_gaps(frame, ["x1", "x2", "color", "size"], seed + 100)


def _raw_inputs(path, session, categorical):
    """The ONNX inputs straight from the CSV: numbers as float32, categories as their text."""
    frame = pd.read_csv(path, dtype={c: str for c in categorical})
    feed = {}
    for i in session.get_inputs():
        column = frame[i.name]
        if i.type == "tensor(string)":
            feed[i.name] = column.fillna("").to_numpy(dtype=object).reshape(-1, 1)
        else:
            feed[i.name] = column.to_numpy(dtype=np.float32).reshape(-1, 1)
    return feed


def test_classifier_on_the_raw_csv_matches_chainrule_predict(tmp_path, cli):
    train, new = tmp_path / "train.csv", tmp_path / "new.csv"
    _table(240, 0).to_csv(train, index=False)
    _table(80, 1).drop(columns=["animal"]).to_csv(new, index=False)
    model, onnx_file, preds = tmp_path / "m.chainrule", tmp_path / "m.onnx", tmp_path / "p.csv"
    args = ("--target", "animal", "--categorical", "size", "--out", model, *FAST)
    assert cli("train", train, *args)[0] == 0
    code, out, err = cli("export", model, "--onnx", onnx_file)
    assert code == 0, err
    assert "inputs: x1, x2, color, size" in out and "checked with onnxruntime" in out
    assert cli("predict", model, new, "--proba", "--out", preds)[0] == 0

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    inputs = {i.name: (i.type, i.shape) for i in session.get_inputs()}
    assert inputs == {
        "x1": ("tensor(float)", ["N", 1]),
        "x2": ("tensor(float)", ["N", 1]),
        "color": ("tensor(string)", ["N", 1]),
        "size": ("tensor(string)", ["N", 1]),
    }
    label, proba = session.run(["label", "probabilities"], _raw_inputs(new, session, ["size"]))
    expected = pd.read_csv(preds)
    assert label.tolist() == expected["animal"].tolist()
    columns = [f"proba_{c}" for c in ("bird", "cat", "dog")]
    np.testing.assert_allclose(proba, expected[columns].to_numpy(), rtol=0, atol=1e-5)
    assert len(set(label.tolist())) > 1  # the check means something: several classes predicted


def test_regressor_on_the_raw_csv_matches_chainrule_predict(tmp_path, cli):
    rng = np.random.default_rng(3)
    n = 300
    x1, x2 = rng.normal(size=n), rng.uniform(0, 10, size=n)
    kind = rng.choice(["a", "b", "c"], size=n)
    price = 100 + 20 * x1 - 3 * x2 + np.where(kind == "a", 15.0, 0.0) + rng.normal(0, 1, n)
    frame = pd.DataFrame({"x1": x1, "kind": kind, "x2": x2, "price": price})
    frame = _with_gaps(frame, ["x1", "kind", "x2"], 4)
    train, new = tmp_path / "train.csv", tmp_path / "new.csv"
    frame.iloc[:240].to_csv(train, index=False)
    frame.iloc[240:].drop(columns=["price"]).to_csv(new, index=False)
    model, onnx_file, preds = tmp_path / "m.chainrule", tmp_path / "m.onnx", tmp_path / "p.csv"
    assert cli("train", train, "--target", "price", "--out", model, *FAST)[0] == 0
    code, _, err = cli("export", model, "--onnx", onnx_file)
    assert code == 0, err
    assert cli("predict", model, new, "--out", preds)[0] == 0

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x1", "kind", "x2"]
    (pred,) = session.run(["prediction"], _raw_inputs(new, session, []))
    expected = pd.read_csv(preds)["price"].to_numpy()
    assert pred.shape == (60, 1)
    # float32 end to end: agreement to float32 precision of prices around 100
    np.testing.assert_allclose(pred.ravel(), expected, rtol=1e-5)
