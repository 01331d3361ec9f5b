"""Decisions ``chainrule train`` takes about the data are said, not silent."""

from __future__ import annotations

import numpy as np
import pandas as pd

import chainrule as cr


def _table(tmp_path, n=60):
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "customer": [f"C{1000 + i}" for i in range(n)],  # an identifier
            "row": np.arange(n) * 7,  # a row counter
            "x": x,
            "colour": rng.choice(["red", "blue"], n).astype(object),
            "y": (x > 0).astype(int),
        }
    )
    frame.loc[[3, 8, 13], "colour"] = None
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return path


def test_id_columns_are_dropped_with_a_warning(tmp_path, cli):
    data = _table(tmp_path)
    code, _, err = cli(
        "train", data, "--target", "y", "--out", tmp_path / "m", "--epochs", "5", "--quiet"
    )
    assert code == 0, err
    assert "'customer', 'row'" in err and "--keep-id-columns" in err
    model = cr.load(tmp_path / "m")
    assert model.preprocessor.input_columns == ["x", "colour"]
    # The model predicts on the same file (the identifier column is ignored there).
    code, _, err = cli("predict", tmp_path / "m", data, "--out", tmp_path / "p.csv")
    assert code == 0, err


def test_keep_id_columns_keeps_them(tmp_path, cli):
    data = _table(tmp_path)
    code, _, err = cli(
        "train", data, "--target", "y", "--out", tmp_path / "m", "--epochs", "5",
        "--keep-id-columns", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "customer" not in err
    model = cr.load(tmp_path / "m")
    assert {"customer", "row"} <= set(model.preprocessor.input_columns)
    assert "--keep-id-columns" in model.info["command"]


def test_missing_categories_get_a_note_as_missing_numbers_do(tmp_path, cli):
    data = _table(tmp_path)
    code, out, err = cli("train", data, "--target", "y", "--out", tmp_path / "m", "--epochs", "5")
    assert code == 0, err
    assert "column 'colour': 3 missing values, encoded as no category" in out
