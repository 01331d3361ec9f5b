"""Metrics `cr.fit` can log per epoch: ``metrics=["accuracy"]`` or functions f(y_true, y_pred).

A metric maps NumPy targets and raw network outputs to a float; it has no gradient (that is
what losses are for). The training value of a metric is averaged over the epoch's batches
weighted by their sizes (exact for means such as accuracy and squared error); the validation
value is computed on all validation outputs at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
Metric = Callable[[Array, Array], float]


def accuracy(y_true: Array, y_pred: Array, threshold: float = 0.0) -> float:
    """Share of samples whose predicted class is the true one.

    With several output columns the predicted class is the arg-max (logits or probabilities
    alike); with one, it is ``y_pred > threshold`` (0 for logits, 0.5 for probabilities).
    One-hot targets are turned into labels by their arg-max.
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        predicted = y_pred.argmax(axis=1)
        if y_true.ndim == 2 and y_true.shape[1] > 1:
            y_true = y_true.argmax(axis=1)
    else:
        predicted = (y_pred.reshape(len(y_pred), -1) > threshold).astype(np.int64)
        if y_true.ndim == 1:
            predicted = predicted[:, 0]
    return float(np.mean(predicted == y_true.reshape(predicted.shape)))


def mse(y_true: Array, y_pred: Array) -> float:
    """Mean squared error over all samples and outputs."""
    diff = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64).reshape(y_pred.shape)
    return float(np.mean(diff * diff))


def mae(y_true: Array, y_pred: Array) -> float:
    """Mean absolute error over all samples and outputs."""
    diff = np.asarray(y_pred, np.float64) - np.asarray(y_true, np.float64).reshape(y_pred.shape)
    return float(np.mean(np.abs(diff)))


def r2(y: Array, y_pred: Array, sample_weight: Array | None = None) -> float:
    """Coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², averaged over targets.

    A constant target counts as perfectly predicted (1) when the prediction is exact, else 0,
    as in scikit-learn's `r2_score`. The one R² of chainrule: the estimators' `score`, the
    command line's metrics and the recipe's test scores all use it.
    """
    y = np.asarray(y).reshape(len(y), -1).astype(np.float64)
    y_pred = np.asarray(y_pred).reshape(len(y), -1).astype(np.float64)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w = w[:, None]
    residual = (w * (y - y_pred) ** 2).sum(axis=0)
    total = (w * (y - np.average(y, axis=0, weights=w[:, 0])) ** 2).sum(axis=0)
    scores = np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), 0.0)
    scores = np.where((total == 0) & (residual == 0), 1.0, scores)
    return float(scores.mean())


METRICS: dict[str, Metric] = {"accuracy": accuracy, "acc": accuracy, "mse": mse, "mae": mae}


def resolve_metrics(metrics: Sequence[str | Metric] | None, loss: Any) -> dict[str, Metric]:
    """Name -> function for the `metrics` argument of `cr.fit` (ValueError for unknown names).

    ``"accuracy"`` thresholds a single output at 0 when the loss takes logits
    (`BinaryCrossEntropy`) and at 0.5 otherwise.
    """
    if metrics is None:
        return {}
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    resolved: dict[str, Metric] = {}
    for m in metrics:
        if isinstance(m, str):
            if m not in METRICS:
                raise ValueError(f"unknown metric {m!r}; valid: {', '.join(METRICS)}")
            fn = METRICS[m]
            if fn is accuracy:
                takes_logits = type(loss).__name__ in ("BinaryCrossEntropy",)
                threshold = 0.0 if takes_logits else 0.5
                name = m
                resolved[name] = lambda t, p, th=threshold: accuracy(t, p, th)
                continue
            resolved[m] = fn
        elif callable(m):
            resolved[getattr(m, "__name__", type(m).__name__)] = m
        else:
            raise ValueError(f"a metric must be a name or a function, got {m!r}")
    return resolved
