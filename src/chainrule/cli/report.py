"""A training run's numbers and its report folder (metrics, figures, the reproducing command).

The metrics are the usual ones for each task, computed by scikit-learn: accuracy, precision,
recall and F1 per class with their macro and weighted averages, the confusion matrix and,
from probabilities, log-loss and ROC-AUC for classification; R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²,
the mean absolute error and the root mean squared error for regression. Every file of a
report is written atomically.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.saving.atomic import atomic_open
from chainrule.viz.plot_style import styled

__all__ = [
    "classification_metrics",
    "probability_metrics",
    "regression_metrics",
    "write_evaluation_report",
    "write_report",
    "write_text",
]


def classification_metrics(
    y_true: Any,
    y_pred: Any,
    labels: Sequence[Any],
    *,
    proba: Any = None,
    classes: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The usual scores of predicted classes, all computed by scikit-learn's metrics.

    - accuracy, and for each class its precision P = TP / (TP + FP), recall
      R = TP / (TP + FN), F1 = 2PR / (P + R) and support (its number of true rows), with their
      macro (plain mean over the classes) and weighted (support-weighted) averages;
      ``f1_macro`` repeats the macro F1;
    - the confusion matrix: rows are true classes and columns predicted ones, both in the
      order of `labels`;
    - given `proba` (n, K) with columns in the order of `classes`: the log-loss
      −(1/n) Σ log p(yᵢ) and the ROC-AUC (binary: of ``classes[1]``; more classes: one
      class against the rest, macro and weighted averages, and per class). They are None,
      with the reason under ``"not_scored"``, when a row's true class is not among `classes`
      or a class has no true row (its AUC needs positives and negatives).
    """
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

    labels = list(labels)
    report = classification_report(y_true, y_pred, labels=labels, output_dict=True, zero_division=0)
    per_class = {str(_json_label(v)): _scores(report[str(v)]) for v in labels}
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_macro": float(report["macro avg"]["f1-score"]),
        "per_class": per_class,
        "macro_avg": _scores(report["macro avg"]),
        "weighted_avg": _scores(report["weighted avg"]),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": [_json_label(v) for v in labels],
        "n": len(y_true),
    }
    if proba is not None:
        out.update(probability_metrics(y_true, proba, list(classes or labels), per_class))
    return out


def _scores(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "precision": float(row["precision"]),
        "recall": float(row["recall"]),
        "f1": float(row["f1-score"]),
        "support": int(row["support"]),
    }


