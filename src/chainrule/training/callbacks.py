"""Callbacks: code the training loop runs at fixed points (Keras's hooks, passed the trainer).

The loop calls, in the order the callbacks were given::

    on_train_begin(trainer)
    for each epoch:  on_epoch_begin(trainer, epoch)
                     for each step:  on_batch_end(trainer, step, logs)
                     on_epoch_end(trainer, epoch, logs)
    on_train_end(trainer)

Epochs and steps are 0-based. ``logs`` in `on_epoch_end` holds the epoch's ``loss``, ``lr``,
metrics and validation results; a callback may add entries (they reach the `History` and the
callbacks after it). A callback stops training by setting ``trainer.stop_training = True``.
Callbacks with ``runs_last = True`` (`ModelCheckpoint`) run after all others and after the
history is updated, so that they see the epoch's final state.
"""

from __future__ import annotations

import inspect
import numbers
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from chainrule.training.protocol import TrainerLike

_MAX_WORDS = ("acc", "accuracy", "score", "auc", "r2", "precision", "recall", "f1")


class Callback:
    """Base class: override the hooks you need (each does nothing here).

    A callback whose behaviour depends on earlier epochs (a patience counter, a best value)
    returns that state from `state_dict` (JSON data and NumPy arrays), so that `ModelCheckpoint`
    saves it and a resumed run behaves exactly like an uninterrupted one.
    """

    runs_last: ClassVar[bool] = False

    def on_train_begin(self, trainer: TrainerLike) -> None:
        """Training starts (reset per-run state here, so an instance can be reused)."""

    def on_epoch_begin(self, trainer: TrainerLike, epoch: int) -> None:
        """Epoch `epoch` (0-based) starts."""

    def on_batch_end(self, trainer: TrainerLike, step: int, logs: dict[str, Any]) -> None:
        """Step `step` of the epoch is done; ``logs["loss"]`` is its batch loss."""

    def on_epoch_end(self, trainer: TrainerLike, epoch: int, logs: dict[str, Any]) -> None:
        """Epoch `epoch` is done; `logs` holds its loss, metrics and validation results."""

    def on_train_end(self, trainer: TrainerLike) -> None:
        """Training ends (after the last epoch or a stop request)."""

    def state_dict(self) -> dict[str, Any] | None:
        """The state a resumed run needs (None: nothing to save)."""
        return None

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned."""


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


class EarlyStopping(Callback):
    """Stop when a monitored number has stopped improving; keep the best weights.

    After each epoch, ``logs[monitor]`` improves if it beats the best value so far by more than
    `min_delta` (below best − min_delta in ``"min"`` mode, above best + min_delta in ``"max"``
    mode). After `patience` epochs in a row without improvement, training stops. With
    `restore_best_weights`, the model ends training with the weights of its best epoch, whether
    training stopped early or ran out of epochs (as scikit-learn's early stopping does).

    Parameters
    ----------
    monitor : str
        A key of the epoch logs: ``"val_loss"``, ``"loss"``, ``"val_accuracy"``, ...
    patience : int
        Epochs without improvement tolerated before stopping.
    min_delta : float
        The smallest change that counts as an improvement (its absolute value is used).
    mode : {"auto", "min", "max"}
        ``"auto"`` maximises accuracies and scores and minimises everything else.
    restore_best_weights : bool
        Load the best epoch's weights at the end of training.

    Attributes
    ----------
    best, best_epoch, stopped_epoch : the best value, its epoch, and the epoch training stopped
        in (None if it did not stop early).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a logged number, got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, int | float):
            raise ValueError(f"min_delta must be a number, got {min_delta!r}")
        self.monitor = monitor
        self.patience = _check_int("patience", patience, 0)
        self.min_delta = abs(float(min_delta))
        self.mode = mode
        if mode == "auto":
            self.mode = "max" if monitor.removeprefix("val_") in _MAX_WORDS else "min"
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_weights: dict[str, Any] | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._warned = False

    def _improves(self, value: float) -> bool:
        if value != value:  # NaN never improves
            return False
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, trainer: TrainerLike) -> None:
        self._reset()

    def on_epoch_end(self, trainer: TrainerLike, epoch: int, logs: dict[str, Any]) -> None:
        if self.monitor not in logs:
            if not self._warned:
                warnings.warn(
                    f"EarlyStopping monitors {self.monitor!r}, which is not logged (available: "
                    f"{', '.join(logs)}); pass validation data or choose another monitor",
                    stacklevel=2,
                )
                self._warned = True
            return
        value = float(logs[self.monitor])
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = trainer.model.state_dict()  # copies
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True

    def on_train_end(self, trainer: TrainerLike) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
            "stopped_epoch": self.stopped_epoch,
            "wait": self.wait,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        best, weights = state["best"], state["best_weights"]
        if weights is not None and not isinstance(weights, Mapping):
            raise ValueError(f"best_weights must be a state dict, got {type(weights).__name__}")
        epochs = {k: state[k] for k in ("best_epoch", "stopped_epoch")}
        for key, value in epochs.items():  # None until set
            if value is not None:
                _check_int(key, value, 0)
        self.best = None if best is None else float(best)
        self.best_epoch, self.stopped_epoch = epochs["best_epoch"], epochs["stopped_epoch"]
        self.best_weights = weights
        self.wait = _check_int("wait", state["wait"], 0)


