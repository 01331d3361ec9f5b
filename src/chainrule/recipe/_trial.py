"""One tuning trial as a self-contained job: train, score every epoch, prune, report.

`run_trial` is what a Dask worker runs (or this process, without a cluster). It receives the
shared data (scattered once), the estimator, the trial's parameters and seed, and the
intermediate values of the trials finished before this one was suggested. Pruning is decided
*inside the job*: after each epoch the validation score is reported to a throwaway in-memory
Optuna study holding those finished trials, and the pruner (by default `MedianPruner`) is
asked whether to stop. Nothing needs to travel back to the driver while the trial runs, and
the decision depends only on data fixed when the trial started, never on which other trials
happen to finish first: the same seed gives the same search, in any place and any order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.recipe._common import add_callback, mlp_prefix, scorer, seeded
from chainrule.recipe._dask import import_optuna, worker_address
from chainrule.training import Callback

History = list[tuple[float, dict[int, float]]]  # (final value, {epoch: score}) per trial


@dataclass
class TrialData:
    """What every trial shares: the data and the folds (train rows, validation rows)."""

    X: Any
    y: Any
    splits: list[tuple[np.ndarray, np.ndarray]]


@dataclass
class TrialOutcome:
    """What a trial job sends back (small: numbers and text, never the fitted model)."""

    number: int
    state: str = "COMPLETE"  # or "PRUNED", "FAIL"
    value: float | None = None
    values: list[float] = field(default_factory=list)  # per-epoch scores (first fold)
    epochs: int | None = None  # epochs trained (first fold; None if not a chainrule MLP)
    fold_scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    worker: str | None = None
    error: str | None = None
    data_id: int = 0  # id() of the shared data where it ran: one per worker if scattered once


@contextmanager
def quiet_optuna(optuna: Any) -> Iterator[None]:
    """Optuna's per-trial log lines off for the duration (the verbosity is restored after).

    Failed trials are reported in the trials table, with their error, instead.
    """
    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(old)


class Pruning:
    """``prune(epoch, score) -> bool`` from `pruner` and the finished trials' `history`."""

    def __init__(self, history: History, pruner: Any) -> None:
        self.trial = None
        if pruner is None or not history:
            return
        optuna = import_optuna()
        with quiet_optuna(optuna):
            study = optuna.create_study(
                direction="maximize", pruner=pruner, sampler=optuna.samplers.RandomSampler(0)
            )
            study.add_trials(
                [
                    optuna.trial.create_trial(
                        value=value, intermediate_values=dict(steps), params={}, distributions={}
                    )
                    for value, steps in history
                ]
            )
            self.trial = study.ask()

    def __call__(self, epoch: int, score: float) -> bool:
        if self.trial is None:
            return False
        self.trial.report(score, epoch)
        return bool(self.trial.should_prune())


class EpochScore(Callback):
    """Scores the estimator on held-out data after every epoch; stops it when pruned.

    The network is put in evaluation mode for the score (dropout off, batch-norm running
    statistics) and back in training mode afterwards. With `from_logs` the score is the
    network's own ``logs["val_score"]`` (its validation data are these rows).
    """

    def __init__(
        self, estimator: Any, X: Any, y: Any, score: Any, prune: Any, from_logs: bool = False
    ) -> None:
        self.estimator, self.X, self.y = estimator, X, y
        self.score, self.prune, self.from_logs = score, prune, from_logs
        self.values: list[float] = []
        self.pruned = False

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if self.from_logs and "val_score" in logs:
            value = float(logs["val_score"])
        else:
            model = trainer.model
            was_training = model.training
            model.eval()
            try:
                value = float(self.score(self.estimator, self.X, self.y))
            finally:
                model.train(was_training)
        self.values.append(value)
        if not math.isfinite(value) or (self.prune is not None and self.prune(epoch, value)):
            self.pruned = True
            trainer.stop_training = True


def _rows(a: Any, idx: np.ndarray) -> Any:
    from sklearn.utils import _safe_indexing

    return _safe_indexing(a, idx)


def run_trial(
    data: TrialData,
    estimator: Any,
    params: dict[str, Any],
    seed: int,
    number: int,
    history: History,
    pruner: Any,
    scoring: Any,
    fit_validation: bool = False,
) -> TrialOutcome:
    """Train and score one trial on every fold of `data` (see the module doc).

    The per-epoch scores of the first fold are the trial's intermediate values and decide
    pruning; the trial's value is the mean score over the folds, each scored after `fit`
    (with early stopping: on the restored best weights). With `fit_validation` each fold's
    validation rows are also passed to ``fit`` as ``validation_data`` (early stopping on
    them, as ``chainrule train`` does). Errors (a diverging learning rate, an invalid
    combination) make a FAIL outcome, not an exception.
    """
    start = time.perf_counter()
    out = TrialOutcome(number=number, worker=worker_address(), data_id=id(data))
    try:
        score = scorer(estimator, scoring)
        prefix = mlp_prefix(estimator)
        for k, (train, val) in enumerate(data.splits):
            est = seeded(estimator, seed).set_params(**params)
            X_val, y_val = _rows(data.X, val), _rows(data.y, val)
            monitor = None
            if prefix is not None:
                prune = Pruning(history, pruner) if k == 0 else None
                monitor = EpochScore(est, X_val, y_val, score, prune, from_logs=fit_validation)
                add_callback(est, prefix, monitor)
            extra = {"validation_data": (X_val, y_val)} if fit_validation else {}
            est.fit(_rows(data.X, train), _rows(data.y, train), **extra)
            if k == 0 and monitor is not None:
                out.values = list(monitor.values)
                out.epochs = len(monitor.values)
            if monitor is not None and monitor.pruned:
                out.state = "PRUNED"
                out.value = monitor.values[-1]
                break
            out.fold_scores.append(float(score(est, X_val, y_val)))
        if out.state == "COMPLETE":
            out.value = float(np.mean(out.fold_scores))
            if not math.isfinite(out.value):
                out.state, out.error = "FAIL", f"the score is {out.value}"
    except Exception as exc:  # the trial fails; the search goes on
        out.state, out.error = "FAIL", f"{type(exc).__name__}: {exc}"
    out.seconds = time.perf_counter() - start
    return out


def folds(
    n: int, y: Any, classifier: bool, cv: Any, validation_fraction: float, seed: int
) -> Sequence[tuple[np.ndarray, np.ndarray]]:
    """The (train, validation) row indices every trial uses: one split, or k folds."""
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    rows = np.arange(n)
    if cv is None:
        if not 0 < validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be between 0 and 1, got {validation_fraction!r}"
            )
        try:
            tr, va = train_test_split(
                rows,
                test_size=validation_fraction,
                random_state=seed,
                stratify=y if classifier else None,
            )
        except ValueError:  # a class too small to stratify
            tr, va = train_test_split(rows, test_size=validation_fraction, random_state=seed)
        return [(np.sort(tr), np.sort(va))]
    if isinstance(cv, int) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds (or None for one split), got {cv}")
        splitter = StratifiedKFold if classifier else KFold
        cv = splitter(n_splits=cv, shuffle=True, random_state=seed)
    split = getattr(cv, "split", None)
    pairs = split(np.zeros((n, 1)), y) if callable(split) else cv
    return [(np.asarray(tr), np.asarray(va)) for tr, va in pairs]
