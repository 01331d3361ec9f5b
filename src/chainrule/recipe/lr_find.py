"""`lr_find`: the learning-rate range test (Smith, 2017, arXiv:1506.01186, section 3.3).

The learning rate η is the hyperparameter that matters most, and its good values span
orders of magnitude. The range test trains once, briefly, raising η exponentially after every
minibatch from `min_lr` to `max_lr`, and records the loss. Too small an η barely moves the
loss; a good one makes it fall fast; too large an η makes it climb and explode. The curve
of loss against log η shows all three regimes in a few seconds.

The suggestion is the *steepest-descent point*: the η where the smoothed loss falls fastest
per unit of log η, looked for on the falling stretch of the curve only (from where the loss
has made a tenth of its fall to its minimum; see `suggest`). ``lr_min / 10`` (a tenth of the η
at the minimum, the rule of fast.ai's course) is reported too; when there is no falling
stretch, the suggestion is that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.errors import TrainingDiverged
from chainrule.recipe._common import axes, fmt, positive_int, require_mlp, require_sklearn
from chainrule.recipe.overfit import mlp_step
from chainrule.training import Callback
from chainrule.viz.plot_style import BEST, TRAIN, styled

__all__ = ["LRFindResult", "lr_find"]


@dataclass
class LRFindResult:
    """The range test's curve and its suggested learning rate.

    Attributes
    ----------
    learning_rates, losses : list of float
        η of each step and that step's minibatch loss.
    smoothed : list of float
        The losses smoothed by a bias-corrected exponential moving average.
    suggestion : float
        The suggested η (the steepest-descent point, else ``lr_min / 10``).
    lr_steepest : float or None
        η where the smoothed loss falls fastest.
    lr_min : float
        η at the smoothed loss's minimum.
    diverged : bool
        The run stopped because the loss exploded (the curve's right end is the blow-up).
    """

    learning_rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    lr_steepest: float | None
    lr_min: float
    diverged: bool

    def __str__(self) -> str:
        steep = "none" if self.lr_steepest is None else fmt(self.lr_steepest, 3)
        return (
            f"learning-rate range test over {len(self.losses)} steps "
            f"(η {fmt(self.learning_rates[0], 2)} → {fmt(self.learning_rates[-1], 2)}"
            f"{', stopped when the loss exploded' if self.diverged else ''}): suggested "
            f"η = {fmt(self.suggestion, 3)} (steepest descent {steep}; minimum at "
            f"{fmt(self.lr_min, 3)}, a tenth of it {fmt(self.lr_min / 10, 3)})"
        )

    @styled
    def plot(self, ax: Any = None) -> Any:
        """Loss against η (log axis), raw and smoothed, with the suggestion marked."""
        ax = axes(ax)
        lrs = np.asarray(self.learning_rates)
        ax.plot(lrs, self.losses, color=TRAIN, alpha=0.3, label="minibatch loss")
        ax.plot(lrs, self.smoothed, color=TRAIN, label="smoothed")
        ax.axvline(
            self.suggestion,
            color=BEST,
            linestyle="--",
            label=f"suggested η = {fmt(self.suggestion, 3)}",
        )
        ax.set_xscale("log")
        top = max(self.smoothed[0], min(self.smoothed)) * 1.5
        if np.isfinite(top) and top > 0:
            low = min(min(self.losses), min(self.smoothed))
            ax.set_ylim(max(0.0, low - 0.05 * top), top)
        ax.set_xlabel("learning rate η")
        ax.set_ylabel("loss")
        ax.set_title("learning-rate range test")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
        return ax


class _Stop(Exception):
    """Ends the range test from inside the training loop (mid-epoch)."""


class _RangeTest(Callback):
    """Sets η of every parameter group before each step and records the step's loss."""

    def __init__(self, lrs: np.ndarray, beta: float, diverge: float) -> None:
        self.lrs, self.beta, self.diverge = lrs, beta, diverge
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.diverged = False
        self._avg = 0.0

    def _set_lr(self, trainer: Any, lr: float) -> None:
        for group in trainer.optimizer.param_groups:
            group["lr"] = lr

    def on_train_begin(self, trainer: Any) -> None:
        self._set_lr(trainer, float(self.lrs[0]))

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, Any]) -> None:
        loss = float(logs["loss"])
        i = len(self.losses)
        self.losses.append(loss)
        # Bias-corrected moving average, as Adam corrects its moments: the early steps are
        # not pulled towards the 0 the average starts from.
        self._avg = self.beta * self._avg + (1 - self.beta) * loss
        smooth = self._avg / (1 - self.beta ** (i + 1))
        self.smoothed.append(smooth)
        if i + 1 >= len(self.lrs):
            raise _Stop
        if i > 0 and smooth > self.diverge * min(self.smoothed):
            self.diverged = True
            raise _Stop
        self._set_lr(trainer, float(self.lrs[i + 1]))


