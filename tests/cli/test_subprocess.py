"""The command line as a user runs it: a real ``python -m chainrule`` process."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chainrule as cr

from .conftest import make_classification


def _run(*args: object, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_help_lists_every_command():
    done = _run("--help")
    assert done.returncode == 0, done.stderr
    for command in ("train", "predict", "evaluate", "info", "graph", "export", "lecture"):
        assert command in done.stdout
    done = _run("predict", "--help")
    assert done.returncode == 0 and "--proba" in done.stdout


@pytest.mark.slow  # heavyweight: out of `make test-fast`, still in `make test`
def test_tiny_train_then_predict(tmp_path):
    data = tmp_path / "animals.csv"
    make_classification(n=60).to_csv(data, index=False)
    model = tmp_path / "m.chainrule"
    done = _run(
        "train",
        data,
        "--target",
        "animal",
        "--out",
        model,
        "--epochs",
        "3",
        "--hidden",
        "8",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "accuracy" in done.stdout
    assert cr.load(model).classes_.tolist() == ["bird", "cat", "dog"]
    done = _run("predict", model, data, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "animal" and len(done.stdout.splitlines()) == 61


def test_errors_exit_non_zero_without_a_traceback(tmp_path):
    done = _run("train", tmp_path / "missing.csv", "--target", "y")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "no such file" in done.stderr
    assert done.stdout == ""
