"""The estimators' training run: validation split, callbacks and `chainrule.fit`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.autograd import Tensor, no_grad
from chainrule.data import chunk_rows, n_rows, split_indices, take_rows
from chainrule.errors import TrainingDiverged
from chainrule.estimators.params import Config
from chainrule.nn import Module
from chainrule.optim import Optimizer
from chainrule.optim.schedules import make_schedule
from chainrule.training import Callback, EarlyStopping, History, Trainer
from chainrule.training.progress import verbose_callback

Array = np.ndarray
# Validation rows per forward pass (as the estimators' prediction chunks).
_CHUNK = 16384
ScoreFn = Callable[[Array, Array, "Array | None"], float]


@dataclass
class RunResult:
    """What one `train` call learned about its epochs."""

    history: History
    losses: list[float]
    scores: list[float] | None
    best_epoch: int  # 1-based epoch whose weights the network holds at the end
    stopped_by: str  # "epochs", "early_stopping", "tol" or "callback"
    # A stopping rule was watching the run (early stopping, or the tol plateau rule).
    converging: bool = False

    @property
    def stopped(self) -> bool:
        """Something ended the run before the epoch budget ran out."""
        return self.stopped_by != "epochs"


class ValidationMonitor(Callback):
    """Scores the held-out data after every epoch: ``logs["val_loss"]``, ``logs["val_score"]``.

    It runs before the other callbacks, so early stopping and a tuner's pruning callback see
    both numbers. The loss is the data loss only (no penalties), weighted like the training loss.
    """

    def __init__(
        self,
        model: Module,
        loss: Any,
        X: Array,
        y: Array,
        sample_weight: Array | None,
        score: ScoreFn,
    ) -> None:
        super().__init__()
        self.model, self.loss = model, loss
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.score = score
        self.scores: list[float] = []

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        was_training = self.model.training
        self.model.eval()
        # Huge but finite weights overflow here first: that is divergence, not a warning.
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):
            n, k = n_rows(self.X), chunk_rows(self.X, _CHUNK)  # sparse: dense chunks
            if n <= k:
                out = self.model(Tensor(take_rows(self.X, slice(None))))
            else:  # in chunks: the hidden activations of a large validation set add up
                chunks = [
                    self.model(Tensor(take_rows(self.X, slice(i, i + k)))).data
                    for i in range(0, n, k)
                ]
                out = Tensor(np.concatenate(chunks))
            val_loss = self.loss.data_loss(out, self.y, self.sample_weight).item()
        self.model.train(was_training)
        if not np.isfinite(val_loss):
            raise TrainingDiverged(
                f"training diverged: the validation loss is {val_loss} after epoch {epoch + 1}; "
                "try a smaller learning rate",
                epoch=epoch + 1,
            )
        val_score = self.score(out.data, self.y, self.sample_weight)
        self.scores.append(val_score)
        logs["val_loss"] = val_loss
        logs["val_score"] = val_score


def _split(
    X: Array,
    y: Array,
    sample_weight: Array | None,
    fraction: float,
    stratify: bool,
    rng: np.random.Generator,
    labels: Array | None = None,
) -> tuple[Array, tuple[Array, Array, Array | None]]:
    """Training row indices and a validation part (stratified by class when possible).

    Only the validation rows are copied; training gathers its batches at the row indices.
    """
    if stratify:
        _check_stratifiable(y, labels)
    tr, va = split_indices(n_rows(X), fraction, labels=y if stratify else None, rng=rng)
    if len(va) < 2:
        # As scikit-learn: one held-out sample cannot tell an improvement from noise.
        raise ValueError(
            f"The validation set is too small: validation_fraction={fraction} of {n_rows(X)} "
            f"samples holds out {len(va)}. Increase 'validation_fraction' or the size of your "
            "dataset (or set early_stopping=False)."
        )
    tr.sort()
    va.sort()

    def part(idx: Array) -> tuple[Array, Array, Array | None]:
        w = None if sample_weight is None else sample_weight[idx]
        return X[idx], y[idx], w

    return tr, part(va)


def _check_stratifiable(y: Array, labels: Array | None) -> None:
    """A stratified split needs two samples of each class (scikit-learn raises as well).

    `y` holds class positions; `labels` (``classes_``) names them in the message.
    """
    rare = np.flatnonzero(np.bincount(y) == 1)
    if len(rare):
        names = rare if labels is None else np.asarray(labels)[rare]
        raise ValueError(
            "The least populated classes in y have only 1 member, which is too few: "
            "early_stopping holds out a stratified validation set, so every class needs at "
            f"least 2 samples. Classes with too few members are: {[str(c) for c in names]}; "
            "drop them, or set early_stopping=False."
        )


def train(
    model: Module,
    loss: Any,
    optimizer: Optimizer,
    X: Array,
    y: Array,
    sample_weight: Array | None,
    *,
    config: Config,
    epochs: int,
    early_stopping: bool,
    plateau_stop: bool,
    stratify: bool,
    score: ScoreFn,
    callbacks: Sequence[Any],
    rng: np.random.Generator,
    validation: tuple[Array, Array, Array | None] | None = None,
    labels: Array | None = None,
) -> RunResult:
    """Train `model` for up to `epochs` epochs with the estimator's stopping rules.

    With `early_stopping`, a stratified `config.validation_fraction` is held out and training
    stops once the validation loss has not improved by `config.tol` for `config.patience`
    epochs (the best weights are restored). Otherwise, with `plateau_stop` and a `config.tol`
    that is not None, it stops once the training loss has not improved by `config.tol` for
    `config.patience` epochs, as scikit-learn's MLP does. `labels` (the classes) name the
    classes in errors about the stratified split.

    `validation` (X, encoded targets, weights) scores those rows after every epoch and, with
    `early_stopping`, takes the place of the held-out split.
    """
    monitor, rows = None, None
    if early_stopping and validation is None:
        rows, validation = _split(
            X, y, sample_weight, config.validation_fraction, stratify, rng, labels
        )
    if validation is not None:
        monitor = ValidationMonitor(model, loss, *validation, score)

    cbs: list[Any] = [] if monitor is None else [monitor]
    cbs.extend(callbacks)
    stopper = None
    if early_stopping or (plateau_stop and config.tol is not None):
        # On the validation loss with the best weights restored, or on the training loss
        # (scikit-learn's plateau rule), keeping the last weights.
        stopper = EarlyStopping(
            monitor="val_loss" if early_stopping else "loss",
            patience=config.patience,
            min_delta=config.tol or 0.0,
            restore_best_weights=bool(early_stopping),
        )
        cbs.append(stopper)
    schedule = None
    if config.lr_schedule != "constant":
        schedule = make_schedule(config.lr_schedule, optimizer, epochs)
    if config.verbose:  # a bar in a terminal or notebook, per-epoch lines elsewhere
        cbs.append(verbose_callback())
    trainer = Trainer(model, loss, optimizer, callbacks=cbs, scheduler=schedule, progress=False)
    history = trainer.fit(
        X,
        y,
        sample_weight=sample_weight,
        epochs=epochs,
        batch_size=config.batch_size,
        shuffle=config.shuffle,
        seed=rng,
        train_rows=rows,
        batch_transform=config.augment,  # training batches only, drawing from `rng`
    )
    losses = [float(v) for v in history["loss"]]
    scores = None if monitor is None else list(monitor.scores)
    return RunResult(
        history, losses, scores, *_how_it_ended(stopper, len(losses), epochs), stopper is not None
    )


def _how_it_ended(stopper: EarlyStopping | None, run: int, epochs: int) -> tuple[int, str]:
    """The 1-based epoch whose weights the network holds, and the rule that ended training."""
    best = run
    if stopper is not None and stopper.restore_best_weights and stopper.best_epoch is not None:
        best = stopper.best_epoch + 1  # the restored weights
    if stopper is not None and stopper.stopped_epoch is not None:
        return best, "early_stopping" if stopper.restore_best_weights else "tol"
    return best, "epochs" if run >= epochs else "callback"