def suggest(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[float, float | None, float]:
    """(suggestion, steepest-descent η or None, η at the minimum); see the module doc.

    The slope d(loss)/d(log η) is a difference over a window of ±n/20 steps, and it is
    looked for only where the loss is really falling: from the first step at which the
    smoothed loss has made a tenth of its fall (from its start level to its minimum) up to
    the minimum. In the flat start, noise alone makes steep little slopes.
    """
    n = len(smoothed)
    i_min = int(np.argmin(smoothed))
    lr_min = float(lrs[i_min])
    start = max(1, n // 10)
    level = float(np.median(smoothed[: start + 1]))  # the loss before η matters
    fall = level - float(smoothed[i_min])
    steepest = None
    if fall > 0 and i_min > start:
        falling = np.flatnonzero(smoothed[start : i_min + 1] <= level - 0.1 * fall)
        first = start + int(falling[0])
        if i_min - first >= 2:
            w = max(1, n // 20)
            idx = np.arange(first, i_min + 1)
            lo, hi = np.maximum(idx - w, first), np.minimum(idx + w, i_min)
            log_lr = np.log(lrs)
            slope = (smoothed[hi] - smoothed[lo]) / (log_lr[hi] - log_lr[lo])
            j = int(np.argmin(slope))
            if slope[j] < 0:
                steepest = float(lrs[idx[j]])
    return (steepest if steepest is not None else lr_min / 10), steepest, lr_min


def lr_find(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    min_lr: float = 1e-6,
    max_lr: float = 1.0,
    n_steps: int = 100,
    smoothing: float = 0.9,
    diverge_factor: float = 4.0,
    random_state: int = 0,
) -> LRFindResult:
    """Learning-rate range test: η rises exponentially over a short run; the loss is recorded.

    Step i of n uses η_i = min_lr · (max_lr / min_lr)^(i / (n − 1)). The run ends after
    `n_steps` minibatches (as many epochs as that takes) or as soon as the smoothed loss
    exceeds `diverge_factor` times its minimum (or becomes NaN). A clone of `estimator` is
    trained with its own architecture, optimizer, batch size and regularization, so the
    suggestion applies to it; no schedule, no early stopping.

    Parameters
    ----------
    estimator : chainrule estimator or Pipeline ending in one
    X, y : array_like
        Training data.
    min_lr, max_lr : float
        The range of η, 0 < min_lr < max_lr.
    n_steps : int
        Minibatch steps of the test (100 gives a readable curve).
    smoothing : float
        β of the moving average of the losses, in [0, 1); larger is smoother and lags more.
    diverge_factor : float
        Stop once the smoothed loss exceeds this multiple of its minimum.
    random_state : int
        Seeds the network and the shuffling.

    Returns
    -------
    LRFindResult
        The curve (``plot()``) and ``suggestion``; see the module doc for the rule.
    """
    require_sklearn("lr_find")
    from sklearn.base import clone

    if not (0 < min_lr < max_lr and math.isfinite(max_lr)):
        raise ValueError(f"need 0 < min_lr < max_lr, got min_lr={min_lr!r}, max_lr={max_lr!r}")
    n_steps = positive_int("n_steps", n_steps)
    if n_steps < 5:
        raise ValueError(f"n_steps must be at least 5 for a curve, got {n_steps}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
    if not diverge_factor > 1:
        raise ValueError(f"diverge_factor must be > 1, got {diverge_factor!r}")
    prefix = require_mlp(estimator, "lr_find")
    est = clone(estimator)
    mlp = mlp_step(est, prefix)
    batch = mlp.get_params()["batch_size"]
    n_fit = len(y)
    steps_per_epoch = 1 if batch is None else math.ceil(n_fit / min(int(batch), n_fit))
    epochs = math.ceil(n_steps / steps_per_epoch)
    lrs = min_lr * (max_lr / min_lr) ** (np.arange(n_steps) / (n_steps - 1))
    test = _RangeTest(lrs, smoothing, diverge_factor)
    mlp.set_params(
        learning_rate=float(min_lr),
        lr_schedule=None,
        early_stopping=False,
        epochs=epochs,
        tol=0.0,
        patience=epochs,
        random_state=random_state,
        verbose=False,
        callbacks=[*(mlp.callbacks or []), test],
    )
    try:
        est.fit(X, y)
    except _Stop:
        pass
    except TrainingDiverged:  # the loss became NaN/inf: the curve ends at the last finite step
        test.diverged = True
    if len(test.losses) < 3:
        raise ValueError(
            f"the range test stopped after {len(test.losses)} steps; lower min_lr "
            f"(the loss exploded already at η = {fmt(float(lrs[0]), 3)})"
        )
    k = len(test.losses)
    lr_used = lrs[:k]
    smoothed = np.asarray(test.smoothed)
    suggestion, steepest, lr_min = suggest(lr_used, smoothed)
    return LRFindResult(
        learning_rates=[float(v) for v in lr_used],
        losses=test.losses,
        smoothed=[float(v) for v in smoothed],
        suggestion=float(suggestion),
        lr_steepest=steepest,
        lr_min=lr_min,
        diverged=test.diverged,
    )
