"""What ``chainrule train`` shows and records: validation scoring, metrics, summary, report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO, Any

import numpy as np

from chainrule.autograd import Tensor, no_grad
from chainrule.errors import TrainingDiverged
from chainrule.training import Callback, EarlyStopping
from chainrule.training.progress import is_terminal


class ValidationMonitor(Callback):
    """After each epoch, the validation loss and score: ``logs["val_loss"]`` and
    ``logs["val_accuracy"]`` (classification) or ``logs["val_r2"]`` (regression).

    The loss is the estimator's data loss (no penalties) in evaluation mode, so it can be
    compared with the training loss and drive early stopping.
    """

    def __init__(self, task: str, X: Any, targets: Any) -> None:
        self.task, self.X, self.targets = task, X, targets
        self.stopper: EarlyStopping | None = None
        self.losses: list[float] = []

    def on_train_begin(self, trainer: Any) -> None:
        self.losses = []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        model, loss = trainer.model, trainer.loss
        was_training = model.training
        model.eval()
        # Huge but finite weights overflow here first: report that as divergence, not a warning.
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):
            out = model(Tensor(self.X))
            value = getattr(loss, "data_loss", loss)(out, self.targets).item()
        model.train(was_training)
        if not np.isfinite(value):
            raise TrainingDiverged(
                f"training diverged: the validation loss is {value} after epoch {epoch + 1}; "
                "try a smaller learning rate",
                epoch=epoch + 1,
            )
        logs["val_loss"] = value
        self.losses.append(value)
        if self.task == "classification":
            logs["val_accuracy"] = float(np.mean(out.data.argmax(axis=1) == self.targets))
        else:
            residual = float(np.sum((out.data - self.targets) ** 2))
            total = float(np.sum((self.targets - self.targets.mean()) ** 2))
            logs["val_r2"] = 1 - residual / total if total > 0 else 0.0

    def best_epoch(self) -> int | None:
        """The 1-based epoch whose weights the model kept (None without validation)."""
        if self.stopper is not None and self.stopper.best_epoch is not None:
            return int(self.stopper.best_epoch) + 1
        return int(np.argmin(self.losses)) + 1 if self.losses else None


def make_estimator(
    task: str,
    kwargs: dict[str, Any],
    args: argparse.Namespace,
    X_val: Any,
    y_val: Any,
    y_train: Any,
    mean: float,
    scale: float,
    early: bool,
) -> tuple[Any, ValidationMonitor]:
    """The estimator for `task`, with validation scoring and early stopping as callbacks."""
    from chainrule.estimators import MLPClassifier, MLPRegressor

    dtype = np.dtype(kwargs["dtype"])
    monitor = ValidationMonitor(task, None, None)
    callbacks: list[Any] = []
    if X_val is not None:
        classes = np.unique(y_train)
        if task == "classification" and not np.isin(y_val, classes).any():
            X_val = None  # no validation row has a class seen in training: nothing to score
    if X_val is not None:
        if task == "classification":
            pos = np.minimum(np.searchsorted(classes, y_val), len(classes) - 1)
            keep = classes[pos] == y_val  # a class absent from training cannot be scored
            monitor = ValidationMonitor(task, X_val[keep], pos[keep].astype(np.intp))
        else:
            targets = ((y_val - mean) / scale).reshape(-1, 1).astype(dtype)
            monitor = ValidationMonitor(task, X_val, targets)
        callbacks.append(monitor)
        if early:
            monitor.stopper = EarlyStopping(
                "val_loss", patience=args.patience, min_delta=args.tol, restore_best_weights=True
            )
            callbacks.append(monitor.stopper)
    cls = MLPClassifier if task == "classification" else MLPRegressor
    estimator = cls(
        **kwargs,
        early_stopping=False,  # done here, on the split the summary reports
        random_state=args.seed,
        # The bar only: in a terminal (the estimator's per-epoch lines elsewhere would mix
        # into the command's own output).
        verbose=not args.quiet and is_terminal(sys.stderr),
        callbacks=callbacks,
    )
    return estimator, monitor


def predict_encoded(model: Any, X: Any) -> Any:
    """`model`'s predictions for rows already preprocessed (in the original target units)."""
    out = model.estimator.predict(X)
    if model.task == "regression":
        return out.astype(np.float64) * model.target_scale + model.target_mean
    return out


def compute_metrics(model: Any, X_train: Any, y_train: Any, X_val: Any, y_val: Any) -> dict:
    """Metrics of the training and validation rows (validation: None without a split)."""
    from chainrule.report import classification_metrics, regression_metrics

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
    for option in ("categorical", "drop"):
        value = getattr(args, option)
        if value:
            words += [f"--{option}", value if isinstance(value, str) else ",".join(value)]
    words += ["--task", task, "--validation-fraction", str(args.validation_fraction)]
    if args.early_stopping is not None:
        words.append("--early-stopping" if args.early_stopping else "--no-early-stopping")
    words += ["--seed", str(args.seed), *hyperparameter_argv(args, task)]
    return command_line(words)


def write_run_report(
    folder: str,
    model: Any,
    metrics: dict,
    X_val: Any,
    y_val: Any,
    X_train: Any,
    y_train: Any,
    command: str,
) -> None:
    from chainrule.report import write_report

    X, y = (X_val, y_val) if X_val is not None else (X_train, y_train)
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
    )


def print_header(
    source: str, frame: Any, target: str, task: str, y: Any, prep: Any, n_train: int, val: Any
) -> None:
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
        if col["kind"] == "numeric" and missing:
            print(
                f"note    column {col['name']!r}: {missing} missing values, filled with the "
                "training mean"
            )


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
    keys = ["accuracy", "f1_macro"] if model.task == "classification" else ["r2", "mae", "rmse"]
    lines = [f"\n{'':14}{'train':>12}{'validation':>12}"]
    for key in keys:
        shown = f"{val[key]:12.4f}" if val else f"{'-':>12}"
        lines.append(f"{_NAMES[key]:14}{train[key]:12.4f}{shown}")
    best = f" (weights of epoch {info['best_epoch']})" if info.get("best_epoch") else ""
    lines.append(f"{'epochs':14}{info['epochs']}{best}")
    lines.append(f"{'time':14}{info['time_s']:.1f} s")
    lines.append(f"{'model':14}{out}")
    if report is not None:
        lines.append(f"{'report':14}{report}")
    print("\n".join(lines), file=stream)
