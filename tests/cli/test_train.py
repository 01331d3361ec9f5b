"""`chainrule train` end to end through `main`: classification, regression, digits, report."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest

import chainrule as cr
from chainrule.data.tabular import TabularModel

from .conftest import FAST, make_classification, make_regression


def test_classification_with_string_labels_and_a_categorical_feature(tmp_path, clf_csv, cli):
    model_path = tmp_path / "m.chainrule"
    code, out, err = cli(
        "train",
        clf_csv,
        "--target",
        "animal",
        "--out",
        model_path,
        "--hidden",
        "16",
        "--epochs",
        "60",
        "--lr",
        "0.01",
    )
    assert code == 0, err
    assert "classification of 'animal': 3 classes (bird, cat, dog)" in out
    assert "accuracy" in out and "validation" in out and "epochs" in out
    model = cr.load(model_path)
    assert isinstance(model, TabularModel) and model.task == "classification"
    assert model.classes_.tolist() == ["bird", "cat", "dog"]
    # The colour became a one-hot block, the numbers are standardized.
    assert model.preprocessor.feature_names_ == [
        "x1",
        "x2",
        "color=blue",
        "color=green",
        "color=red",
    ]
    frame = make_classification()
    accuracy = np.mean(model.predict(frame) == frame["animal"].to_numpy())
    assert accuracy > 0.85
    assert model.info["rows"] == {"train": 120, "validation": 30}
    assert model.info["metrics"]["validation"]["accuracy"] > 0.7


def test_regression_is_inferred_and_predicts_in_target_units(tmp_path, reg_csv, cli):
    model_path = tmp_path / "m.chainrule"
    code, out, err = cli(
        "train",
        reg_csv,
        "--target",
        "price",
        "--out",
        model_path,
        "--hidden",
        "16",
        "--epochs",
        "150",
        "--lr",
        "0.01",
    )
    assert code == 0, err
    assert "regression of 'price'" in out and "R²" in out
    model = cr.load(model_path)
    assert model.task == "regression"
    frame = make_regression()
    pred = model.predict(frame)
    # Targets around 100 with sd ~ 25: the scaled target is learned, then mapped back.
    assert abs(pred.mean() - frame["price"].mean()) < 5
    residual = np.sqrt(np.mean((pred - frame["price"].to_numpy()) ** 2))
    assert residual < 0.3 * frame["price"].std()


def test_task_can_be_forced(tmp_path, cli):
    frame = make_regression()
    frame["grade"] = (frame["price"] > frame["price"].median()).astype(int) + 1
    frame = frame.drop(columns="price")
    path = tmp_path / "g.csv"
    frame.to_csv(path, index=False)
    code, _, err = cli("train", path, "--target", "grade", "--out", tmp_path / "c", *FAST)
    assert code == 0, err
    assert cr.load(tmp_path / "c").task == "classification"  # two integer classes: inferred
    code, _, err = cli(
        "train", path, "--target", "grade", "--task", "regression", "--out", tmp_path / "r", *FAST
    )
    assert code == 0, err
    assert cr.load(tmp_path / "r").task == "regression"


def test_hyperparameters_reach_the_estimator(tmp_path, clf_csv, cli):
    out = tmp_path / "m"
    code, _, err = cli(
        "train",
        clf_csv,
        "--target",
        "animal",
        "--out",
        out,
        "--hidden",
        "8,4",
        "--activation",
        "tanh",
        "--optimizer",
        "rmsprop",
        "--lr",
        "0.005",
        "--batch-size",
        "full",
        "--epochs",
        "3",
        "--l1",
        "0.001",
        "--l2",
        "0.01",
        "--dropout",
        "0.1",
        "--batch-norm",
        "--init",
        "xavier",
        "--no-early-stopping",
        "--patience",
        "4",
        "--validation-fraction",
        "0.25",
        "--lr-schedule",
        "cosine",
        "--seed",
        "7",
        "--dtype",
        "float64",
        "--tol",
        "0",
        "--quiet",
    )
    assert code == 0, err
    est = cr.load(out).estimator
    params = est.get_params()
    expected = {
        "hidden_layer_sizes": (8, 4),
        "activation": "tanh",
        "optimizer": "rmsprop",
        "learning_rate": 0.005,
        "batch_size": None,
        "epochs": 3,
        "l1": 0.001,
        "l2": 0.01,
        "dropout": 0.1,
        "batch_norm": True,
        "init": "xavier",
        "patience": 4,
        "lr_schedule": "cosine",
        "random_state": 7,
        "dtype": "float64",
        "tol": 0.0,
    }
    assert {k: params[k] for k in expected} == expected
    assert est.model_[0].weight.data.dtype == np.float64
    assert est.n_iter_ == 3  # no early stopping: all epochs ran
    info = cr.load(out).info
    assert info["rows"] == {"train": 112, "validation": 38}
    assert info["settings"]["early_stopping"] is False


def test_same_seed_same_model(tmp_path, clf_csv, cli):
    for name in ("a", "b"):
        code, _, err = cli(
            "train", clf_csv, "--target", "animal", "--out", tmp_path / name, "--seed", "3", *FAST
        )
        assert code == 0, err
    a, b = cr.load(tmp_path / "a"), cr.load(tmp_path / "b")
    for (k, va), (_, vb) in zip(
        a.estimator.model_.state_dict().items(),
        b.estimator.model_.state_dict().items(),
        strict=True,
    ):
        np.testing.assert_array_equal(va, vb, err_msg=k)


def test_early_stopping_keeps_the_best_validation_epoch(tmp_path, clf_csv, cli):
    out = tmp_path / "m"
    code, _, err = cli(
        "train",
        clf_csv,
        "--target",
        "animal",
        "--out",
        out,
        "--hidden",
        "32",
        "--lr",
        "0.05",
        "--epochs",
        "300",
        "--patience",
        "5",
        "--quiet",
    )
    assert code == 0, err
    model = cr.load(out)
    val_loss = model.estimator.history_["val_loss"]
    assert model.info["epochs"] == len(val_loss) < 300  # stopped early
    assert model.info["best_epoch"] == int(np.argmin(val_loss)) + 1


def test_report_folder(tmp_path, reg_csv, cli):
    report = tmp_path / "report"
    code, _, err = cli(
        "train", reg_csv, "--target", "price", "--out", tmp_path / "m", "--report", report, *FAST
    )
    assert code == 0, err
    names = sorted(p.name for p in report.iterdir())
    assert names == [
        "command.txt",
        "history.csv",
        "learning_curves.png",
        "metrics.json",
        "residuals.png",
    ]
    for png in ("learning_curves.png", "residuals.png"):
        assert (report / png).read_bytes().startswith(b"\x89PNG")
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics["validation"]) >= {"r2", "mae", "rmse"}
    # The recorded command repeats the run: the same model, weight for weight.
    words = shlex.split((report / "command.txt").read_text())
    assert words[:2] == ["chainrule", "train"] and "--seed" in words
    words[words.index("--out") + 1] = str(tmp_path / "again")
    words[words.index("--report") + 1] = str(tmp_path / "report2")
    code, _, err = cli(*words[1:], "--quiet")
    assert code == 0, err
    a, b = cr.load(tmp_path / "m"), cr.load(tmp_path / "again")
    np.testing.assert_array_equal(
        a.estimator.model_[0].weight.data, b.estimator.model_[0].weight.data
    )
    history = (report / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,loss") and len(history) == 1 + a.info["epochs"]


def test_classification_report_has_a_confusion_matrix(tmp_path, clf_csv, cli):
    report = tmp_path / "r"
    code, _, err = cli(
        "train", clf_csv, "--target", "animal", "--out", tmp_path / "m", "--report", report, *FAST
    )
    assert code == 0, err
    assert (report / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")
    metrics = json.loads((report / "metrics.json").read_text())
    matrix = np.array(metrics["validation"]["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 30
    assert metrics["validation"]["labels"] == ["bird", "cat", "dog"]


def test_without_a_validation_split(tmp_path, clf_csv, cli):
    report = tmp_path / "r"
    code, out, err = cli(
        "train",
        clf_csv,
        "--target",
        "animal",
        "--out",
        tmp_path / "m",
        "--validation-fraction",
        "0",
        "--report",
        report,
        "--hidden",
        "8",
        "--epochs",
        "5",
    )
    assert code == 0, err
    assert "150 training rows, 0 validation rows" in out
    model = cr.load(tmp_path / "m")
    assert model.info["metrics"]["validation"] is None
    # No early stopping and no --tol: all 5 epochs ran, and the file holds the last one's weights.
    assert model.info["epochs"] == model.info["best_epoch"] == 5
    assert model.info["stopped_by"] == "epochs"
    assert "val_loss" not in model.estimator.history_
    assert (report / "confusion_matrix.png").exists()
    code, _, err = cli(
        "train",
        clf_csv,
        "--target",
        "animal",
        "--out",
        tmp_path / "m2",
        "--validation-fraction",
        "0",
        "--early-stopping",
    )
    assert code == 1 and "--early-stopping needs a validation split" in err
    assert not (tmp_path / "m2").exists()


def test_missing_feature_values_are_filled_with_the_training_mean(tmp_path, cli):
    frame = make_classification()
    frame.loc[[3, 10], "x2"] = np.nan
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    code, out, err = cli(
        "train",
        path,
        "--target",
        "animal",
        "--out",
        tmp_path / "m",
        "--hidden",
        "8",
        "--epochs",
        "5",
    )
    assert code == 0, err
    assert "column 'x2': 2 missing values" in out
    assert np.isfinite(cr.load(tmp_path / "m").predict_proba(frame)).all()


def test_semicolon_csv_is_detected(tmp_path, cli):
    path = tmp_path / "semi.csv"
    make_classification().to_csv(path, index=False, sep=";")
    code, _, err = cli("train", path, "--target", "animal", "--out", tmp_path / "m", *FAST)
    assert code == 0, err


def test_parquet_input(tmp_path, cli):
    pytest.importorskip("pyarrow")
    path = tmp_path / "d.parquet"
    make_classification().to_parquet(path)
    code, _, err = cli("train", path, "--target", "animal", "--out", tmp_path / "m", *FAST)
    assert code == 0, err


def test_no_data_trains_on_digits_into_out(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("train", "--epochs", "2", "--hidden", "16", "--lr", "0.01")
    assert code == 0, err
    assert "digits" in out and "10 classes" in out
    model = cr.load(tmp_path / "out" / "model.chainrule")
    assert model.target == "digit" and model.classes_.tolist() == list(range(10))
    assert model.info["epochs"] == 2
    report = tmp_path / "out" / "report"
    assert (report / "confusion_matrix.png").exists() and (report / "metrics.json").exists()
    # Even two epochs learn the digits far above chance (10 %).
    assert model.info["metrics"]["validation"]["accuracy"] > 0.5


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_default_digits_run_is_accurate_and_fast(tmp_path, cli, monkeypatch):
    """What ``make run`` does: defaults only."""
    import time

    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    code, _, err = cli("train")
    assert code == 0, err
    assert time.perf_counter() - start < 60
    model = cr.load(tmp_path / "out" / "model.chainrule")
    assert model.info["metrics"]["validation"]["accuracy"] > 0.9


def test_class_weight_option_reaches_the_estimator_and_the_command(tmp_path, clf_csv, cli):
    model_path = tmp_path / "m.chainrule"
    code, _, err = cli(
        "train", clf_csv, "--target", "animal", "--out", model_path, "--class-weight",
        "dog=3,bird=0.5", *FAST,
    )  # fmt: skip
    assert code == 0, err
    model = cr.load(model_path)
    assert model.estimator.get_params()["class_weight"] == {"dog": 3.0, "bird": 0.5}
    assert "--class-weight dog=3,bird=0.5" in model.info["command"]
    code, _, err = cli(
        "train", clf_csv, "--target", "animal", "--out", model_path, "--class-weight",
        "balanced", *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert cr.load(model_path).estimator.get_params()["class_weight"] == "balanced"


@pytest.mark.parametrize(
    ("value", "message"),
    [("fish=2", "not classes of the target"), ("dog=x", "not a number"), ("even", "balanced")],
)
def test_bad_class_weight_option_is_a_clear_error(tmp_path, clf_csv, cli, value, message):
    code, _, err = cli(
        "train", clf_csv, "--target", "animal", "--out", tmp_path / "m.chainrule",
        "--class-weight", value, *FAST,
    )  # fmt: skip
    assert code != 0 and message in err


def test_class_weight_option_is_for_classification(tmp_path, reg_csv, cli):
    code, _, err = cli(
        "train", reg_csv, "--target", "price", "--out", tmp_path / "m.chainrule",
        "--class-weight", "balanced", *FAST,
    )  # fmt: skip
    assert code != 0 and "classification only" in err