def probability_metrics(
    y_true: Any, proba: Any, classes: list[Any], per_class: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Log-loss and ROC-AUC of the probabilities `proba` (columns in the order of `classes`).

    Fills in ``per_class[label]["roc_auc"]`` (one class against the rest) when given.
    """
    from sklearn.metrics import log_loss, roc_auc_score

    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)  # float32 rows sum to 1 only within float32 rounding
    out: dict[str, Any] = {"log_loss": None, "roc_auc": None}
    unknown = ~np.isin(y, np.asarray(classes))
    if unknown.any():
        out["not_scored"] = (
            f"{int(unknown.sum())} row(s) have a class the model never saw: no log-loss or ROC-AUC"
        )
        return out
    out["log_loss"] = float(log_loss(y, p, labels=classes))
    present = [k for k, c in enumerate(classes) if (y == c).any() and (y != c).any()]
    if per_class is not None:
        for k in present:
            auc = roc_auc_score(y == classes[k], p[:, k])
            per_class[str(_json_label(classes[k]))]["roc_auc"] = float(auc)
    if len(classes) == 2:
        if len(present) == 2:
            out["roc_auc"] = float(roc_auc_score(y == classes[1], p[:, 1]))
    elif len(present) == len(classes):
        out["roc_auc"] = float(roc_auc_score(y, p, multi_class="ovr", labels=classes))
        out["roc_auc_weighted"] = float(
            roc_auc_score(y, p, multi_class="ovr", labels=classes, average="weighted")
        )
    if out["roc_auc"] is None:
        out["not_scored"] = "a class has no true row: no overall ROC-AUC"
    return out


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, Any]:
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², mean absolute error and root mean squared error.

    R² (`chainrule.training.metrics.r2`) is 0 for a constant target (1 if predicted
    exactly), and 0 for a single row.
    """
    from chainrule.training.metrics import mae, mse, r2

    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    return {
        "r2": r2(y, p) if len(y) > 1 else 0.0,
        "mae": mae(y, p),
        "rmse": math.sqrt(mse(y, p)),
        "n": len(y),
    }


def _json_label(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_open(path) as f:
        f.write(text.encode("utf-8"))


@styled
def _two_axes() -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(10, 4), layout="constrained").subplots(1, 2)


def _write_figure(path: Path, ax: Any) -> None:
    from chainrule.viz.plot_style import png_bytes

    with atomic_open(path) as f:
        f.write(png_bytes(ax.figure))


def write_report(
    folder: str | os.PathLike[str],
    *,
    task: str,
    history: Mapping[str, Sequence[float]],
    metrics: Mapping[str, Any],
    y_true: Any,
    y_pred: Any,
    labels: Sequence[Any] | None,
    command: str,
    loss_name: str | None = None,
) -> list[Path]:
    """Write a run's report into `folder` (created if needed); return the files written.

    `metrics` holds ``"train"`` and ``"validation"`` (None without a validation split), each
    the output of `classification_metrics` or `regression_metrics`, plus any other JSON.

    Files: ``metrics.json`` (`metrics` and the command), ``history.csv`` (one row per epoch),
    ``command.txt`` (the exact command that reproduces the run), ``learning_curves.png``,
    and ``confusion_matrix.png`` (classification) or ``residuals.png`` (regression) of
    `y_true` / `y_pred` (the validation set when there is one). The figures are skipped,
    with a note in ``metrics.json``, when matplotlib is not installed. The learning curves
    name the loss (`loss_name`), mark ``metrics["best_epoch"]`` (the weights kept) and, for
    regression, say that the loss is in standardized target units (the network learns
    (y − mean) / sd).
    """
    from chainrule.viz.plotting import plot_confusion_matrix, plot_history, plot_residuals

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    data = {**metrics, "command": command}
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        data["figures"] = 'not drawn: matplotlib is not installed (pip install "chainrule[plot]")'
    else:
        left, right = _two_axes()
        best = metrics.get("best_epoch")
        plot_history(
            history,
            ("loss", "val_loss"),
            ax=left,
            loss_name=loss_name or ("cross_entropy" if task == "classification" else None),
            best_epoch=best,
            units="standardized target units" if task == "regression" else None,
        )
        left.set_title("loss")
        score_keys = [k for k in history if k.startswith("val_") and k != "val_loss"]
        if score_keys:
            plot_history(history, score_keys, ax=right, best_epoch=best)
            right.set_title("validation score")
        else:
            right.set_visible(False)
        _write_figure(out / "learning_curves.png", left)
        written.append(out / "learning_curves.png")
        if task == "classification":
            part = "validation" if metrics.get("validation") else "train"
            C = metrics[part]["confusion_matrix"]
            ax = plot_confusion_matrix(
                np.asarray(C), list(labels or []), title=f"confusion matrix ({part} rows)"
            )
            name = "confusion_matrix.png"
        else:
            part = "validation" if metrics.get("validation") else "train"
            ax = plot_residuals(y_true, y_pred, title=f"residuals ({part} rows)")
            name = "residuals.png"
        _write_figure(out / name, ax)
        written.append(out / name)
    write_text(out / "metrics.json", json.dumps(data, indent=2, allow_nan=True) + "\n")
    write_text(out / "command.txt", command + "\n")
    keys = list(history)
    n = max((len(v) for v in history.values()), default=0)
    rows = ["epoch," + ",".join(keys)]
    rows += [
        f"{e + 1}," + ",".join(f"{history[k][e]:.6g}" if e < len(history[k]) else "" for k in keys)
        for e in range(n)
    ]
    write_text(out / "history.csv", "\n".join(rows) + "\n")
    written += [out / "metrics.json", out / "command.txt", out / "history.csv"]
    return written


def write_evaluation_report(
    folder: str | os.PathLike[str],
    metrics: Mapping[str, Any],
    y_true: Any,
    y_pred: Any,
    *,
    title: str,
) -> list[Path]:
    """Write ``chainrule evaluate``'s report into `folder`; return the files written.

    ``metrics.json`` (`metrics`) and, when matplotlib is installed, ``confusion_matrix.png``
    (classification) or ``residuals.png`` (regression: y − ŷ against ŷ) of `y_true` /
    `y_pred`, titled after `title` (the data).
    """
    from chainrule.viz.plotting import plot_confusion_matrix, plot_residuals

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    data = dict(metrics)
    written = []
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        data["figures"] = 'not drawn: matplotlib is not installed (pip install "chainrule[plot]")'
    else:
        if metrics["task"] == "classification":
            C = np.asarray(metrics["confusion_matrix"])
            ax = plot_confusion_matrix(
                C, list(metrics["labels"]), title=f"confusion matrix, {title}"
            )
            name = "confusion_matrix.png"
        else:
            ax = plot_residuals(y_true, y_pred, title=f"residuals, {title}")
            name = "residuals.png"
        _write_figure(out / name, ax)
        written.append(out / name)
    write_text(out / "metrics.json", json.dumps(data, indent=2, allow_nan=True) + "\n")
    return [*written, out / "metrics.json"]
