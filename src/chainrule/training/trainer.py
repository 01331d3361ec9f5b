"""The training loop: `Trainer` and `fit`, gradient descent over minibatches for some epochs.

Each step is the lecture's recipe: forward propagation on a batch, the loss E, backpropagation
(``E.backward()`` fills every ∂E/∂w), then one optimizer step (w ← w − η ∂E/∂w for plain
gradient descent). ``batch_size`` picks the regime: ``None`` batch gradient descent (one step
per epoch on the average gradient of all N samples), ``1`` stochastic gradient descent (N steps),
``k`` minibatch gradient descent (⌈N/k⌉ steps). A multilayer perceptron on a plain loss takes
the same step, number for number, without building the graph (`chainrule.training.fused`).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule import rng as _rng
from chainrule.autograd import Tensor, no_grad
from chainrule.data import check_batch_size, chunk_rows, iter_batches, n_batches, n_rows
from chainrule.data.augment import MixedTargets
from chainrule.errors import TrainingDiverged
from chainrule.fast.train_step import DenseStep
from chainrule.training.callbacks import Callback, LearningRateScheduler
from chainrule.training.checkpoint import load_checkpoint, restore_trainer, trainer_state
from chainrule.training.fused import plan_step, still_planned
from chainrule.training.guard import WeightGuard
from chainrule.training.history import History
from chainrule.training.inputs import check_data, check_rows, seeded_generator, split_data
from chainrule.training.metrics import Metric, resolve_metrics
from chainrule.training.progress import ProgressBar, in_notebook, is_terminal

Array = npt.NDArray[Any]
# (X_batch, y_batch, rng) -> (X_batch, y_batch); see `fit`'s batch_transform.
BatchTransform = Callable[[Array, Any, np.random.Generator], tuple[Array, Any]]
_HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")


class Trainer:
    """Runs the training loop for a model, a loss and an optimizer; see `fit`.

    Callbacks receive the trainer and may read its attributes or set ``stop_training``.

    Attributes
    ----------
    model, loss, optimizer : the objects being trained.
    history : History
        Per-epoch logs of the current (or last) run.
    epoch : int
        Epochs finished so far in this run (counting those restored from a checkpoint).
    epochs : int
        The epoch count the run aims for.
    initial_epoch : int
        Epochs restored from a checkpoint when the run started (0 for a fresh run).
    steps_per_epoch : int
        Optimizer steps per epoch, ⌈N / batch_size⌉.
    stop_training : bool
        Set by a callback to end training after the current epoch.
    rng : numpy.random.Generator
        The run's generator: it shuffles the samples and is the `rng` handed to the
        ``batch_transform`` (saved in checkpoints, so a resumed run draws the same numbers).
    """

    def __init__(
        self,
        model: Any,
        loss: Callable[..., Tensor],
        optimizer: Any,
        *,
        callbacks: Sequence[Callback] = (),
        metrics: Sequence[str | Metric] | None = None,
        scheduler: Any = None,
        progress: bool = True,
    ) -> None:
        if not callable(model) or not hasattr(model, "parameters"):
            raise ValueError(f"model must be a chainrule Module, got {type(model).__name__}")
        if not callable(loss):
            raise ValueError(f"loss must be callable as loss(prediction, target), got {loss!r}")
        if not callable(getattr(optimizer, "step", None)):
            raise ValueError(f"optimizer must have a step() method, got {type(optimizer).__name__}")
        if isinstance(callbacks, Callback) or not isinstance(callbacks, Sequence):
            raise ValueError("callbacks must be a list of callbacks")
        for cb in callbacks:
            if not any(callable(getattr(cb, hook, None)) for hook in _HOOKS):
                raise ValueError(f"{cb!r} is not a callback (it has none of the hooks {_HOOKS})")
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.callbacks = list(callbacks)
        if scheduler is not None:
            self.callbacks.append(LearningRateScheduler(scheduler))
        self.metrics = resolve_metrics(metrics, loss)
        self.progress = bool(progress)
        self.history = History()
        self.stop_training = False
        self.epoch = self.epochs = self.initial_epoch = self.steps_per_epoch = 0
        self.rng: np.random.Generator = _rng.default_rng()
        self._n_samples = 0
        self._val_index: Array | None = None
        self._train_rows: Array | None = None  # None: all rows of X
        self._batch_size: int | None = None
        self._shuffle = True
        self._batch_transform: BatchTransform | None = None
        self._fused: DenseStep | None = None

    # ------------------------------------------------------------------ the run
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int,
        batch_size: int | None = 32,
        shuffle: bool = True,
        validation_data: tuple[Any, ...] | None = None,
        validation_split: float = 0.0,
        sample_weight: Any = None,
        seed: _rng.Seed = None,
        resume_from: str | os.PathLike[str] | None = None,
        train_rows: Any = None,
        batch_transform: BatchTransform | None = None,
    ) -> History:
        """Train; see `fit` for the arguments. Returns the run's `History`.

        `train_rows` (an index array) trains on those rows of X, y and `sample_weight` only,
        without copying them (the estimators hold out a validation set this way).
        `batch_transform` is applied to each training batch (never to validation data).
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
            raise ValueError(f"epochs must be a positive int, got {epochs!r}")
        if batch_transform is not None and not callable(batch_transform):
            raise ValueError(
                "batch_transform must be a function (X_batch, y_batch, rng) -> "
                f"(X_batch, y_batch), got {batch_transform!r}"
            )
        self._batch_transform = batch_transform
        X, y, w = check_data(self.model, X, y, sample_weight)
        n = n_rows(X)
        rows = None if train_rows is None else check_rows(train_rows, n, validation_split)
        check_batch_size(batch_size, n if rows is None else len(rows))
        self.rng = seeded_generator(seed)
        state = load_checkpoint(resume_from) if resume_from is not None else None
        if state is not None and (k := state["data"]["n_samples"]) != n:
            raise ValueError(f"cannot resume: the checkpoint was made with {k} samples, X has {n}")
        self._n_samples = n
        saved_val = state["data"].get("val_index") if state is not None else None
        train = (X, y, w)
        val, self._val_index, self._train_rows = split_data(
            self.model, train, validation_data, validation_split, saved_val, self.rng
        )
        self.epochs, self.epoch = int(epochs), 0
        if rows is not None:
            self._train_rows = rows
        n_train = n if self._train_rows is None else len(self._train_rows)
        self.steps_per_epoch = n_batches(n_train, batch_size)
        self.initial_epoch = int(state["epoch"]) if state is not None else 0
        self.history, self.stop_training = History(), False
        self.history.params = {"epochs": self.epochs, "steps": self.steps_per_epoch}

        callbacks = list(self.callbacks)
        if self.progress and (is_terminal(_stderr()) or in_notebook()):
            callbacks.append(ProgressBar())
        ordered = [cb for cb in callbacks if not getattr(cb, "runs_last", False)]
        late = [cb for cb in callbacks if getattr(cb, "runs_last", False)]
        was_training = getattr(self.model, "training", True)
        try:
            _call(ordered + late, "on_train_begin", self)
            if state is not None:
                restore_trainer(self, state, resume_from, batch_size, shuffle)
            self._batch_size, self._shuffle = batch_size, bool(shuffle)
            guard = WeightGuard(list(self.model.parameters()))
            if not guard.finite():
                raise ValueError("the model has non-finite weights before training")
            for epoch in range(self.epoch, self.epochs):
                if self.stop_training:
                    break
                self._run_epoch(epoch, train, val, guard, ordered, late)
            _call(ordered + late, "on_train_end", self)
        finally:
            for cb in callbacks:  # release files and terminal lines even after an error
                close = getattr(cb, "close", None)
                if callable(close):
                    close()
            _set_mode(self.model, was_training)
            self._fused = None  # (it holds the last batch's outputs)
        return self.history

    def _run_epoch(
        self,
        epoch: int,
        train: tuple[Array | None, ...],
        val: tuple[Array | None, ...] | None,
        guard: WeightGuard,
        ordered: list[Any],
        late: list[Any],
    ) -> None:
        optimizer = self.optimizer
        _set_mode(self.model, True)
        for cb in ordered + late:
            hook = getattr(cb, "on_epoch_begin", None)
            if hook is not None:
                hook(self, epoch)
        lr = float(optimizer.param_groups[0]["lr"]) if hasattr(optimizer, "param_groups") else None
        self._batch_hooks = [
            cb.on_batch_end for cb in ordered + late if _overrides(cb, "on_batch_end")
        ]
        arrays = tuple(a for a in train if a is not None)
        weighted = train[2] is not None
        # The step without a graph, where it gives the same numbers (`training.fused`).
        plain = not weighted and self._batch_transform is None
        self._fused = plan_step(self.model, self.loss, train[1]) if plain else None
        metric_sums = dict.fromkeys(self.metrics, 0.0)
        batches = iter_batches(
            arrays,
            self._batch_size,
            shuffle=self._shuffle,
            rng=self.rng,
            reuse_buffers=True,
            rows=self._train_rows,
        )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            total, seen = self._run_steps(epoch, batches, weighted, guard, lr, metric_sums)
        epoch_logs: dict[str, Any] = {"loss": total / seen}
        epoch_logs.update({name: s / seen for name, s in metric_sums.items()})
        if val is not None:
            epoch_logs.update(self.evaluate(*val, prefix="val_"))
        if lr is not None:
            epoch_logs["lr"] = lr
        for cb in ordered:
            hook = getattr(cb, "on_epoch_end", None)
            if hook is not None:
                hook(self, epoch, epoch_logs)
        self.history.append(epoch, epoch_logs)
        self.epoch = epoch + 1
        for cb in late:
            hook = getattr(cb, "on_epoch_end", None)
            if hook is not None:
                hook(self, epoch, epoch_logs)

    def _run_steps(
        self,
        epoch: int,
        batches: Any,
        weighted: bool,
        guard: WeightGuard,
        lr: float | None,
        metric_sums: dict[str, float],
    ) -> tuple[float, int]:
        """The epoch's optimizer steps; returns (Σ batch loss · batch size, samples seen).

        NumPy's overflow warnings are silenced here: a non-finite loss or weight is caught
        below and reported once, as TrainingDiverged, instead of as a cascade of warnings.
        """
        model, loss, optimizer = self.model, self.loss, self.optimizer
        batch_hooks, transform, fused = self._batch_hooks, self._batch_transform, self._fused
        total, seen = 0.0, 0
        for step, batch in enumerate(batches):
            xb, yb = batch[0], batch[1]
            if transform is not None:
                xb, yb = self._transform(transform, xb, yb, weighted)
            nb = len(xb)
            optimizer.zero_grad()
            # Fast path: no graph, the same E and gradients (`chainrule.fast.train_step`).
            value = fused.forward(xb, yb) if fused is not None and fused.ready() else None
            if value is not None:
                predicted, backward = fused.output, fused.backward  # type: ignore[union-attr]
            else:  # the definition: E = loss(model(x), y), then backpropagation
                out = model(Tensor(xb))
                if isinstance(yb, MixedTargets):  # mixup: E = λ E(ŷ, y_a) + (1 − λ) E(ŷ, y_b)
                    wb = batch[2:] if weighted else ()
                    E = yb.combine(lambda t, out=out, wb=wb: loss(out, t, *wb))
                else:
                    E = loss(out, yb, batch[2]) if weighted else loss(out, yb)
                value, predicted, backward = E.item(), out.data, E.backward
            if not math.isfinite(value):
                raise self._diverged(f"the loss became {value}", epoch, step, lr)
            backward()
            if not guard.step(optimizer):  # the step is undone: the last finite weights stay
                raise self._diverged("the step made the weights non-finite", epoch, step, lr)
            total += value * nb
            seen += nb
            for name, fn in self.metrics.items():
                if isinstance(yb, MixedTargets):
                    metric_sums[name] += yb.combine(lambda t, f=fn, p=predicted: f(t, p)) * nb
                else:
                    metric_sums[name] += fn(yb, predicted) * nb
            if batch_hooks:
                logs = {"loss": value, "size": nb}
                for hook in batch_hooks:
                    hook(self, step, logs)
                if fused is not None and not still_planned(fused, model):
                    fused = None  # they changed the model's layers: the generic step
        return total, seen

    def _transform(
        self, transform: BatchTransform, xb: Array, yb: Array, weighted: bool
    ) -> tuple[Array, Any]:
        """``transform(xb, yb, self.rng)``, checked: rows that match, X in the model's dtype."""
        result = transform(xb, yb, self.rng)
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError(
                f"batch_transform must return a pair (X_batch, y_batch), got {type(result)}"
            )
        x_new, y_new = result
        x_new = np.asarray(x_new, dtype=xb.dtype)  # no copy when the dtype is kept
        if len(y_new) != len(x_new) or (weighted and len(x_new) != len(xb)):
            raise ValueError(
                f"batch_transform turned a batch of {len(xb)} rows into {len(x_new)} inputs "
                f"and {len(y_new)} targets; they must match"
                + (" (and keep the row count: sample weights are per row)" if weighted else "")
            )
        return x_new, y_new

    def evaluate(
        self, X: Array, y: Array, sample_weight: Array | None = None, *, prefix: str = ""
    ) -> dict[str, float]:
        """The loss and metrics on (X, y) in evaluation mode, without recording a graph.

        The loss is averaged over batches weighted by their sizes; metrics are computed on
        all outputs at once.
        """
        model, loss = self.model, self.loss
        was_training = getattr(model, "training", False)
        _set_mode(model, False)
        k = chunk_rows(X, max(self._batch_size or n_rows(X), 1024))
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        total, outputs = 0.0, []
        try:
            with no_grad(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for batch in iter_batches(arrays, k):
                    out = model(Tensor(batch[0]))
                    E = loss(out, *batch[1:])
                    total += E.item() * len(batch[0])
                    if self.metrics:
                        outputs.append(out.data)
        finally:
            _set_mode(model, was_training)
        logs = {f"{prefix}loss": total / n_rows(X)}
        if self.metrics:
            predictions = np.concatenate(outputs)
            for name, fn in self.metrics.items():
                logs[f"{prefix}{name}"] = float(fn(y, predictions))
        return logs

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs (see `chainrule.training.checkpoint`)."""
        return trainer_state(self)

    def _diverged(self, what: str, epoch: int, step: int, lr: float | None) -> TrainingDiverged:
        hint = "Try a smaller learning rate"
        if lr is not None and lr > 0:
            hint += f" (lr is {lr:g}; try {lr / 10:g})"
        return TrainingDiverged(
            f"training diverged: {what} in epoch {epoch + 1} of {self.epochs}, step {step + 1} "
            f"of {self.steps_per_epoch}. The model keeps its last finite weights. {hint}, "
            "or scale the inputs.",
            epoch=epoch + 1,
            step=step + 1,
        )


# ---------------------------------------------------------------------- helpers
def _stderr() -> Any:
    return sys.stderr  # looked up at each run, so redirecting sys.stderr works


def _call(callbacks: list[Any], hook: str, trainer: Trainer) -> None:
    for cb in callbacks:
        fn = getattr(cb, hook, None)
        if fn is not None:
            fn(trainer)


def _overrides(cb: Any, hook: str) -> bool:
    """True unless `cb`'s `hook` is missing or the base class's no-op (skipped on hot paths)."""
    fn = getattr(cb, hook, None)
    return fn is not None and getattr(fn, "__func__", fn) is not getattr(Callback, hook)


def _set_mode(model: Any, training: bool) -> None:
    if getattr(model, "training", None) is not training and callable(getattr(model, "train", None)):
        model.train(training)