class ModelCheckpoint(Callback):
    """Save everything a run needs to continue: ``cr.fit(..., resume_from=path)``.

    The file (a chainrule archive, see `chainrule.saving.archive`) holds the model's state dict, the
    optimizer's state, the schedule's and callbacks' states, every random generator's state,
    the number of finished epochs and the history. It is written atomically (a temporary file,
    fsync, rename), so a crash leaves the previous checkpoint intact. A run killed at any moment
    and resumed from its last checkpoint ends with the same weights, bit for bit, as a run that
    was never interrupted.

    Parameters
    ----------
    path : str or os.PathLike
        Where to write. May contain ``{epoch}`` (1-based) or a logged key, e.g.
        ``"ckpt-{epoch:03d}.crz"``, to keep one file per save.
    every : int
        Save after every `every`-th epoch, and always after the last one (also when a callback
        stops training early).
    """

    runs_last = True

    def __init__(self, path: str | os.PathLike[str], every: int = 1) -> None:
        self.path = os.fspath(path)
        self.every = _check_int("every", every, 1)
        self.last_path: str | None = None

    def on_train_begin(self, trainer: TrainerLike) -> None:
        if "{" not in self.path and os.path.isdir(os.path.dirname(os.path.abspath(self.path))):
            from chainrule.saving.atomic import remove_stale_temporaries

            remove_stale_temporaries(self.path)  # left by an earlier run killed mid-write

    def on_epoch_end(self, trainer: TrainerLike, epoch: int, logs: dict[str, Any]) -> None:
        last = trainer.stop_training or epoch + 1 >= trainer.epochs
        if (epoch + 1) % self.every and not last:
            return
        from chainrule.training.checkpoint import save_checkpoint

        path = self.path.format(epoch=epoch + 1, **logs) if "{" in self.path else self.path
        save_checkpoint(path, trainer)
        self.last_path = path


class LearningRateScheduler(Callback):
    """Change the learning rate η between epochs.

    Parameters
    ----------
    schedule : schedule object or callable
        A ``cr.optim.schedules`` schedule (anything with ``step(metric)``), stepped after each
        epoch with the monitored value (`ReduceLROnPlateau` uses it, the others ignore it); or
        a function ``schedule(epoch, lr) -> new lr`` called before each epoch (Keras's form),
        whose result is set in every parameter group.
    monitor : str, optional
        The logged value passed to ``step``; by default ``"val_loss"`` when there is validation
        data, else ``"loss"``.
    """

    def __init__(self, schedule: Any, monitor: str | None = None) -> None:
        self.schedule = schedule
        self.monitor = monitor
        self._stepped = callable(getattr(schedule, "step", None))
        if not self._stepped and not callable(schedule):
            raise ValueError(
                "schedule must be a cr.optim schedule or a function (epoch, lr) -> lr, "
                f"got {type(schedule).__name__}"
            )
        self._takes_metric = self._stepped and _accepts_argument(schedule.step)

    def on_epoch_begin(self, trainer: TrainerLike, epoch: int) -> None:
        if self._stepped:
            return
        fn: Callable[[int, float], float] = self.schedule
        for group in trainer.optimizer.param_groups:
            lr = float(fn(epoch, group["lr"]))
            if not lr >= 0.0 or lr == float("inf"):
                raise ValueError(f"the schedule returned the learning rate {lr} for epoch {epoch}")
            group["lr"] = lr

    def on_epoch_end(self, trainer: TrainerLike, epoch: int, logs: dict[str, Any]) -> None:
        if not self._stepped:
            return
        if not self._takes_metric:
            self.schedule.step()
            return
        key = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
        if key not in logs:
            raise ValueError(f"the schedule monitors {key!r}, which is not logged")
        self.schedule.step(float(logs[key]))

    def state_dict(self) -> dict[str, Any] | None:
        save = getattr(self.schedule, "state_dict", None)
        return {"schedule": save()} if callable(save) else None

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.schedule.load_state_dict(state["schedule"])


def _accepts_argument(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in kinds or p.kind == inspect.Parameter.VAR_POSITIONAL for p in params)
