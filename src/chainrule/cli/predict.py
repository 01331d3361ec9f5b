"""``chainrule predict MODEL DATA [--out FILE] [--proba]``: one prediction per row, as CSV.

The model's preprocessing turns the raw rows into network inputs, so DATA has the columns of
the training table (the target column may be present; it is ignored). Predictions are in
the original label values; ``--proba`` adds one probability column per class, ``--id``
copies identifier columns in front, as written in DATA. Numbers are written as the shortest
text that reads back as the same value at the model's precision (float32 unless trained
with ``--dtype float64``), or with ``--digits N`` significant digits.
"""

from __future__ import annotations

import argparse
from typing import Any

from chainrule.cli import io
from chainrule.cli.arguments import add_command, add_model_and_data
from chainrule.cli.prediction import finish, id_columns, model_dtype, predictions, unused
from chainrule.cli.values import whole_number

HELP = "predict each row of a table with a saved model (CSV output)"
EXAMPLES = """examples:
  chainrule predict out/model.chainrule new.csv                 # to standard output
  chainrule predict iris.chainrule iris-new.csv --proba --out predictions.csv
  chainrule predict houses.chainrule new.csv --id house_id --digits 6
"""


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "predict", parents, HELP, __doc__, EXAMPLES)
    add_model_and_data(p, "CSV or Parquet file of rows to predict")
    p.add_argument("--out", metavar="FILE", help="CSV file to write (default: standard output)")
    p.add_argument("--proba", action="store_true", help="add class probabilities")
    p.add_argument(
        "--id",
        metavar="COLUMNS",
        default="",
        help="comma-separated columns of DATA to copy into the output (row identifiers)",
    )
    p.add_argument(
        "--digits",
        type=_digits,
        metavar="N",
        help="write numbers with N significant digits (default: as many as the model's "
        "precision needs to read back the same value)",
    )
    p.add_argument(
        "--unknown",
        choices=("error", "ignore"),
        default="error",
        help="a category not seen in training: stop with an error (default) or encode it "
        "as all zeros",
    )
    p.add_argument("--sep", metavar="CHAR", help="CSV delimiter (default: detected)")
    p.set_defaults(run=run)


def _digits(text: str) -> int:
    return whole_number(text, 1, 17)


def run(args: argparse.Namespace) -> int:
    from chainrule.cli import lean_predict

    # A model trained by 'chainrule train' and a plain CSV file: predicted without pandas
    # or scikit-learn, by the same code (`lean_predict`); anything else, as below.
    if lean_predict.run(args):
        return 0
    return run_full(args)


def run_full(args: argparse.Namespace) -> int:
    """`run` for any model and table: read with pandas, the model built as `cr.load` does."""
    from chainrule.cli.options import names

    model = io.read_model(args.model)
    # identifiers are copied as written (007 stays 007), unless the model reads them too
    frame = io.read_table(args.data, args.sep, text_columns=unused(model, names(args.id)))
    source = repr(str(args.data))
    ids = id_columns(frame, args.id, source)
    features = frame.drop(columns=unused(model, ids))
    result = predictions(model, features, proba=args.proba, unknown=args.unknown, source=source)
    io.write_table(finish(result, frame, ids, args.digits, model_dtype(model)), args.out)
    return 0
