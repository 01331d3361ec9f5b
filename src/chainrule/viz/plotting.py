"""Figures of a training run: learning curves, a confusion matrix, residuals (matplotlib).

matplotlib is an optional extra (``pip install "chainrule[plot]"``) and is imported only inside
these functions. Each draws into `ax` when given (so it fits into a user's own figure) and
otherwise into a new `matplotlib.figure.Figure` made without pyplot, which changes no global
state: no backend is switched and no window opens. Save it with ``ax.figure.savefig(path)``.
All of them use the shared style of `chainrule.viz.plot_style`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.viz.plot_style import BEST, MUTED, TRAIN, VALIDATION, integer_ticks, new_axes, styled

__all__ = ["plot_confusion_matrix", "plot_history", "plot_residuals"]

_LOSS_NAMES = {  # estimator loss names -> words for an axis label
    "cross_entropy": "cross-entropy",
    "binary_cross_entropy": "binary cross-entropy",
    "squared_error": "squared error",
    "mse": "squared error",
    "absolute_error": "absolute error",
    "huber": "Huber",
}


def _axes(ax: Any, size: tuple[float, float] = (6.4, 4.0)) -> Any:
    return new_axes(ax, size)


def _colour(key: str) -> str | None:
    """Training loss blue and validation loss orange in every figure; others take the cycle."""
    return {"loss": TRAIN, "val_loss": VALIDATION}.get(key)


@styled
def plot_history(
    history: Any,
    keys: Sequence[str] = ("loss", "val_loss"),
    ax: Any = None,
    *,
    loss_name: str | None = None,
    best_epoch: int | None = None,
    units: str | None = None,
) -> Any:
    """Learning curves: each of `keys` in the history against the epoch (1-based).

    Parameters
    ----------
    history : History or mapping of str to list of float
        ``cr.fit``'s result, an estimator's ``history_``, or a plain dict of lists.
    keys : sequence of str
        The curves to draw; keys the history lacks are skipped.
    ax : matplotlib Axes, optional
    loss_name : str, optional
        Which loss the curves are (``"cross_entropy"``, ``"squared_error"``, ...), for the
        axis label.
    best_epoch : int, optional
        The epoch (1-based) whose weights were kept (early stopping restores them): marked
        with a vertical line.
    units : str, optional
        What the loss is measured in, e.g. ``"standardized target units"`` when a regression
        network learned (y − mean) / sd.

    Returns
    -------
    matplotlib Axes
    """
    data: Mapping[str, Any] = getattr(history, "history", history)
    ax = _axes(ax)
    drawn = [k for k in keys if k in data and len(data[k])]
    for key in drawn:
        values = np.asarray(data[key], dtype=np.float64)
        label = {"loss": "training", "val_loss": "validation"}.get(key, key.replace("_", " "))
        ax.plot(
            np.arange(1, len(values) + 1),
            values,
            label=label,
            color=_colour(key),
            marker="." if len(values) < 30 else None,
        )
    if best_epoch is not None:
        ax.axvline(best_epoch, color=BEST, linestyle=":", linewidth=1.5)
        ax.plot([], [], color=BEST, linestyle=":", label=f"weights kept (epoch {best_epoch})")
    ax.set_xlabel("epoch")
    integer_ticks(ax.xaxis)
    if drawn and all(k.endswith("loss") for k in drawn):
        name = _LOSS_NAMES.get(loss_name or "", (loss_name or "").replace("_", " "))
        label = f"{name} loss" if name else "loss"
        ax.set_ylabel(f"{label}\n({units})" if units else label)
    else:
        ax.set_ylabel(" / ".join(k.replace("_", " ") for k in drawn) or "value")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return ax


@styled
def plot_confusion_matrix(
    matrix: Any, labels: Sequence[Any], ax: Any = None, title: str = "confusion matrix"
) -> Any:
    """The confusion matrix C (Cᵢⱼ = samples of true class i predicted as j), with counts.

    The colour scale starts at 0, so a pale cell means few samples whatever the largest count.
    """
    C = np.asarray(matrix)
    n = len(labels)
    if C.shape != (n, n):
        raise ValueError(f"the matrix has shape {C.shape} for {n} labels")
    side = max(4.5, 1.6 + 0.42 * n)
    ax = _axes(ax, (side + 0.9, side))
    top = int(C.max()) if C.size else 0
    image = ax.imshow(C, cmap="Blues", vmin=0, vmax=max(top, 1))
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="samples")
    ticks = np.arange(n)
    names = [str(v) for v in labels]
    long = n > 6 and max(map(len, names), default=0) > 2  # short names fit upright
    ax.set_xticks(ticks, names, rotation=45 if long else 0, ha="right" if long else "center")
    ax.set_yticks(ticks, names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    ax.grid(False)
    if n <= 30:
        size = 10 if n <= 10 else 8 if n <= 20 else 6
        for i in range(n):
            for j in range(n):
                colour = "white" if C[i, j] > 0.55 * top else "black"
                ax.text(j, i, str(C[i, j]), ha="center", va="center", color=colour, fontsize=size)
    return ax


@styled
def plot_residuals(y_true: Any, y_pred: Any, ax: Any = None, title: str = "residuals") -> Any:
    """Residuals y − ŷ against the prediction ŷ: structure here is what the model missed."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} targets but {len(y_pred)} predictions")
    ax = _axes(ax)
    ax.scatter(y_pred, y_true - y_pred, s=12, alpha=0.6, color=TRAIN, edgecolors="none")
    ax.axhline(0.0, color=MUTED, linewidth=1)
    ax.set_xlabel("predicted ŷ")
    ax.set_ylabel("residual y − ŷ")
    ax.set_title(title)
    return ax
