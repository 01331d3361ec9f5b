"""How long ``chainrule train`` trains, and that what it says about it is true of the file."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def diabetes_csv(tmp_path):
    from sklearn.datasets import load_diabetes

    path = tmp_path / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    return path


def _val_loss(model, data) -> float:
    """The validation loss of the saved weights, recomputed from the file and the table."""
    import pandas as pd

    from chainrule.cli.fitting import split_rows

    frame = pd.read_csv(data)
    y = frame.pop("target").to_numpy()
    _, val = split_rows(len(frame), y, "regression", 0.2, 0)
    pred = model.estimator.predict(model.transform(frame.iloc[val])).astype(np.float64)
    scaled = (y[val] - model.target_mean) / model.target_scale
    return float(np.mean((pred - scaled) ** 2) / 2)  # the squared-error data loss, ½ mean


def test_without_early_stopping_every_epoch_runs(tmp_path, diabetes_csv, cli):
    # Before: the training-loss plateau rule (the estimators' default tol) stopped the run
    # early, and the summary named the epoch of the lowest validation loss instead.
    code, out, err = cli(
        "train", diabetes_csv, "--target", "target", "--out", tmp_path / "m",
        "--no-early-stopping", "--epochs", "300", "--batch-size", "full", "--lr", "0.05",
        "--force",  # 300 full-batch epochs overfit: worse than the mean, saved all the same
    )  # fmt: skip
    assert code == 0, err
    model = cr.load(tmp_path / "m")
    assert model.estimator.n_iter_ == model.info["epochs"] == 300
    assert model.info["best_epoch"] == 300 and model.info["stopped_by"] == "epochs"
    assert "300 of 300; weights of epoch 300 (the last)" in out


def test_a_chosen_tol_stops_training_and_says_so(tmp_path, diabetes_csv, cli):
    code, out, err = cli(
        "train", diabetes_csv, "--target", "target", "--out", tmp_path / "m",
        "--no-early-stopping", "--epochs", "300", "--tol", "0.01", "--patience", "2",
    )  # fmt: skip
    assert code == 0, err
    model = cr.load(tmp_path / "m")
    n = model.info["epochs"]
    assert n < 300 and model.info["stopped_by"] == "tol"
    assert f"{n} of 300; --tol: the training loss did not fall by 0.01 in 2 epochs" in out
    assert f"weights of epoch {n} (the last)" in out
    history = model.estimator.history_
    assert _val_loss(model, diabetes_csv) == pytest.approx(history["val_loss"][n - 1], rel=1e-4)


def test_tol_none_is_accepted_with_early_stopping(tmp_path, diabetes_csv, cli):
    code, _, err = cli(
        "train", diabetes_csv, "--target", "target", "--out", tmp_path / "m",
        "--tol", "none", "--epochs", "30", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert cr.load(tmp_path / "m").estimator.tol is None


@pytest.mark.parametrize("early", ["--early-stopping", "--no-early-stopping"])
def test_the_weights_of_epoch_e_are_the_weights_written(tmp_path, diabetes_csv, cli, early):
    code, out, err = cli(
        "train", diabetes_csv, "--target", "target", "--out", tmp_path / "m", early,
        "--epochs", "120", "--tol", "0.001",
    )  # fmt: skip
    assert code == 0, err
    model = cr.load(tmp_path / "m")
    e = model.info["best_epoch"]
    assert f"weights of epoch {e}" in out
    history = model.estimator.history_
    assert _val_loss(model, diabetes_csv) == pytest.approx(history["val_loss"][e - 1], rel=1e-4)
    code, shown, _ = cli("info", tmp_path / "m")
    assert f"weights of epoch {e}" in shown and "None" not in shown


def test_info_does_not_contradict_the_run(tmp_path, diabetes_csv, cli):
    # Before: "early_stopping=False, validation_fraction=0.1" beside early stopping on 0.2.
    code, _, err = cli(
        "train", diabetes_csv, "--target", "target", "--out", tmp_path / "m", "--epochs", "30",
        "--quiet",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = cli("info", tmp_path / "m")
    assert "early_stopping=True" in out and "validation_fraction=0.2" in out
    assert "early_stopping=False" not in out and "validation_fraction=0.1" not in out
    code, _, err = cli(
        "train", diabetes_csv, "--target", "target", "--out", tmp_path / "n", "--epochs", "5",
        "--no-early-stopping", "--quiet",
    )  # fmt: skip
    code, out, _ = cli("info", tmp_path / "n")
    assert "early_stopping=False" in out and "validation_fraction" not in out


def test_the_cli_has_no_copy_of_the_estimators_early_stopping():
    from chainrule.cli import summary

    assert not hasattr(summary, "ValidationMonitor") and not hasattr(summary, "make_estimator")
