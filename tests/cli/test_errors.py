"""Bad input: one line on stderr naming the problem, a non-zero status, no traceback, no file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chainrule.cli import main

from .conftest import make_classification, make_regression

ROWS = "".join(f"{i},{i * 2},{i % 2}\n" for i in range(20))
FILES = {
    "ragged.csv": "a,b,y\n1,2,x\n3,4,y\n5,6,7,8\n",
    "binary.csv": bytes(range(256)) * 4,
    "empty.csv": "",
    "header.csv": "a,b,y\n",
    "text_in_numbers.csv": "a,b,y\n" + ROWS + "7,oops,1\n",
    "text_in_target.csv": "a,y\n" + "".join(f"{i},{i * 1.5}\n" for i in range(20)) + "3,abc\n",
    "nan_target.csv": "a,y\n1,cat\n2,\n3,dog\n" + "".join(f"{i},cat\n" for i in range(10)),
    "one_class.csv": "a,y\n" + "".join(f"{i},same\n" for i in range(10)),
    "infinite.csv": "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)) + "inf,1\n",
    "good.csv": "a,b,y\n" + ROWS,
    "model.chainrule": b"PK\x03\x04 this is not really a zip file",
}

CASES = [
    # (argv, exit status, words the message must contain)
    (["train", "missing.csv", "--target", "y"], 1, ["no such file", "missing.csv"]),
    (["train", "ragged.csv", "--target", "y"], 1, ["ragged.csv", "line 4"]),
    (["train", "binary.csv", "--target", "y"], 1, ["binary.csv", "not a UTF-8 text"]),
    (["train", "empty.csv", "--target", "y"], 1, ["empty.csv", "is empty"]),
    (["train", "header.csv", "--target", "y"], 1, ["header.csv", "no data rows"]),
    (["train", "good.csv", "--target", "nope"], 1, ["column 'nope' not found", "a, b, y"]),
    (["train", "good.csv"], 1, ["--target COLUMN is required", "a, b, y"]),
    (["train", "text_in_numbers.csv", "--target", "y"], 1, ["column 'b'", "row 21", "'oops'"]),
    (["train", "text_in_target.csv", "--target", "y"], 1, ["target column 'y'", "row 21"]),
    (
        ["train", "text_in_target.csv", "--target", "y", "--task", "regression"],
        1,
        ["target column 'y'", "row 21", "'abc' is not a number"],
    ),
    (["train", "nan_target.csv", "--target", "y"], 1, ["target column 'y'", "missing", "row 2"]),
    (["train", "one_class.csv", "--target", "y"], 1, ["single class", "'same'"]),
    (["train", "infinite.csv", "--target", "y"], 1, ["column 'a'", "row 11", "infinite"]),
    (["train", "good.csv", "--target", "y", "--drop", "zz"], 1, ["column 'zz' not found"]),
    (["train", "good.csv", "--target", "y", "--out", "nowhere"], 1, []),  # replaced below
    (["train", "--activation", "softsign"], 2, ["--activation", "invalid choice", "softsign"]),
    (["train", "--optimizer", "lbfgs"], 2, ["--optimizer", "lbfgs"]),
    (["train", "--lr", "-0.1"], 2, ["--lr", "must be > 0"]),
    (["train", "--hidden", "3,x"], 2, ["--hidden", "'3,x'"]),
    (["train", "--batch-size", "0"], 2, ["--batch-size"]),
    (["train", "--dropout", "1.5"], 2, ["--dropout", "[0, 1)"]),
    (["train", "--task", "clustering"], 2, ["--task", "clustering"]),
    (["train", "--no-such-option"], 2, ["unrecognized arguments", "--no-such-option"]),
    (["train", "--target", "label"], 1, ["digits", "'digit'"]),
    (["frobnicate"], 2, ["invalid choice", "frobnicate"]),
    (["predict", "missing.chainrule", "good.csv"], 1, ["no such file", "missing.chainrule"]),
    (["predict", "good.csv", "good.csv"], 1, ["good.csv", "not a chainrule file"]),
    (["predict", "model.chainrule", "good.csv"], 1, ["model.chainrule", "damaged"]),
    (["info", "good.csv"], 1, ["good.csv", "not a chainrule file"]),
    (["evaluate", "good.csv", "good.csv", "--target", "y"], 1, ["not a chainrule file"]),
    (["graph", "x + y", "x=1"], 1, ["no value for y"]),
    (["graph", "x.__class__", "x=1"], 1, ["not allowed"]),
    (["graph", "__import__('os').system('true')"], 1, ["not allowed"]),
    (["graph", "x ** y", "x=1", "y=2"], 1, ["exponent"]),
    (["graph", "x * 2", "x=one"], 1, ["'one' is not a number"]),
    (["graph", "1 / (x - 1)", "x=1"], 1, ["inf"]),
    (["graph", "(x +", "x=1"], 1, ["cannot parse"]),
    (["export", "model.chainrule"], 2, ["--onnx"]),
]


def _write_files(folder: Path) -> None:
    for name, content in FILES.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.mark.parametrize(("argv", "status", "words"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_fails_cleanly(tmp_path, monkeypatch, cli, argv, status, words):
    _write_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    if "nowhere" in argv:  # the model's folder exists, but --out names a folder
        (tmp_path / "nowhere").mkdir()
        words = ["nowhere", "is a folder"]
    before = sorted(os.listdir(tmp_path))
    code, _, err = cli(*argv, "--out", "written.csv") if argv[0] == "predict" else cli(*argv)
    assert code == status
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    assert "Traceback" not in err
    assert lines[0].startswith("chainrule")
    for word in words:
        assert word in lines[0]
    assert sorted(os.listdir(tmp_path)) == before  # nothing written, no temporary file left


def test_prediction_errors_name_column_and_row(tmp_path, trained_clf, cli):
    frame = make_classification(n=10).drop(columns="animal")
    frame.loc[6, "color"] = "purple"
    data = tmp_path / "new.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "pred.csv"
    code, _, err = cli("predict", trained_clf, data, "--out", out)
    assert code == 1
    assert "column 'color', row 7: unknown category 'purple'" in err
    assert "'blue', 'green', 'red'" in err
    assert not out.exists()
    code, stdout, err = cli("predict", trained_clf, data, "--unknown", "ignore")
    assert code == 0, err
    assert len(stdout.splitlines()) == 11

    frame = make_classification(n=10).drop(columns=["animal", "x2"])
    frame.to_csv(data, index=False)
    code, _, err = cli("predict", trained_clf, data, "--out", out)
    assert code == 1 and "lacks 1 column(s) the model was trained on: 'x2'" in err
    assert not out.exists()

    frame = make_classification(n=10).drop(columns="animal")
    frame["x1"] = frame["x1"].astype(object)
    frame.loc[4, "x1"] = "n/a?"
    frame.to_csv(data, index=False)
    code, _, err = cli("predict", trained_clf, data)
    assert code == 1 and "column 'x1', row 5: 'n/a?' is not a number" in err


def test_evaluate_rejects_a_missing_true_value(tmp_path, trained_reg, cli):
    frame = make_regression(n=10)
    frame.loc[3, "price"] = None
    data = tmp_path / "t.csv"
    frame.to_csv(data, index=False)
    code, _, err = cli("evaluate", trained_reg, data)
    assert code == 1 and "target column 'price' has a missing value in row 4" in err


def test_divergence_is_reported_without_a_model(tmp_path, reg_csv, cli):
    out = tmp_path / "m.chainrule"
    code, _, err = cli(
        "train",
        reg_csv,
        "--target",
        "price",
        "--optimizer",
        "sgd",
        "--lr",
        "1e6",
        "--epochs",
        "3",
        "--out",
        out,
        "--quiet",
    )
    assert code == 1
    assert "diverged" in err and "learning rate" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError):
        main(["--debug", "train", "missing.csv", "--target", "y"])
    with pytest.raises(FileNotFoundError):
        main(["train", "missing.csv", "--target", "y", "--debug"])


def test_parquet_without_pyarrow_names_the_package(tmp_path, cli):
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyarrow is installed")
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1 not really")
    code, _, err = cli("train", path, "--target", "y")
    assert code == 1 and "pyarrow" in err and "pip install" in err
