"""``chainrule evaluate MODEL DATA --target COLUMN``: the model's metrics on a labelled table.

Classification: accuracy, macro-averaged F1 and the confusion matrix (rows: true class,
columns: predicted class). Regression: R², mean absolute error and root mean squared error.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from chainrule.cli import io
from chainrule.cli.errors import description

HELP = "score a saved model on a labelled table"


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "evaluate",
        help=HELP,
        description=description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    p.add_argument("model", metavar="MODEL", help="model file written by 'chainrule train'")
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file with the target column")
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="the true values (default: the column the model was trained on)",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument(
        "--unknown",
        choices=("error", "ignore"),
        default="error",
        help="unseen categories: an error (default) or encoded as all zeros",
    )
    p.add_argument("--sep", metavar="CHAR", help="CSV delimiter (default: detected)")
    p.set_defaults(run=run)


def evaluate(model: Any, frame: Any, target: str, unknown: str, source: str) -> dict[str, Any]:
    """The metrics of `model` (a TabularModel or estimator) on `frame`, target column `target`."""
    from chainrule.cli.predict import predictions
    from chainrule.report import classification_metrics, regression_metrics
    from chainrule.tabular import TabularModel, encode_target

    io.require_column(frame, target, source)
    if isinstance(model, TabularModel):
        task = model.task
    elif hasattr(model, "classes_"):
        task = "classification"
    elif hasattr(model, "n_outputs_"):
        task = "regression"
    else:
        raise ValueError("evaluate needs a model trained by 'chainrule train' or an estimator")
    y = encode_target(frame[target], task, target) if task == "regression" else None
    if task == "classification":
        missing = frame[target].isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"target column {target!r} has a missing value in row "
                f"{int(np.flatnonzero(missing)[0]) + 1}"
            )
        y = _labels_like(frame[target], model.classes_)
    features = frame.drop(columns=[target])
    pred = predictions(model, features, proba=False, unknown=unknown, source=source).iloc[:, 0]
    pred = np.asarray(pred.tolist())
    if task == "regression":
        metrics = regression_metrics(y, pred)
    else:
        labels = np.union1d(np.asarray(model.classes_), np.unique(y))
        metrics = classification_metrics(y, pred, labels)
    return {"task": task, **metrics}


def _labels_like(series: Any, classes: Any) -> Any:
    """The true labels in the type of the model's classes (so '1' in a file matches 1)."""
    values = series.to_numpy()
    kind = np.asarray(classes).dtype.kind
    try:
        if kind in "iu":
            return values.astype(np.float64).astype(np.int64)
        if kind == "f":
            return values.astype(np.float64)
        if kind == "b":
            return values.astype(bool)
    except (ValueError, TypeError):
        pass
    return series.astype(str).to_numpy(dtype=str)


def format_metrics(metrics: dict[str, Any]) -> str:
    if metrics["task"] == "regression":
        rows = [("R²", metrics["r2"]), ("MAE", metrics["mae"]), ("RMSE", metrics["rmse"])]
        return "\n".join(f"{name:12}{value:.4f}" for name, value in rows)
    lines = [
        f"{'accuracy':12}{metrics['accuracy']:.4f}",
        f"{'F1 (macro)':12}{metrics['f1_macro']:.4f}",
    ]
    labels = [str(v) for v in metrics["labels"]]
    width = max(6, *(len(s) for s in labels)) + 2
    lines += ["", "confusion matrix (rows: true class, columns: predicted class)"]
    lines.append(" " * width + "".join(f"{s:>{width}}" for s in labels))
    for label, row in zip(labels, metrics["confusion_matrix"], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from chainrule.tabular import TabularModel

    model = io.read_model(args.model)
    frame = io.read_table(args.data, args.sep)
    target = args.target or (model.target if isinstance(model, TabularModel) else None)
    if target is None:
        raise ValueError("--target COLUMN is required for this model")
    metrics = evaluate(model, frame, target, args.unknown, repr(str(args.data)))
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(f"{metrics['task']} of {target!r} on {args.data} ({metrics['n']} rows)")
        print(format_metrics(metrics))
    return 0
