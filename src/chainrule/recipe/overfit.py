"""`overfit_batch`: step 3 of the recipe, prove the network can learn at all.

A network with enough units can memorize a couple of dozen samples: with the regularization
off, the training loss on them should fall to about zero. If it does not, something upstream
is broken (labels misaligned with inputs, a learning rate far off, unscaled features,
saturated units, a bug in the pipeline), and no amount of tuning will help. It is the
cheapest check there is: seconds of training on `n_samples` rows.

The estimator is checked as given, preprocessing included: pass a Pipeline such as
``make_pipeline(StandardScaler(), cr.MLPClassifier())`` to check the pipeline you will train
(its scaler is then fitted on the subset). The data is not standardized behind your back,
since unscaled inputs are one of the faults the check exists to catch; when the network's
inputs are off the unit scale, the result says so (``unscaled``) and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.recipe._common import (
    axes,
    fmt,
    is_classifier,
    positive_int,
    require_mlp,
    require_sklearn,
)
from chainrule.recipe.summarize import UNIT_SCALE
from chainrule.training import Callback
from chainrule.viz.plot_style import BEST, TRAIN, integer_ticks, styled

__all__ = ["OverfitResult", "overfit_batch"]


@dataclass
class OverfitResult:
    """The outcome of `overfit_batch`.

    Attributes
    ----------
    passed : bool
        The training loss fell to at most ``rel_tol`` times the loss of knowing nothing.
    losses : list of float
        The training loss per epoch (each epoch is one step on the whole subset).
    initial_loss, final_loss, target_loss : float
    train_score : float
        Accuracy (classifier) or R² (regressor) on the subset after training: ~1 when passed.
    n_samples, epochs : int
        Rows used and epochs run.
    changed : dict
        The hyperparameters switched off for the check (name → value used).
    unscaled : str or None
        How the inputs the network sees (after a Pipeline's earlier steps) are off the unit
        scale, e.g. "standard deviations 0.0026 to 470, |means| up to 880"; None when they
        are standardized enough (or cannot be inspected).
    """

    passed: bool
    losses: list[float]
    initial_loss: float
    final_loss: float
    target_loss: float
    train_score: float
    n_samples: int
    epochs: int
    changed: dict[str, Any] = field(default_factory=dict)
    unscaled: str | None = None

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        text = (
            f"overfit check {verdict}: the training loss on {self.n_samples} samples went from "
            f"{fmt(self.initial_loss)} to {fmt(self.final_loss)} in {self.epochs} epochs "
            f"(target ≤ {fmt(self.target_loss)}); score on those samples {self.train_score:.3f}."
        )
        if self.passed:
            return text
        if self.train_score >= 1.0 and self.final_loss <= self.initial_loss / 100:
            text += (
                " The network does learn (it fits every sample and the loss fell "
                f"{self.initial_loss / max(self.final_loss, 1e-300):,.0f}-fold), but too slowly"
                " to reach ~0 in time."
            )
        else:
            text += (
                " The network cannot memorize a handful of samples: check that the labels "
                "belong to their rows, that the features are scaled, and the learning rate "
                "(try lr_find)."
            )
        if self.unscaled is not None:
            text += (
                f" Its inputs are not on a unit scale ({self.unscaled}): standardize them, "
                "e.g. make_pipeline(StandardScaler(), estimator), and check that pipeline."
            )
        return text

    @styled
    def plot(self, ax: Any = None) -> Any:
        """The training loss per epoch (log scale) with the target level."""
        ax = axes(ax)
        losses = np.maximum(np.asarray(self.losses, dtype=np.float64), 1e-12)
        ax.plot(np.arange(1, len(losses) + 1), losses, color=TRAIN, label="training loss")
        ax.axhline(self.target_loss, color=BEST, linestyle="--", label="target (~0)")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        integer_ticks(ax.xaxis)
        ax.set_ylabel("loss")
        ax.set_title(
            f"overfitting {self.n_samples} samples: {'passed' if self.passed else 'failed'}"
        )
        ax.grid(alpha=0.3)
        ax.legend()
        return ax


class _StopWhenLow(Callback):
    """Stop once the epoch loss is at most `target`."""

    def __init__(self, target: float) -> None:
        self.target = target

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if float(logs["loss"]) <= self.target:
            trainer.stop_training = True


def knowing_nothing_loss(y: Any, classifier: bool, loss: str | None) -> float | None:
    """The loss of the best constant prediction: what a network that learned nothing scores.

    Classification: the cross-entropy of predicting the class frequencies p_k,
    −Σ_k p_k log p_k (their entropy). Regression: the loss of predicting the mean, ½ Var(y)
    summed over targets for ``"squared_error"`` (the lecture's ½ Σ_k (ŷ_k − y_k)²), the
    variance averaged over targets for ``"mse"``. None for multilabel targets.
    """
    y = np.asarray(y)
    if classifier:
        if y.ndim > 1 and y.shape[1] > 1:
            return None
        _, counts = np.unique(y, return_counts=True)
        p = counts / counts.sum()
        return float(-(p * np.log(p)).sum())
    var = np.asarray(y, dtype=np.float64).reshape(len(y), -1).var(axis=0)
    return float(var.mean()) if loss == "mse" else float(0.5 * var.sum())


def scale_problem(X: Any) -> str | None:
    """How the columns of `X` are off the unit scale (`summarize`'s rule), or None.

    Constant columns are ignored; None also when `X` is not a finite numeric matrix.
    """
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if A.ndim != 2 or len(A) < 2 or not np.isfinite(A).all():
        return None
    std, mean = A.std(axis=0), np.abs(A.mean(axis=0))
    varying = std > 0
    if not varying.any():
        return None
    std, mean = std[varying], mean[varying]
    low, high, centre = UNIT_SCALE
    if std.min() >= low and std.max() <= high and mean.max() <= centre:
        return None
    return (
        f"standard deviations {fmt(std.min(), 2)} to {fmt(std.max(), 3)}, "
        f"|means| up to {fmt(mean.max(), 3)}"
    )


def network_inputs(fitted: Any, prefix: str, X: Any) -> Any:
    """What the network of `fitted` sees for `X`: X itself, or a Pipeline's earlier steps'
    transform of it; None where that is not known (other meta-estimators)."""
    if not prefix:
        return X
    if hasattr(fitted, "steps") and prefix == f"{fitted.steps[-1][0]}__":
        try:
            return fitted[:-1].transform(X)
        except Exception:  # a step that cannot transform on its own: skip the check
            return None
    return None


def _subset(X: Any, y: Any, n: int, classifier: bool, seed: int) -> tuple[Any, Any]:
    from sklearn.model_selection import train_test_split

    if n >= len(X):
        return X, y
    if classifier:
        try:
            Xs, _, ys, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=seed)
            return Xs, ys
        except ValueError:  # too many classes, or a class with one sample: plain sample
            pass
    rows = np.sort(np.random.default_rng(seed).choice(len(X), size=n, replace=False))
    return (X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]), np.asarray(y)[rows]


def mlp_step(estimator: Any, prefix: str) -> Any:
    """The chainrule network estimator itself inside `estimator` (given its param prefix)."""
    return estimator if not prefix else estimator.get_params(deep=True)[prefix[:-2]]


def overfit_batch(
    estimator: Any,
    X: Any,
    y: Any,
    n_samples: int = 32,
    *,
    epochs: int = 500,
    rel_tol: float = 0.01,
    random_state: int = 0,
) -> OverfitResult:
    """Train on `n_samples` rows with regularization off; report whether the loss reaches ~0.

    A clone of `estimator` (an `MLPClassifier` / `MLPRegressor`, alone or last in a
    Pipeline) is trained with ``l1 = l2 = dropout = 0``, no augmentation, no early stopping,
    AdamW's weight decay replaced by Adam, no learning-rate schedule, and batch gradient
    descent (each epoch is one step on the whole subset) for up to `epochs` epochs;
    everything else (architecture, optimizer, η, preprocessing) stays as given. The loss
    counts as ~0 once it is at most ``rel_tol`` times the loss of knowing nothing (the best
    constant prediction: the class frequencies, or the
    mean; see `knowing_nothing_loss`), and training stops there.

    Parameters
    ----------
    estimator : chainrule estimator or Pipeline ending in one
    X, y : array_like
        The data; a stratified subset of `n_samples` rows is drawn (seeded by `random_state`).
    n_samples : int
        Rows to memorize.
    epochs : int
        The most full-batch steps.
    rel_tol : float
        The loss counts as ~0 at ``rel_tol`` × the loss of knowing nothing.
    random_state : int
        Seeds the subset and the network.

    Returns
    -------
    OverfitResult
        ``passed``, the loss curve (``plot()``), the score on the subset; ``print`` it.
    """
    require_sklearn("overfit_batch")
    from sklearn.base import clone

    n_samples = positive_int("n_samples", n_samples)
    epochs = positive_int("epochs", epochs)
    if not 0 < rel_tol < 1:
        raise ValueError(f"rel_tol must be between 0 and 1, got {rel_tol!r}")
    prefix = require_mlp(estimator, "overfit_batch")
    est = clone(estimator)
    mlp = mlp_step(est, prefix)
    changed = {
        "l1": 0.0,
        "l2": 0.0,
        "dropout": 0.0,
        "augment": None,
        "early_stopping": False,
        "lr_schedule": None,
        "batch_size": None,
        "epochs": epochs,
        "tol": None,  # no plateau rule: the budget is the point (and no ConvergenceWarning)
        "patience": epochs,
        "random_state": random_state,
        "verbose": False,
    }
    if mlp.get_params()["optimizer"] == "adamw":
        changed["optimizer"] = "adam"
    mlp.set_params(**changed)
    classifier = is_classifier(est)
    Xs, ys = _subset(X, y, n_samples, classifier, random_state)
    reference = knowing_nothing_loss(ys, classifier, mlp.get_params().get("loss"))
    stopper = _StopWhenLow(0.0 if reference is None else rel_tol * reference)
    mlp.set_params(callbacks=[*(mlp.callbacks or []), stopper])
    est.fit(Xs, ys)
    losses = [float(v) for v in mlp.loss_curve_]
    first, final = losses[0], min(losses)
    target = rel_tol * (first if reference is None else reference)
    return OverfitResult(
        passed=bool(final <= target),
        losses=losses,
        initial_loss=first,
        final_loss=final,
        target_loss=target,
        train_score=float(est.score(Xs, ys)),
        n_samples=len(ys),
        epochs=len(losses),
        changed={k: v for k, v in changed.items() if k not in ("verbose", "random_state")},
        unscaled=scale_problem(network_inputs(est, prefix, Xs)),
    )
