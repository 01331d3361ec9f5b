"""``chainrule recipe`` and ``chainrule tune`` through `main`, on small generated tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("optuna")

from chainrule.cli import main  # noqa: E402
from chainrule.saving.modelfile import load  # noqa: E402

FAST_RECIPE = ["--trials", "3", "--epochs", "15", "--members", "2", "--cv", "2", "--quiet"]
FAST_TUNE = ["--trials", "4", "--epochs", "8", "--hidden", "8", "--quiet"]


@pytest.fixture
def animals(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 160
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green"], size=n)
    score = x1 + 0.5 * x2 + np.where(colour == "red", 1.0, 0.0)
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "x1": x1 * 100,  # unscaled, for the summary's warning
            "x2": x2,
            "colour": colour,
            "animal": np.where(score > 0.5, "dog", "cat"),
        }
    )
    path = tmp_path / "animals.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def houses(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    n = 150
    x1, x2 = rng.normal(size=n), rng.uniform(0, 10, size=n)
    price = 100 + 20 * x1 - 3 * x2 + rng.normal(0, 1, n)
    path = tmp_path / "houses.csv"
    pd.DataFrame({"x1": x1, "x2": x2, "price": price}).to_csv(path, index=False)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_recipe_writes_a_report_and_a_usable_model(animals, tmp_path, capsys) -> None:
    report = tmp_path / "report"
    code, _, err = run(
        capsys,
        "recipe",
        animals,
        "--target",
        "animal",
        "--drop",
        "id",
        "--report",
        report,
        *FAST_RECIPE,
    )
    assert code == 0, err
    text = (report / "report.md").read_text()
    for heading in (
        "## 1. Become one with the data",
        "## 2. Baselines",
        "## 3. Overfit a small batch",
        "## 4. Learning rate",
        "## 5. Tuning",
        "## 6. Final model",
        "## 7. Ensemble",
        "## Test set",
    ):
        assert heading in text
    # x1 was multiplied by 100, but the recipe standardizes its inputs itself: no advice to.
    assert "standardize them" not in text and "not on a unit scale" not in text
    for image in (
        "feature_scales",
        "baselines",
        "overfit",
        "lr_find",
        "tuning",
        "final_model",
        "ensemble",
        "test_errors",
    ):
        assert f"]({image}.png)" in text
        assert (report / f"{image}.png").read_bytes()[:4] == b"\x89PNG"
    results = json.loads((report / "results.json").read_text())
    assert results["task"] == "classification"
    names = list(results["test"])
    assert names[0].startswith("best baseline (") and names[1:] == [
        "final network",
        "ensemble of 2",
    ]
    assert all(0 <= scores["accuracy"] <= 1 for scores in results["test"].values())
    assert len(pd.read_csv(report / "trials.csv")) == 3
    model = load(report / "model.chainrule")
    frame = pd.read_csv(animals)
    assert set(model.predict(frame)) <= {"cat", "dog"}
    assert np.mean(model.predict(frame) == frame["animal"]) > 0.7


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_recipe_regression(houses, tmp_path, capsys) -> None:
    report = tmp_path / "r"
    code, _, err = run(
        capsys, "recipe", houses, "--target", "price", "--report", report, *FAST_RECIPE
    )
    assert code == 0, err
    results = json.loads((report / "results.json").read_text())
    assert results["task"] == "regression"
    assert results["test"]["final network"]["r2"] > 0.5
    assert (report / "test_errors.png").exists()
    model = load(report / "model.chainrule")
    prices = model.predict(pd.read_csv(houses))
    assert 50 < float(np.mean(prices)) < 150  # in dollars again, not standardized units


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_recipe_default_data_prints_steps(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "recipe", "--trials", "2", "--epochs", "5", "--members", "2", "--cv", "2"
    )
    assert code == 0, err
    assert "1 summary" in out and "7 ensemble" in out
    assert (tmp_path / "out" / "recipe" / "report.md").exists()
    assert "breast cancer" in (tmp_path / "out" / "recipe" / "report.md").read_text()


def test_tune_prints_the_best_and_the_train_command(animals, tmp_path, capsys) -> None:
    model = tmp_path / "best.chainrule"
    report = tmp_path / "tuning"
    code, out, err = run(
        capsys,
        "tune",
        animals,
        "--target",
        "animal",
        "--drop",
        "id",
        "--space",
        '{"lr": {"low": 0.001, "high": 0.1}, "hidden": [[4], [8, 4]]}',
        "--out",
        model,
        "--report",
        report,
        *FAST_TUNE,
    )
    assert code == 0, err
    assert "best    validation accuracy" in out
    train_line = next(line for line in out.splitlines() if line.startswith("train"))
    assert "chainrule train" in train_line and "--target animal" in train_line
    assert "--lr " in train_line and "--epochs 8" in train_line
    assert "--hidden 4 " in train_line or "--hidden 8,4 " in train_line
    assert load(model).task == "classification"
    assert (report / "tuning.png").exists() and len(pd.read_csv(report / "trials.csv")) == 4


def test_tune_default_data_is_digits(capsys) -> None:
    code, out, err = run(
        capsys,
        "tune",
        "--trials",
        "2",
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--space",
        '{"batch_size": [32, 64]}',
    )
    assert code == 0, err
    assert "digits" in out and "--batch-size" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["tune", "--space", "{bad json"], 1, "--space is not valid JSON"),
        (["tune", "--space", '{"lr": {"low": 0.1}}'], 1, "a range is"),
        (["tune", "--space", '{"nonsense": [1, 2]}'], 1, "no parameter 'nonsense'"),
        (["tune", "--scheduler", "tcp://x:1", "--workers", "2"], 2, "not allowed with"),
        (["recipe", "--target", "price"], 1, "whose target is 'diagnosis'"),
        (["recipe", "missing.csv", "--target", "y"], 1, "no such file"),
        (["recipe", "--cv", "1"], 1, "--cv must be at least 2"),
    ],
)
def test_bad_input_is_one_line_without_traceback(capsys, args, code, message) -> None:
    status, _, err = run(capsys, *args)
    assert status == code
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_help_lists_the_commands(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "recipe" in out and "tune" in out
    code, out, _ = run(capsys, "tune", "--help")
    assert code == 0 and "--scheduler" in out and "--lr" in out
