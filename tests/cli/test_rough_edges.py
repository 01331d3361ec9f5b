"""Rough edges of the command line: huge cells, huge category counts, half-text columns,
stale temporaries, models worse than the trivial baseline, streamed prediction output."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from .conftest import FAST, make_classification, make_regression

pd = pytest.importorskip("pandas")


def _one_line(code: int, err: str) -> str:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_an_error_quotes_at_most_80_characters_of_a_cell(tmp_path: Path, cli) -> None:
    frame = make_regression(n=40).astype({"x1": object})
    frame.loc[30, "x1"] = "9" * 4 + "x" * 100_000  # mostly numbers: a damaged numeric column
    data = tmp_path / "long.csv"
    frame.to_csv(data, index=False)
    code, _, err = cli("train", data, "--target", "price", "--out", tmp_path / "m", *FAST)
    line = _one_line(code, err)
    assert "column 'x1', row 31" in line and "(100004 characters)" in line
    assert len(line) < 400


def test_a_huge_text_cell_is_refused_before_training(tmp_path: Path, cli) -> None:
    frame = make_classification(n=60)
    frame.loc[5, "color"] = "z" * (2 << 20)  # 2 MB in one category name
    data = tmp_path / "cell.csv"
    frame.to_csv(data, index=False)
    before = sorted(os.listdir(tmp_path))
    code, _, err = cli("train", data, "--target", "animal", "--out", tmp_path / "m", *FAST)
    line = _one_line(code, err)
    assert "column 'color'" in line and "characters of category names" in line
    assert len(line) < 400 and sorted(os.listdir(tmp_path)) == before


def test_a_column_of_too_many_categories_is_refused(tmp_path: Path, cli) -> None:
    # Not an identifier (some values repeat, so it is not dropped as one): too many categories.
    n = 10_100
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "code": [f"c-{i % 10_050}" for i in range(n)],
            "x": rng.normal(size=n),
            "y": rng.integers(0, 2, n),
        }
    )
    data = tmp_path / "codes.csv"
    frame.to_csv(data, index=False)
    code, _, err = cli("train", data, "--target", "y", "--out", tmp_path / "m", *FAST)
    line = _one_line(code, err)
    assert "column 'code' has 10050 distinct values" in line and "--drop" in line


def test_a_column_of_ids_kept_on_request_is_refused_as_too_many_categories(
    tmp_path: Path, cli
) -> None:
    n = 10_050
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"id": [f"id-{i}" for i in range(n)], "x": rng.normal(size=n), "y": rng.integers(0, 2, n)}
    )
    data = tmp_path / "ids.csv"
    frame.to_csv(data, index=False)
    args = ("train", data, "--target", "y", "--out", tmp_path / "m", "--keep-id-columns")
    line = _one_line(*cli(*args, *FAST)[::2])
    assert "column 'id' has 10050 distinct values" in line and "--drop" in line


def test_a_half_text_column_becoming_categories_is_warned_about(tmp_path: Path, cli) -> None:
    frame = make_regression(n=60).astype({"x2": object})
    frame.loc[::2, "x2"] = "unknown"  # half the cells text: read as categories
    data = tmp_path / "half.csv"
    frame.to_csv(data, index=False)
    code, _, err = cli("train", data, "--target", "price", "--out", tmp_path / "m", *FAST)
    assert code == 0, err
    warning = [line for line in err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "column 'x2' mixes numbers and text" in warning[0]
    assert "31 categories, 30 of which look like numbers" in warning[0]
    code, _, err = cli(
        "train", data, "--target", "price", "--out", tmp_path / "m", "--categorical", "x2", *FAST
    )
    assert code == 0 and "warning" not in err


def test_train_removes_stale_temporaries_it_owns(tmp_path: Path, clf_csv: Path, cli) -> None:
    out = tmp_path / "m.chainrule"
    stale = tmp_path / ".m.chainrule.0123456789ab.tmp"  # what a killed save leaves
    stale.write_bytes(b"half a model")
    others = [tmp_path / ".m.chainrule.tmp", tmp_path / ".other.chainrule.0123456789ab.tmp"]
    for path in others:
        path.write_bytes(b"not ours")
    code, _, err = cli("train", clf_csv, "--target", "animal", "--out", out, *FAST)
    assert code == 0, err
    assert out.exists() and not stale.exists()
    assert all(path.exists() for path in others)


def test_a_model_worse_than_the_trivial_baseline_is_not_saved(
    tmp_path: Path, reg_csv: Path, cli
) -> None:
    out = tmp_path / "m.chainrule"
    wild = ["--optimizer", "adam", "--lr", "1e6"]  # diverges while the loss stays finite
    code, _, err = cli("train", reg_csv, "--target", "price", "--out", out, *FAST, *wild)
    line = _one_line(code, err)
    assert "worse than the trivial baseline" in line and "--force" in line
    assert not out.exists()
    code, _, err = cli("train", reg_csv, "--target", "price", "--out", out, *FAST, *wild, "--force")
    assert code == 0, err
    assert out.exists()


def test_the_baseline_message_names_the_majority_class_as_the_data_writes_it() -> None:
    import numpy as np

    from chainrule.cli.summary import check_beats_baseline

    metrics = {"task": "classification", "validation": {"accuracy": 0.1}}
    for labels, shown in (([0, 0, 1], "class 0 "), (["cat", "cat", "dog"], "class 'cat' ")):
        y = np.array(labels)
        with pytest.raises(ValueError, match="worse than the trivial baseline") as info:
            check_beats_baseline(metrics, y, y)
        assert shown in str(info.value) and "np." not in str(info.value)


def test_predict_out_writes_the_table_in_chunks(
    tmp_path: Path, trained_clf: Path, clf_csv: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chainrule.cli import io, lean_predict

    code, whole, err = cli("predict", trained_clf, clf_csv)  # to standard output
    assert code == 0, err
    sizes: list[int] = []
    to_csv = pd.DataFrame.to_csv

    def recording(self, *args, **kwargs):
        sizes.append(len(self))
        return to_csv(self, *args, **kwargs)

    monkeypatch.setattr(io, "WRITE_ROWS", 16)
    monkeypatch.setattr(pd.DataFrame, "to_csv", recording)
    # the path that reads with pandas (large tables); the other reads files of a few MB
    monkeypatch.setattr(lean_predict, "run", lambda args: False)
    out = tmp_path / "pred.csv"
    code, _, err = cli("predict", trained_clf, clf_csv, "--out", out)
    assert code == 0, err
    assert out.read_text() == whole
    assert max(sizes) == 16 and sum(sizes) == 150  # never the whole table at once
