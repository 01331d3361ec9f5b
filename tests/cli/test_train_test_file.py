"""`chainrule train --test FILE`: a held-out table scored in the same run and report."""

from __future__ import annotations

import json

import chainrule as cr

from .conftest import FAST, make_classification, make_regression


def test_the_test_file_is_scored_like_evaluate_does(tmp_path, clf_csv, cli):
    test_csv = tmp_path / "test.csv"
    make_classification(n=60, seed=11).to_csv(test_csv, index=False)
    model, report = tmp_path / "m.chainrule", tmp_path / "report"
    fast = [a for a in FAST if a != "--quiet"]
    code, out, err = cli(
        "train", clf_csv, "--target", "animal", "--test", test_csv, "--out", model,
        "--report", report, *fast,
    )  # fmt: skip
    assert code == 0, err
    header = [line.split() for line in out.splitlines() if line.startswith(" ")]
    assert ["train", "validation", "test"] in header
    saved = json.loads((report / "metrics.json").read_text())["test"]
    code, out, err = cli("evaluate", model, test_csv, "--json")
    assert code == 0, err
    expected = json.loads(out)
    assert saved["accuracy"] == expected["accuracy"] and saved["n"] == 60
    assert saved["per_class"] == expected["per_class"]
    assert saved["file"] == str(test_csv)
    info = cr.load(model).info
    assert info["rows"]["test"] == 60 and info["metrics"]["test"]["n"] == 60
    assert f"--test {test_csv}" in (report / "command.txt").read_text()
    code, out, err = cli("info", model)
    assert code == 0, err
    assert any(line.startswith("test") and "accuracy" in line for line in out.splitlines())


def test_a_regression_test_file(tmp_path, reg_csv, cli):
    test_csv = tmp_path / "test.csv"
    make_regression(n=40, seed=12).to_csv(test_csv, index=False)
    model = tmp_path / "m.chainrule"
    code, _, err = cli(
        "train", reg_csv, "--target", "price", "--test", test_csv, "--out", model, *FAST
    )
    assert code == 0, err
    test = cr.load(model).info["metrics"]["test"]
    assert set(test) >= {"r2", "mae", "rmse"} and test["n"] == 40


def test_a_test_file_without_the_target_fails_before_training(tmp_path, clf_csv, cli):
    test_csv = tmp_path / "test.csv"
    make_classification(n=20, seed=3).drop(columns="animal").to_csv(test_csv, index=False)
    model = tmp_path / "m.chainrule"
    code, _, err = cli(
        "train", clf_csv, "--target", "animal", "--test", test_csv, "--out", model, *FAST
    )
    assert code == 1 and "column 'animal' not found" in err and "test.csv" in err
    assert not model.exists()
