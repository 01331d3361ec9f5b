"""``chainrule evaluate MODEL DATA --target COLUMN``: the model's metrics on a labelled table.

Classification: accuracy; precision, recall, F1 and support of each class with their macro
and weighted averages; from the predicted probabilities, the log-loss and the ROC-AUC (two
classes: of the second class; more: each class against the rest, macro average); and the
confusion matrix (rows: true class, columns: predicted class). Regression: R², mean
absolute error and root mean squared error. All are scikit-learn's metrics. ``--report DIR``
writes them as metrics.json with the confusion matrix or the residual plot.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from chainrule.cli import io
from chainrule.cli.arguments import add_command, add_model_and_data

HELP = "score a saved model on a labelled table"
EXAMPLES = """examples:
  chainrule evaluate out/model.chainrule test.csv           # target: the training column
  chainrule evaluate iris.chainrule iris-test.csv --json
  chainrule evaluate houses.chainrule test.csv --target price --report houses-eval
"""


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "evaluate", parents, HELP, __doc__, EXAMPLES)
    add_model_and_data(p, "CSV or Parquet file with the target column")
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="the true values (default: the column the model was trained on)",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument(
        "--report",
        metavar="DIR",
        help="write metrics.json and the confusion matrix or residual plot into DIR",
    )
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
    return score(model, frame, target, unknown, source)[0]


def score(
    model: Any, frame: Any, target: str, unknown: str, source: str
) -> tuple[dict[str, Any], Any, Any]:
    """(metrics, true values, predictions) of `model` on `frame` (see `evaluate`)."""
    from chainrule.cli.prediction import predictions
    from chainrule.cli.report import classification_metrics, regression_metrics
    from chainrule.data.tabular import TabularModel, encode_target

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
    proba = task == "classification" and _has_proba(model)
    result = predictions(model, features, proba=proba, unknown=unknown, source=source)
    pred = np.asarray(result.iloc[:, 0].tolist())
    if task == "regression":
        metrics = regression_metrics(y, pred)
    else:
        labels = np.union1d(np.asarray(model.classes_), np.unique(y))
        p = result.iloc[:, 1:].to_numpy(dtype=np.float64) if proba else None
        metrics = classification_metrics(y, pred, labels, proba=p, classes=list(model.classes_))
    return {"task": task, **metrics}, y, pred


def _has_proba(model: Any) -> bool:
    if getattr(getattr(model, "estimator", model), "_multilabel", False):
        return False
    return hasattr(model, "predict_proba")


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


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_metrics(metrics: dict[str, Any]) -> str:
    """The metrics as text: scores, a per-class table and the confusion matrix."""
    if metrics["task"] == "regression":
        rows = [("R²", metrics["r2"]), ("MAE", metrics["mae"]), ("RMSE", metrics["rmse"])]
        return "\n".join(f"{name:12}{value:.4f}" for name, value in rows)
    lines = [
        f"{'accuracy':12}{metrics['accuracy']:.4f}",
        f"{'F1 (macro)':12}{metrics['f1_macro']:.4f}",
    ]
    if "log_loss" in metrics:
        auc = metrics["roc_auc"]
        kind = "" if len(metrics["labels"]) <= 2 else " (one-vs-rest, macro)"
        lines += [f"{'log-loss':12}{_number(metrics['log_loss'])}"]
        lines += [f"{'ROC-AUC':12}{_number(auc)}{kind if auc is not None else ''}"]
        if metrics.get("not_scored"):
            lines.append(f"{'':12}({metrics['not_scored']})")
    labels = [str(v) for v in metrics["labels"]]
    width = max(12, *(len(s) for s in labels)) + 2
    lines += ["", f"{'':{width}}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>10}"]
    auc_column = any("roc_auc" in row for row in metrics["per_class"].values())
    if auc_column:
        lines[-1] += f"{'ROC-AUC':>10}"
    rows = [(label, metrics["per_class"][label]) for label in labels]
    rows += [("", None), ("macro avg", metrics["macro_avg"])]
    rows += [("weighted avg", metrics["weighted_avg"])]
    for name, row in rows:
        if row is None:
            lines.append("")
            continue
        line = f"{name:<{width}}" + "".join(
            f"{row[k]:>10.4f}" for k in ("precision", "recall", "f1")
        )
        line += f"{row['support']:>10}"
        if auc_column and name in metrics["per_class"]:
            line += f"{_number(row.get('roc_auc')):>10}"
        lines.append(line)
    width = max(6, *(len(s) for s in labels)) + 2
    lines += ["", "confusion matrix (rows: true class, columns: predicted class)"]
    lines.append(" " * width + "".join(f"{s:>{width}}" for s in labels))
    for label, row in zip(labels, metrics["confusion_matrix"], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from chainrule.data.tabular import TabularModel

    model = io.read_model(args.model)
    frame = io.read_table(args.data, args.sep)
    target = args.target or (model.target if isinstance(model, TabularModel) else None)
    if target is None:
        raise ValueError("--target COLUMN is required for this model")
    metrics, y, pred = score(model, frame, target, args.unknown, repr(str(args.data)))
    if args.report:
        from chainrule.cli.report import write_evaluation_report

        title = f"{args.data} ({metrics['n']} rows)"
        write_evaluation_report(args.report, metrics, y, pred, title=title)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print(f"{metrics['task']} of {target!r} on {args.data} ({metrics['n']} rows)")
        print(format_metrics(metrics))
        if args.report:
            print(f"\nreport      {args.report}")
    return 0
