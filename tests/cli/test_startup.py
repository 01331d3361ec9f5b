"""``chainrule --help``, ``info`` and ``predict`` start without importing the heavy extras.

(Their start-up time, as a ratio to importing NumPy, is measured in
benchmarks/cli_startup.py; here only what is imported is checked.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ("sklearn", "pandas", "scipy", "matplotlib", "tqdm", "numba")


def _imported(*argv: str) -> list[str]:
    code = (
        "import sys, json\n"
        "from chainrule.cli import main\n"
        f"status = main({list(argv)!r})\n"
        f"print(json.dumps([status, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip(), done.stderr
    status, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return heavy


def test_help_imports_no_heavy_extra():
    assert _imported("--help") == []


def test_info_imports_no_heavy_extra(trained_clf):
    assert _imported("info", str(trained_clf)) == []


def test_info_imports_no_heavy_extra_for_a_regressor(trained_reg):
    assert _imported("info", str(trained_reg)) == []


@pytest.mark.parametrize("command", ["train", "tune", "predict", "evaluate", "info", "recipe"])
def test_a_commands_help_imports_no_heavy_extra(command):
    assert _imported(command, "--help") == []


@pytest.mark.parametrize("proba", [False, True])
def test_predict_imports_no_heavy_extra(tmp_path, trained_clf, trained_reg, proba):
    rows = tmp_path / "rows.csv"
    rows.write_text("x1,x2,color,kind\n0.5,-1,red,a\n,2,,b\n")  # with gaps (warned)
    for model in (trained_clf, trained_reg):
        options = ["--proba"] if proba and model == trained_clf else []
        out = tmp_path / "pred.csv"
        assert _imported("predict", str(model), str(rows), "--out", str(out), *options) == []
        assert len(out.read_text().splitlines()) == 3


def test_predict_of_a_model_with_categorical_numbers_imports_no_heavy_extra(tmp_path, cli):
    data = tmp_path / "grades.csv"
    lines = [f"{i % 3 + 1},{'' if i % 7 == 0 else i * 0.5},{i % 2}" for i in range(40)]
    data.write_text("zone,size,grade\n" + "\n".join(lines) + "\n")
    model = tmp_path / "grades.chainrule"
    code, _, err = cli(
        "train", data, "--target", "grade", "--categorical", "zone", "--out", model,
        "--epochs", "3", "--quiet", "--dtype", "float64", "--force",
    )  # fmt: skip
    assert code == 0, err
    assert _imported("predict", str(model), str(data), "--out", str(tmp_path / "p.csv")) == []


def test_the_help_shows_the_estimators_own_defaults():
    """`estimator_defaults` reads them from the source, not from the (slow) classes."""
    from chainrule.cli.options import estimator_defaults
    from chainrule.estimators import MLPClassifier, MLPRegressor
    from chainrule.estimators.params import init_defaults

    for cls in (MLPClassifier, MLPRegressor):
        assert init_defaults(cls.__name__) == cls().get_params(deep=False)
    classes = {**MLPRegressor().get_params(), **MLPClassifier().get_params()}
    classes["lr_schedule"] = classes["lr_schedule"] or "constant"
    assert estimator_defaults() == classes
