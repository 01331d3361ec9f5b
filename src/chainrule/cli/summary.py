"""What ``chainrule train`` shows and records: metrics, the summary, the report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, Any

import numpy as np

from chainrule.cli.fitting import predict_encoded

__all__ = ["compute_metrics", "predict_encoded", "print_summary", "training_length"]


def compute_metrics(model: Any, X_train: Any, y_train: Any, X_val: Any, y_val: Any) -> dict:
    """Metrics of the training and validation rows (validation: None without a split)."""
    from chainrule.cli.report import classification_metrics, regression_metrics

    def score(X: Any, y: Any) -> dict[str, Any]:
        pred = predict_encoded(model, X)
        if model.task == "regression":
            return regression_metrics(y, pred)
        labels = np.union1d(model.classes_, np.unique(y))
        return classification_metrics(y, pred, labels)

    return {
        "task": model.task,
        "train": score(X_train, y_train),
        "validation": None if X_val is None else score(X_val, y_val),
    }


def check_beats_baseline(metrics: dict[str, Any], y_train: Any, y_val: Any) -> None:
    """ValueError if the model scores below the trivial baseline on the validation rows.

    The baseline predicts the training mean (regression, compared by R²) or the most frequent
    training class (classification, by accuracy). Divergence that keeps the loss finite (a huge
    learning rate, inputs scaled by 1e30) ends far below it: such a model is not saved.
    """
    from chainrule.cli.report import regression_metrics

    val = metrics.get("validation")
    if val is None or y_val is None or len(y_val) == 0:
        return
    if metrics["task"] == "regression":
        mean = np.full(len(y_val), float(np.mean(y_train)))
        score, base, what = val["r2"], regression_metrics(y_val, mean)["r2"], "R²"
        trivial = "predicting the training mean"
    else:
        labels, counts = np.unique(y_train, return_counts=True)
        majority = labels[np.argmax(counts)].item()  # a Python value: shown as 0 or 'cat'
        score, base, what = val["accuracy"], float(np.mean(y_val == majority)), "accuracy"
        trivial = f"always predicting the most frequent class {majority!r}"[:120]
    if score < base:
        raise ValueError(
            f"the model is worse than the trivial baseline on the validation rows ({what} "
            f"{score:.4g}; {trivial} gives {base:.4g}), so it was not saved: lower --lr or "
            "rescale the data, or pass --force to save it anyway"
        )


def test_metrics(model: Any, frame: Any, path: str) -> dict[str, Any]:
    """The metrics of ``train --test``: `chainrule evaluate`'s, on the held-out table.

    A category the training rows never had is encoded as all zeros, as in validation.
    """
    from chainrule.cli.evaluate import evaluate

    metrics = evaluate(model, frame, model.target, "ignore", repr(str(path)))
    metrics.pop("task")
    return {**metrics, "file": str(path)}


def json_settings(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}


def reproducing_command(
    args: argparse.Namespace, task: str, target: str, out: Path, report: str | None
) -> str:
    """The command line that repeats this run exactly (every option spelled out)."""
    from chainrule.cli.options import command_line, hyperparameter_argv

    words = ["chainrule", "train"]
    if args.data is not None:
        words.append(str(args.data))
    words += ["--target", target, "--out", str(out)]
    if report is not None:
        words += ["--report", str(report)]
    if args.sep:
        words += ["--sep", args.sep]
    if getattr(args, "keep_id_columns", False):
        words.append("--keep-id-columns")
    for option in ("categorical", "drop"):
        value = getattr(args, option)
        if value:
            words += [f"--{option}", value if isinstance(value, str) else ",".join(value)]
    if getattr(args, "test", None):
        words += ["--test", str(args.test)]
    words += ["--task", task, "--validation-fraction", str(args.validation_fraction)]
    if args.early_stopping is not None:
        words.append("--early-stopping" if args.early_stopping else "--no-early-stopping")
    words += ["--seed", str(args.seed), *hyperparameter_argv(args, task)]
    return command_line(words)


def write_run_report(folder: str, model: Any, metrics: dict, fitted: Any, command: str) -> None:
    from chainrule.cli.report import write_report

    if fitted.X_val is not None:
        X, y = fitted.X_val, fitted.y_val
    else:
        X, y = fitted.X_train, fitted.y_train
    labels = None
    if model.task == "classification":
        part = metrics["validation"] or metrics["train"]
        labels = part["labels"]
    write_report(
        folder,
        task=model.task,
        history=model.estimator.history_.history,
        metrics={**metrics, **{k: model.info.get(k) for k in ("epochs", "best_epoch", "time_s")}},
        y_true=y,
        y_pred=predict_encoded(model, X),
        labels=labels,
        command=command,
        loss_name=getattr(model.estimator, "loss", None) if model.task == "regression" else None,
    )


def print_header(d: Any, prep: Any) -> None:
    """What was read and how it is split (`d`: `chainrule.cli.train.Prepared`)."""
    source, frame, target, task, y = d.source, d.features, d.target, d.task, d.y
    n_train, val = len(d.train), d.val
    kinds = [c["kind"] for c in prep.columns_]
    print(
        f"data    {source}: {len(frame)} rows; {kinds.count('numeric')} numeric and "
        f"{kinds.count('categorical')} categorical columns -> {len(prep.feature_names_)} inputs"
    )
    if task == "classification":
        classes = np.unique(y)
        shown = ", ".join(str(c) for c in classes[:8]) + (", ..." if len(classes) > 8 else "")
        print(f"task    classification of {target!r}: {len(classes)} classes ({shown})")
    else:
        print(f"task    regression of {target!r} (mean {np.mean(y):.4g}, sd {np.std(y):.4g})")
    n_val = 0 if val is None else len(val)
    print(f"split   {n_train} training rows, {n_val} validation rows")
    for col in prep.columns_:
        n_cats = len(col.get("categories", ()))
        if n_cats > 50 or n_cats > 0.5 * n_train > 10:
            print(
                f"note    column {col['name']!r}: {n_cats} categories became {n_cats} inputs; "
                f"if it is an identifier or free text, leave it out with --drop {col['name']}"
            )
        missing = int(frame[col["name"]].isna().sum())
        if missing:
            filled = (
                "filled with the training mean"
                if col["kind"] == "numeric"
                else "encoded as no category (all its inputs 0)"
            )
            print(f"note    column {col['name']!r}: {missing} missing values, {filled}")


_NAMES = {
    "accuracy": "accuracy",
    "f1_macro": "F1 (macro)",
    "r2": "R²",
    "mae": "MAE",
    "rmse": "RMSE",
}


def print_summary(model: Any, out: Path, report: str | None, stream: IO[str]) -> None:
    """The table of training and validation metrics, epochs, time and files written."""
    info = model.info
    train, val = info["metrics"]["train"], info["metrics"]["validation"]
    test = info["metrics"].get("test")
    keys = ["accuracy", "f1_macro"] if model.task == "classification" else ["r2", "mae", "rmse"]
    lines = [f"\n{'':14}{'train':>12}{'validation':>12}" + (f"{'test':>12}" if test else "")]
    for key in keys:
        shown = f"{val[key]:12.4f}" if val else f"{'-':>12}"
        shown += f"{test[key]:12.4f}" if test else ""
        lines.append(f"{_NAMES[key]:14}{train[key]:12.4f}{shown}")
    lines.append(f"{'epochs':14}{training_length(info)}")
    lines.append(f"{'time':14}{info['time_s']:.1f} s")
    lines.append(f"{'model':14}{out}")
    if report is not None:
        lines.append(f"{'report':14}{report}")
    print("\n".join(lines), file=stream)


def training_length(info: dict[str, Any]) -> str:
    """How many epochs ran, what ended training, and whose weights were kept (one line).

    Reads a model's record (``model.info``); files without ``stopped_by`` say less.
    """
    epochs, best = info.get("epochs"), info.get("best_epoch")
    settings = info.get("settings") or {}
    most, tol, patience = (settings.get(k) for k in ("epochs", "tol", "patience"))
    text = f"{epochs}" if most is None else f"{epochs} of {most}"
    why = info.get("stopped_by")
    if why == "early_stopping":
        text += f"; early stopping: the validation loss did not fall by {tol} in {patience} epochs"
    elif why == "tol":
        text += f"; --tol: the training loss did not fall by {tol} in {patience} epochs"
    elif why == "callback":
        text += "; stopped by a callback"
    if best is None:
        return text
    if why is not None and settings.get("early_stopping"):
        return f"{text}; weights of epoch {best} (the lowest validation loss)"
    return f"{text}; weights of epoch {best}" + (" (the last)" if best == epochs else "")
