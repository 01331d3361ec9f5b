"""`chainrule predict --id` and the precision of the numbers it writes."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

import chainrule as cr

from .conftest import make_regression


def _with_ids(tmp_path, n=12):
    frame = make_regression(n=n, seed=7).drop(columns="price")
    frame.insert(0, "house", [f"{k:03d}" for k in range(n)])  # 000, 001: not numbers
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    return frame, path


def test_id_columns_are_copied_as_written(tmp_path, trained_reg, cli):
    frame, path = _with_ids(tmp_path)
    code, out, err = cli("predict", trained_reg, path, "--id", "house,kind")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "house,kind,price"
    assert [line.split(",")[0] for line in lines[1:4]] == ["000", "001", "002"]
    result = pd.read_csv(io.StringIO(out))
    assert result["kind"].tolist() == frame["kind"].tolist()
    expected = cr.load(trained_reg).predict(frame)
    np.testing.assert_allclose(result["price"].to_numpy(), expected, rtol=1e-7)


def test_an_unknown_id_column_is_named(tmp_path, trained_reg, cli):
    _, path = _with_ids(tmp_path)
    code, _, err = cli("predict", trained_reg, path, "--id", "street")
    assert code == 1 and "column 'street' not found" in err and "house" in err


def test_regression_values_are_written_at_the_models_precision(tmp_path, trained_reg, cli):
    frame, path = _with_ids(tmp_path)
    code, out, err = cli("predict", trained_reg, path)
    assert code == 0, err
    texts = [line for line in out.splitlines()[1:]]
    expected = cr.load(trained_reg).predict(frame)
    # the shortest text of the float32 value: it reads back as that float32, and no digit less
    for text, value in zip(texts, expected, strict=True):
        assert np.float32(text) == np.float32(value)
        assert len(text.replace("-", "").replace(".", "")) <= 9
    assert max(len(t) for t in texts) < len(repr(float(expected[0]))) + 2


def test_digits_sets_the_significant_digits(tmp_path, trained_clf, clf_csv, cli):
    code, out, err = cli("predict", trained_clf, clf_csv, "--proba", "--digits", "3")
    assert code == 0, err
    row = out.splitlines()[1].split(",")
    for text in row[1:]:
        assert len(text.lstrip("0.").replace(".", "").lstrip("0")) <= 3, text
    code, _, err = cli("predict", trained_clf, clf_csv, "--digits", "0")
    assert code == 2 and "--digits" in err
