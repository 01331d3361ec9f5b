"""A training run's numbers and its report folder (metrics, figures, the reproducing command).

The metrics are the usual ones for each task: accuracy, macro-averaged F1 and the confusion
matrix for classification; R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², the mean absolute error and the
root mean squared error for regression. Every file of a report is written atomically.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.archive import atomic_open
from chainrule.plot_style import styled

__all__ = ["classification_metrics", "regression_metrics", "write_report", "write_text"]


def classification_metrics(y_true: Any, y_pred: Any, labels: Sequence[Any]) -> dict[str, Any]:
    """Accuracy, macro F1 (the mean of the per-class F1 = 2PR / (P + R)) and the confusion matrix.

    The matrix's rows are true classes and columns predicted ones, both in the order of
    `labels`.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    labels = list(labels)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "f1_macro": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": [_json_label(v) for v in labels],
        "n": len(y_true),
    }


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, Any]:
    """R², mean absolute error and root mean squared error."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    residual = float(np.sum((y - p) ** 2))
    total = float(np.sum((y - y.mean()) ** 2)) if len(y) else 0.0
    r2 = 1.0 - residual / total if total > 0 else (1.0 if residual == 0 else 0.0)
    return {
        "r2": r2,
        "mae": float(np.mean(np.abs(y - p))),
        "rmse": math.sqrt(residual / len(y)),
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
    from chainrule.plot_style import png_bytes

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
    from chainrule.plotting import plot_confusion_matrix, plot_history, plot_residuals

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
