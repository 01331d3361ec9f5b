"""``chainrule predict`` without pandas or scikit-learn, for the common case.

A model written by ``chainrule train`` (a `TabularModel`) and a plain CSV file are all that
most predictions involve, yet importing pandas and scikit-learn would take most of the
command's time. Here the model file's estimator record becomes a
`chainrule.estimators.inference.Predictor`
(the estimators' own prediction code, without their scikit-learn base class), the table is
read by `chainrule.data.plain_csv`, and the rows go through the same `TabularModel`,
preprocessing and output helpers (`chainrule.cli.prediction`) as in
`chainrule.cli.predict.run_full`.

Whenever this path cannot promise the full path's answer (another kind of model, a file
`plain_csv` is unsure of, a text value in a numeric column, labels that are not of one
type, any error), it gives up without a word and the full path runs: it reports errors.
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from collections.abc import Iterator
from io import StringIO

import numpy as np

from chainrule.cli import io, prediction
from chainrule.data import plain_csv

__all__ = ["run"]


def run(args: argparse.Namespace) -> bool:
    """Predict as ``chainrule predict`` does; False (nothing written) if the full path must."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            columns = _columns(args)
    except Exception:  # the full path reads, decides and reports instead
        return False
    for w in caught:  # shown only now: the full path would show them again
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    write_columns(columns, args.out)
    return True


def _columns(args: argparse.Namespace) -> dict[str, list[str]]:
    from chainrule.cli.options import names
    from chainrule.estimators.inference import Predictor
    from chainrule.estimators.params import init_defaults, record_params, validate
    from chainrule.saving.modelfile import read_header
    from chainrule.saving.tabular import tabular_model

    meta, arrays = read_header(io.check_input(args.model))
    if meta.get("content") != "tabular":
        raise plain_csv.Unsure("not a model of 'chainrule train'")
    spec = meta.get("estimator")
    predictor = Predictor.from_record(spec, arrays)
    # the hyperparameters, checked as `chainrule.load` checks them (not needed to predict)
    defaults = init_defaults(spec["class"])
    validate({**defaults, **record_params(spec.get("params"), defaults)})
    if predictor.classifier and predictor.classes_.dtype.kind not in "Uiubf":
        raise plain_csv.Unsure("labels of mixed types")  # as pandas infers a column of them
    model = tabular_model(meta, predictor)
    wanted = list(names(args.id))
    inputs = model.preprocessor.input_columns
    frame = plain_csv.read(
        args.data, args.sep, [*inputs, *wanted], text_columns=prediction.unused(model, wanted)
    )
    for col in model.preprocessor.columns_:
        name = col["name"]
        if col["kind"] == "numeric" and name in frame.columns and frame[name].dtype.kind == "O":
            raise plain_csv.Unsure("text in a numeric column")  # pandas' to_numeric decides
    source = repr(str(args.data))
    ids = prediction.id_columns(frame, args.id, source)
    if any(frame[name].dtype.kind == "f" for name in ids):
        raise plain_csv.Unsure("an --id column of floats")  # pandas writes those its way
    features = frame.drop(columns=prediction.unused(model, ids))
    result = prediction.prediction_columns(
        model, features, proba=args.proba, unknown=args.unknown, source=source
    )
    prediction.check_id_names(ids, list(result))
    dtype = prediction.model_dtype(model)
    out = {name: _cells(frame[name].to_numpy()) for name in ids}
    for name, values in result.items():
        values = np.asarray(values)
        if values.dtype.kind == "f":
            out[name] = prediction.number_text(values, args.digits, dtype)
        else:
            out[name] = _cells(values)
    return out


def _cells(values: np.ndarray) -> list[str]:
    """Each value as pandas' ``to_csv`` writes it: text as is, numbers by `str`, gaps empty."""
    return ["" if v is None else str(v) for v in values.tolist()]


def write_columns(columns: dict[str, list[str]], path: str | None) -> None:
    """The columns as CSV with a header row, as `io.write_table` writes a DataFrame of them
    (`io.WRITE_ROWS` rows at a time)."""
    if path is None or str(path) == "-":
        for text in _csv_chunks(columns):
            sys.stdout.write(text)
        sys.stdout.flush()
        return
    with io.atomic_open(path) as f:
        for text in _csv_chunks(columns):
            f.write(text.encode("utf-8"))


def _csv_chunks(columns: dict[str, list[str]]) -> Iterator[str]:
    rows = list(zip(*columns.values(), strict=True))
    for start in range(0, max(len(rows), 1), io.WRITE_ROWS):
        buffer = StringIO()
        writer = csv.writer(buffer, lineterminator="\n")  # pandas writes through `csv` alike
        if start == 0:
            writer.writerow(list(columns))
        writer.writerows(rows[start : start + io.WRITE_ROWS])
        yield buffer.getvalue()
