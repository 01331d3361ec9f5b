"""Small generated tables for the command-line tests, and a helper that runs `main`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")

from chainrule.cli import main  # noqa: E402


def make_classification(n: int = 150, seed: int = 0) -> pd.DataFrame:
    """Two numbers and a colour decide the animal; the rule is learnable but not trivial."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    score = x1 + 0.5 * x2 + np.where(color == "red", 1.5, 0.0)
    animal = np.where(score > 1.0, "dog", np.where(score > -0.5, "cat", "bird"))
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "animal": animal})


def make_regression(n: int = 150, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(0, 10, size=n)
    kind = rng.choice(["a", "b"], size=n)
    price = 100 + 20 * x1 - 3 * x2 + np.where(kind == "a", 15.0, 0.0) + rng.normal(0, 1, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "kind": kind, "price": price})


@pytest.fixture
def clf_csv(tmp_path: Path) -> Path:
    path = tmp_path / "animals.csv"
    make_classification().to_csv(path, index=False)
    return path


@pytest.fixture
def reg_csv(tmp_path: Path) -> Path:
    path = tmp_path / "houses.csv"
    make_regression().to_csv(path, index=False)
    return path


FAST = ["--hidden", "16", "--epochs", "40", "--quiet"]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """run(*args) -> (exit status, stdout, stderr) of ``chainrule args``."""

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def trained_clf(tmp_path: Path, clf_csv: Path, cli) -> Path:
    model = tmp_path / "animals.chainrule"
    code, _, err = cli("train", clf_csv, "--target", "animal", "--out", model, *FAST)
    assert code == 0, err
    return model


@pytest.fixture
def trained_reg(tmp_path: Path, reg_csv: Path, cli) -> Path:
    model = tmp_path / "houses.chainrule"
    code, _, err = cli("train", reg_csv, "--target", "price", "--out", model, *FAST)
    assert code == 0, err
    return model
