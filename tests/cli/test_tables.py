"""Hostile tables at the command line: duplicated columns, huge values, gzip'd CSV.

Every refusal is one line on standard error naming the column, with no model written.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from .conftest import FAST, make_classification, make_regression


def _one_line(code: int, err: str) -> str:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_duplicated_target_column_is_an_error_naming_it(tmp_path: Path, cli) -> None:
    frame = make_classification(n=60)
    text = frame.to_csv(index=False)
    header, _, body = text.partition("\n")
    # The target twice: pandas would read the copy as a feature 'animal.1' (accuracy 1.0).
    rows = [f"{line},{line.rsplit(',', 1)[1]}" for line in body.strip().splitlines()]
    data = tmp_path / "twice.csv"
    data.write_text(f"{header},animal\n" + "\n".join(rows) + "\n")
    before = sorted(os.listdir(tmp_path))
    code, _, err = cli("train", data, "--target", "animal", "--out", tmp_path / "m", *FAST)
    line = _one_line(code, err)
    assert "duplicate column names" in line and "'animal' (columns 4, 5)" in line
    assert sorted(os.listdir(tmp_path)) == before


def test_duplicated_feature_columns_are_an_error_naming_them(tmp_path: Path, cli) -> None:
    data = tmp_path / "dup.csv"
    rows = "".join(f"{i},{i % 3},{-i},{i % 2}\n" for i in range(30))
    data.write_text("x, z,x,y\n" + rows)
    code, _, err = cli("train", data, "--target", "y", "--out", tmp_path / "m", *FAST)
    assert "'x' (columns 1, 3)" in _one_line(code, err)


def test_a_duplicated_column_at_prediction_is_an_error(tmp_path: Path, trained_clf, cli) -> None:
    frame = make_classification(n=10).drop(columns="animal")
    data = tmp_path / "new.csv"
    text = frame.to_csv(index=False).splitlines()
    data.write_text("\n".join(f"{line},{line.split(',')[0]}" for line in text) + "\n")
    code, _, err = cli("predict", trained_clf, data)
    assert "'x1' (columns 1, 4)" in _one_line(code, err)


@pytest.mark.parametrize(
    ("column", "value", "task"),
    [("price", 1e300, "regression"), ("x1", 1e300, "regression"), ("x2", -1e200, "regression")],
)
def test_huge_values_in_training_are_refused_naming_the_column(
    tmp_path: Path, cli, column: str, value: float, task: str
) -> None:
    frame = make_regression(n=60)
    frame.loc[7, column] = value
    data = tmp_path / "huge.csv"
    frame.to_csv(data, index=False)
    before = sorted(os.listdir(tmp_path))
    code, _, err = cli("train", data, "--target", "price", "--out", tmp_path / "m", *FAST)
    line = _one_line(code, err)
    assert f"column '{column}'" in line and "row 8" in line and "too large" in line
    assert sorted(os.listdir(tmp_path)) == before


def test_values_beyond_float32_at_prediction_are_refused_naming_the_column(
    tmp_path: Path, trained_reg, cli
) -> None:
    frame = make_regression(n=10).drop(columns="price")
    frame.loc[2, "x1"] = 3.5e38 * 1e10  # finite in float64, beyond float32 once standardized
    data = tmp_path / "big.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "pred.csv"
    code, _, err = cli("predict", trained_reg, data, "--out", out)
    line = _one_line(code, err)
    assert "column 'x1', row 3" in line and "float32" in line
    assert not out.exists()


def test_a_gzipped_csv_is_read(tmp_path: Path, cli) -> None:
    frame = make_classification(n=80)
    data = tmp_path / "animals.csv.gz"
    with gzip.open(data, "wt", encoding="utf-8") as f:
        frame.to_csv(f, index=False)
    model = tmp_path / "m.chainrule"
    code, _, err = cli("train", data, "--target", "animal", "--out", model, *FAST)
    assert code == 0, err
    code, out, err = cli("predict", model, data)
    assert code == 0, err
    assert len(out.splitlines()) == 81


def test_a_damaged_gzip_file_says_gzip(tmp_path: Path, cli) -> None:
    data = tmp_path / "broken.csv.gz"
    data.write_bytes(gzip.compress(b"a,b,y\n" + b"1,2,3\n" * 100)[:25])
    code, _, err = cli("train", data, "--target", "y")
    assert "gzip" in _one_line(code, err)
    data.write_bytes(gzip.compress(bytes(range(256)) * 8))
    code, _, err = cli("train", data, "--target", "y")
    assert "gzip'd UTF-8 text" in _one_line(code, err)


def test_the_preprocessor_refuses_duplicate_column_names() -> None:
    pd = pytest.importorskip("pandas")
    from chainrule.data.tabular import TabularPreprocessor

    frame = pd.DataFrame([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], columns=["a", "b", "a"])
    with pytest.raises(ValueError, match="duplicate column names: 'a'"):
        TabularPreprocessor().fit(frame)
