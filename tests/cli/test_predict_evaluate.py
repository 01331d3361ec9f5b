"""`chainrule predict`, `evaluate` and `info` on models trained by `chainrule train`."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

import chainrule as cr

from .conftest import make_classification, make_regression


def test_predict_writes_original_labels_with_a_header(tmp_path, trained_clf, cli):
    frame = make_classification(n=25, seed=5).drop(columns="animal")
    data = tmp_path / "new.csv"
    frame.to_csv(data, index=False)
    code, out, err = cli("predict", trained_clf, data)
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    assert list(result.columns) == ["animal"] and len(result) == 25
    expected = cr.load(trained_clf).predict(frame)
    assert result["animal"].tolist() == expected.tolist()
    assert set(result["animal"]) <= {"bird", "cat", "dog"}


def test_predict_proba_to_a_file(tmp_path, trained_clf, clf_csv, cli):
    target = tmp_path / "pred.csv"
    code, out, err = cli("predict", trained_clf, clf_csv, "--proba", "--out", target)
    assert code == 0, err
    assert out == ""
    result = pd.read_csv(target)
    assert list(result.columns) == ["animal", "proba_bird", "proba_cat", "proba_dog"]
    p = result[["proba_bird", "proba_cat", "proba_dog"]].to_numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)
    labels = np.array(["bird", "cat", "dog"])
    assert (labels[p.argmax(axis=1)] == result["animal"].to_numpy()).all()


def test_predict_regression_matches_the_loaded_model(tmp_path, trained_reg, reg_csv, cli):
    code, out, err = cli("predict", trained_reg, reg_csv)
    assert code == 0, err
    result = pd.read_csv(io.StringIO(out))
    expected = cr.load(trained_reg).predict(make_regression())
    # written at the model's float32 precision: within half a float32 unit of the value
    np.testing.assert_allclose(result["price"].to_numpy(), expected, rtol=1e-7)


def test_evaluate_classification(trained_clf, clf_csv, cli):
    code, out, err = cli("evaluate", trained_clf, clf_csv, "--target", "animal")
    assert code == 0, err
    assert "accuracy" in out and "F1 (macro)" in out and "confusion matrix" in out
    code, out, err = cli("evaluate", trained_clf, clf_csv, "--json")  # target from the model
    assert code == 0, err
    metrics = json.loads(out)
    frame = make_classification()
    pred = cr.load(trained_clf).predict(frame)
    assert metrics["accuracy"] == np.mean(pred == frame["animal"].to_numpy())
    C = np.array(metrics["confusion_matrix"])
    assert C.sum() == len(frame) and np.trace(C) == round(metrics["accuracy"] * len(frame))
    assert metrics["labels"] == ["bird", "cat", "dog"]
    assert 0 <= metrics["f1_macro"] <= 1


def test_evaluate_regression(trained_reg, reg_csv, cli):
    code, out, err = cli("evaluate", trained_reg, reg_csv, "--target", "price", "--json")
    assert code == 0, err
    metrics = json.loads(out)
    frame = make_regression()
    y, pred = frame["price"].to_numpy(), cr.load(trained_reg).predict(frame)
    np.testing.assert_allclose(metrics["mae"], np.mean(np.abs(y - pred)))
    np.testing.assert_allclose(metrics["rmse"], np.sqrt(np.mean((y - pred) ** 2)))
    r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    np.testing.assert_allclose(metrics["r2"], r2)
    code, out, _ = cli("evaluate", trained_reg, reg_csv)
    assert code == 0 and "R²" in out and "RMSE" in out


def test_integer_and_boolean_labels_round_trip(tmp_path, cli):
    frame = make_classification()
    frame["label"] = frame["animal"].map({"bird": 0, "cat": 1, "dog": 2})
    frame["flag"] = frame["animal"] == "dog"
    for target, expected in (("label", [0, 1, 2]), ("flag", [False, True])):
        data = tmp_path / f"{target}.csv"
        frame.drop(columns=["animal", *({"label", "flag"} - {target})]).to_csv(data, index=False)
        model = tmp_path / f"{target}.chainrule"
        code, _, err = cli(
            "train", data, "--target", target, "--out", model, "--quiet", "--epochs", "5"
        )
        assert code == 0, err
        assert cr.load(model).classes_.tolist() == expected
        code, out, err = cli("predict", model, data)
        assert code == 0, err
        values = pd.read_csv(io.StringIO(out))[target]
        assert set(values.tolist()) <= set(expected)
        code, out, err = cli("evaluate", model, data, "--json")
        assert code == 0, err
        assert json.loads(out)["labels"] == expected


def test_info_describes_the_file(trained_clf, cli):
    code, out, err = cli("info", trained_clf)
    assert code == 0, err
    for text in (
        "classification of 'animal'",
        "classes       3: bird, cat, dog",
        "MLPClassifier",
        "'color': categorical, 3 categories",
        "Dense(in_features=5, out_features=16",
        "validation",
        "command       chainrule train",
    ):
        assert text in out
    code, out, err = cli("info", trained_clf, "--json")
    assert code == 0, err
    meta = json.loads(out)
    assert meta["kind"] == "chainrule-model" and meta["content"] == "tabular"
    assert meta["tabular"]["info"]["metrics"]["train"]["accuracy"] > 0.5


def test_predict_with_a_saved_estimator_and_module(tmp_path, cli):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    data = tmp_path / "x.csv"
    pd.DataFrame(X, columns=["a", "b", "c"]).to_csv(data, index=False)
    est = cr.MLPRegressor(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(X, X[:, 0])
    cr.save(est, tmp_path / "est")
    code, out, err = cli("predict", tmp_path / "est", data)
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))["prediction"].to_numpy()
    np.testing.assert_allclose(got, est.predict(X), rtol=1e-6)
    net = cr.nn.Sequential(cr.nn.Dense(3, 2), cr.nn.Sigmoid())
    cr.save(net, tmp_path / "net")
    code, out, err = cli("predict", tmp_path / "net", data)
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out)).to_numpy()
    np.testing.assert_allclose(got, net(cr.Tensor(X.astype(np.float32))).data, rtol=1e-6)


def test_info_and_predict_serve_a_saved_neural_net_estimator(tmp_path, cli):
    from chainrule import nn

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 8)), rng.integers(0, 3, 60)
    net = nn.Sequential(nn.Conv1d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Dense(12, 3))
    clf = cr.NeuralNetClassifier(net, input_shape=(1, 8), epochs=2, tol=None, random_state=0)
    cr.save(clf.fit(X, y), tmp_path / "m")
    code, out, _ = cli("info", tmp_path / "m")
    assert code == 0 and "NeuralNetClassifier" in out and "Conv1d" in out
    assert "module=(the network below, before training)" in out and "{'network'" not in out
    header = ",".join(f"x{i}" for i in range(8))
    rows = "\n".join(",".join(map(str, r)) for r in X[:5])
    (tmp_path / "rows.csv").write_text(header + "\n" + rows + "\n")
    code, out, _ = cli("predict", tmp_path / "m", tmp_path / "rows.csv")
    assert code == 0
    assert out.split()[1:] == [str(v) for v in clf.predict(X[:5])]
