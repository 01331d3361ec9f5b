"""Figures of a training run: learning curves, a confusion matrix, residuals (matplotlib).

matplotlib is an optional extra (``pip install "chainrule[plot]"``) and is imported only inside
these functions. Each draws into `ax` when given (so it fits into a user's own figure) and
otherwise into a new `matplotlib.figure.Figure` made without pyplot, which changes no global
state: no backend is switched and no window opens. Save it with ``ax.figure.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_confusion_matrix", "plot_history", "plot_residuals"]


def _axes(ax: Any, size: tuple[float, float] = (6.0, 4.0)) -> Any:
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            'plotting needs matplotlib, which is not installed: pip install "chainrule[plot]"'
        ) from exc
    return Figure(figsize=size, layout="constrained").add_subplot()


def plot_history(history: Any, keys: Sequence[str] = ("loss", "val_loss"), ax: Any = None) -> Any:
    """Learning curves: each of `keys` in the history against the epoch (1-based).

    Parameters
    ----------
    history : History or mapping of str to list of float
        ``cr.fit``'s result, an estimator's ``history_``, or a plain dict of lists.
    keys : sequence of str
        The curves to draw; keys the history lacks are skipped.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    data: Mapping[str, Any] = getattr(history, "history", history)
    ax = _axes(ax)
    for key in keys:
        if key in data and len(data[key]):
            values = np.asarray(data[key], dtype=np.float64)
            ax.plot(
                np.arange(1, len(values) + 1),
                values,
                label=key,
                marker="." if len(values) < 30 else None,
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel(" / ".join(k for k in keys if k in data) or "value")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return ax


def plot_confusion_matrix(
    matrix: Any, labels: Sequence[Any], ax: Any = None, title: str = "confusion matrix"
) -> Any:
    """The confusion matrix C (Cᵢⱼ = samples of true class i predicted as j), with counts."""
    C = np.asarray(matrix)
    n = len(labels)
    if C.shape != (n, n):
        raise ValueError(f"the matrix has shape {C.shape} for {n} labels")
    ax = _axes(ax, (1.5 + 0.5 * n, 1.2 + 0.5 * n) if n > 8 else (5.0, 4.5))
    image = ax.imshow(C, cmap="Blues")
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    ticks = np.arange(n)
    ax.set_xticks(ticks, [str(v) for v in labels], rotation=45 if n > 6 else 0)
    ax.set_yticks(ticks, [str(v) for v in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 30:
        threshold = C.max() / 2 if C.size else 0
        for i in range(n):
            for j in range(n):
                color = "white" if C[i, j] > threshold else "black"
                ax.text(j, i, str(C[i, j]), ha="center", va="center", color=color, fontsize=8)
    return ax


def plot_residuals(y_true: Any, y_pred: Any, ax: Any = None, title: str = "residuals") -> Any:
    """Residuals y − ŷ against the prediction ŷ: structure here is what the model missed."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} targets but {len(y_pred)} predictions")
    ax = _axes(ax)
    ax.scatter(y_pred, y_true - y_pred, s=10, alpha=0.6)
    ax.axhline(0.0, color="black", linewidth=1)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true − predicted")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax
