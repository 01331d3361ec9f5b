"""`cr.export_onnx`: models in Python to ONNX graphs that onnxruntime runs like chainrule."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from chainrule.data.tabular import TabularModel, TabularPreprocessor  # noqa: E402
from chainrule.onnx_export import onnx_inputs, to_onnx  # noqa: E402


def _tabular(y_kind: str, dtype: str = "float32") -> tuple[TabularModel, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {
            "height": rng.normal(170, 10, n),
            "team": rng.choice(["north", "south", "east"], n),
            "label_count": rng.integers(0, 5, n).astype(float),
        }
    )
    frame.loc[::7, "height"] = np.nan
    frame.loc[::9, "team"] = None
    score = (frame["height"].fillna(170) - 170) / 10 + (frame["team"] == "north")
    y = {
        "text": np.where(score > 0.3, "tall", "short"),
        "int": np.where(score > 0.3, 7, -2),
        "bool": (score > 0.3).to_numpy(),
    }[y_kind]
    prep = TabularPreprocessor().fit(frame)
    X = prep.transform(frame, dtype=dtype)
    estimator = cr.MLPClassifier(hidden_layer_sizes=(8,), epochs=30, dtype=dtype, random_state=0)
    estimator.fit(X, y)
    return TabularModel(estimator, prep, task="classification", target="y"), frame


def _run(path, feed, names):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(names, feed)


@pytest.mark.parametrize("y_kind", ["text", "int", "bool"])
def test_labels_keep_their_type_and_probabilities_match(tmp_path, y_kind):
    model, frame = _tabular(y_kind)
    path = tmp_path / "m.onnx"
    proto = cr.export_onnx(model, path)
    assert path.read_bytes() == proto.SerializeToString()
    label, proba = _run(path, onnx_inputs(model, frame), ["label", "probabilities"])
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=0, atol=1e-5)
    assert label.tolist() == model.predict(frame).tolist()
    assert type(label.tolist()[0]) is type(model.predict(frame).tolist()[0])


def test_the_preprocessing_uses_the_onnx_ml_operators(tmp_path):
    model, _ = _tabular("text")
    ops = [(n.domain, n.op_type) for n in to_onnx(model).graph.node]
    for op in ("Imputer", "Scaler", "OneHotEncoder"):
        assert ("ai.onnx.ml", op) in ops


def test_an_unseen_category_is_encoded_as_all_zeros(tmp_path):
    model, frame = _tabular("text")
    rows = frame.iloc[:5].copy()
    rows["team"] = ["west", "north", None, "up", "east"]
    path = tmp_path / "m.onnx"
    cr.export_onnx(model, path)
    (proba,) = _run(path, onnx_inputs(model, rows), ["probabilities"])
    expected = model.predict_proba(rows, unknown="ignore")
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-5)


def test_a_float64_model_casts_the_features(tmp_path):
    model, frame = _tabular("text", dtype="float64")
    path = tmp_path / "m.onnx"
    cr.export_onnx(model, path)
    (proba,) = _run(path, onnx_inputs(model, frame), ["probabilities"])
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=0, atol=1e-5)


def test_features_only_takes_the_preprocessed_matrix(tmp_path):
    model, frame = _tabular("text")
    path = tmp_path / "m.onnx"
    cr.export_onnx(model, path, features_only=True)
    (label,) = _run(path, {"input": model.transform(frame)}, ["label"])
    assert label.tolist() == model.predict(frame).tolist()


def test_a_bare_estimator_exports_its_labels(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "yes", "no")
    clf = cr.MLPClassifier(hidden_layer_sizes=(4,), epochs=20, random_state=0).fit(X, y)
    path = tmp_path / "clf.onnx"
    cr.export_onnx(clf, path)
    label, proba = _run(path, {"input": X}, ["label", "probabilities"])
    assert label.tolist() == clf.predict(X).tolist()
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-5)


def test_a_column_named_like_an_output_is_refused(tmp_path):
    model, frame = _tabular("text")
    frame = frame.rename(columns={"team": "label"})
    prep = TabularPreprocessor().fit(frame)
    clash = TabularModel(model.estimator, prep, task="classification", target="y")
    with pytest.raises(ValueError, match=r"'label'.*features-only"):
        cr.export_onnx(clash, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_something_else_is_refused(tmp_path):
    with pytest.raises(ValueError, match="export_onnx takes"):
        cr.export_onnx(object(), tmp_path / "m.onnx")
