"""`tune`: hyperparameter search with Optuna (TPE), pruning, and trials on Dask.

The recipe's "tune" step. Optuna's TPE sampler (Bergstra et al., 2011) models which regions
of the space gave good scores and proposes the next points there; the pruner stops trials
whose per-epoch validation scores trail the median of finished trials at the same epoch, so
bad learning rates cost a few epochs instead of a whole training run.

How a search runs (the driver is this process; trials run here or on Dask workers):

1. The data (and the folds every trial shares) is scattered to the workers once.
2. Trials are suggested in batches of `n_parallel` with Optuna's ask interface; each trial
   becomes one job with its parameters, its own seed (derived from `seed` and the trial
   number), and the per-epoch scores of the trials finished so far.
3. A job trains, scores the held-out rows after every epoch, and prunes itself with that
   history (`chainrule.recipe._trial`); it returns its scores, never the model.
4. When the whole batch is back, the driver tells Optuna the results in trial order, and asks
   for the next batch.

Every suggestion depends only on the seed, `n_parallel` and the results before it, and every
trial is seeded, so the same call gives the same trials, scores and best parameters on a
laptop or on a cluster, with any number of workers (only `timeout` depends on the clock).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from chainrule.recipe._common import (
    base_seed,
    is_classifier,
    job_seed,
    metric_name,
    positive_int,
    require_sklearn,
    seeded,
    table,
)
from chainrule.recipe._dask import import_optuna, runner
from chainrule.recipe._trial import TrialData, TrialOutcome, folds, quiet_optuna, run_trial
from chainrule.recipe.space import SearchSpace
from chainrule.recipe.tune_result import TuneResult, trial_row

__all__ = ["TuneResult", "tune"]


def _make_pruner(pruner: Any, optuna: Any) -> Any:
    if pruner is None or pruner is False:
        return None
    if isinstance(pruner, str):
        if pruner != "median":
            raise ValueError(f"pruner must be 'median', None or an Optuna pruner, got {pruner!r}")
        # Prune from the 4th finished trial on, never in the first 5 epochs (early epochs
        # are noisy and a slow starter may still win).
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=5)
    if not callable(getattr(pruner, "prune", None)):
        raise ValueError(f"pruner must be 'median', None or an Optuna pruner, got {pruner!r}")
    return pruner


def tune(
    estimator: Any,
    space: dict[str, Any],
    X: Any,
    y: Any,
    n_trials: int = 20,
    *,
    cv: Any = None,
    validation_fraction: float = 0.2,
    scoring: Any = None,
    scheduler: Any = None,
    n_workers: int | None = None,
    seed: int | None = None,
    timeout: float | None = None,
    pruner: Any = "median",
    n_parallel: int = 4,
    refit: bool = True,
    include_defaults: bool = False,
    fit_validation: bool = False,
    on_trial: Any = None,
) -> TuneResult:
    """Search hyperparameters of `estimator` with Optuna's TPE sampler and pruning.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Usually an `MLPClassifier` / `MLPRegressor` or a Pipeline ending in one; then every
        epoch is scored on the validation rows and bad trials are pruned. Other estimators
        are tuned too, without pruning.
    space : dict
        Parameter name → list of choices, (low, high) range, `log_uniform` / `uniform`
        marker, or a fixed value; see `chainrule.recipe.space`. Pipeline parameters use
        their ``step__name``. Rates (learning_rate, l1, l2, ...) are log-uniform.
    X, y : array_like
        The data; every trial uses the same split or folds of it.
    n_trials : int
        Trials to run (complete, pruned and failed ones all count).
    cv : None, int or splitter
        None: one validation split of `validation_fraction` (stratified for classifiers).
        k: k-fold cross-validation (stratified for classifiers); a trial's score is the mean
        over the folds, and its first fold's epochs decide pruning.
    validation_fraction : float
        Share of rows held out when ``cv=None``.
    scoring : str or callable, optional
        A scikit-learn scorer (greater is better); default accuracy or R².
    scheduler : str or distributed.Client, optional
        Run trials on this Dask cluster (``"tcp://host:8786"``).
    n_workers : int, optional
        Run trials on a local Dask cluster of this many processes (started and closed here).
    seed : int, optional
        Seeds the sampler, the split and every trial. None draws one from chainrule's
        generator (`cr.set_seed` makes that reproducible too).
    timeout : float, optional
        Seconds after which no new batch of trials starts.
    pruner : "median", None or optuna pruner
        "median": `optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=5)`.
        Pruners that judge a trial by the finished trials' intermediate values
        (median/percentile/threshold/patient) work; each job consults it with the history
        it was given (see `chainrule.recipe._trial`).
    n_parallel : int
        Trials suggested together and run at once. Results depend on it (a batch is chosen
        without seeing its own results), so keep it fixed to reproduce a search; raise it
        to the number of workers on a bigger cluster.
    refit : bool
        Refit the best parameters on all of (X, y) as `best_estimator_`.
    include_defaults : bool
        Trial 0 trains `estimator` as given (the space's parameters at their current values),
        so the best trial is never worse than not tuning at all.
    fit_validation : bool
        Pass each fold's validation rows to ``fit`` as ``validation_data``: a chainrule MLP
        with ``early_stopping=True`` then stops on them and keeps its best weights, and the
        trial scores those weights, as ``chainrule train`` reports them.
    on_trial : callable, optional
        ``on_trial(outcome, params)`` for each finished trial, in trial order (for progress).

    Returns
    -------
    TuneResult
        ``best_params_``, ``best_score_``, ``trials_`` (a table), ``plot()``, ``study_``.
    """
    require_sklearn("tune")
    optuna = import_optuna()
    n_trials = positive_int("n_trials", n_trials)
    n_parallel = positive_int("n_parallel", n_parallel)
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    seed = base_seed(seed)
    parsed = SearchSpace(space, estimator.get_params(deep=True))
    from sklearn.utils.validation import check_consistent_length

    check_consistent_length(X, y)
    if not (hasattr(X, "iloc") or hasattr(X, "tocsr")):
        X = np.asarray(X)  # lists and array-likes: rows can then be taken by index
    y_arr = np.asarray(y)
    splits = folds(len(y_arr), y_arr, is_classifier(estimator), cv, validation_fraction, seed)
    data = TrialData(X, y_arr, list(splits))
    pruner_obj = _make_pruner(pruner, optuna)
    with quiet_optuna(optuna):
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=True),
            pruner=pruner_obj or optuna.pruners.NopPruner(),
        )
    outcomes: list[TrialOutcome] = []
    params_of: dict[int, dict[str, Any]] = {}
    started = time.monotonic()
    complete = optuna.trial.TrialState.COMPLETE
    common = (pruner_obj, scoring, fit_validation)
    with runner(scheduler, n_workers, data) as run:
        if include_defaults:
            current = estimator.get_params(deep=True)
            params_of[0] = {k: current[k] for k in parsed.names()}
            (o,) = run.map(
                run_trial, [(estimator, params_of[0], job_seed(seed, 0), 0, [], *common)]
            )
            with quiet_optuna(optuna):  # known to the sampler, outside its space
                study.add_trial(
                    optuna.trial.create_trial(
                        state=optuna.trial.TrialState[o.state],
                        value=o.value if o.state == "COMPLETE" else None,
                        params={},
                        distributions={},
                        intermediate_values=dict(enumerate(o.values)),
                    )
                )
            outcomes.append(o)
            if on_trial is not None:
                on_trial(o, params_of[0])
        while len(outcomes) < n_trials:
            if outcomes and timeout is not None and time.monotonic() - started >= timeout:
                break  # (the first batch always runs)
            history = [
                (float(t.value), dict(t.intermediate_values))
                for t in study.get_trials(deepcopy=False, states=(complete,))
            ]
            with quiet_optuna(optuna):
                trials = [study.ask() for _ in range(min(n_parallel, n_trials - len(outcomes)))]
                for t in trials:
                    params_of[t.number] = parsed.suggest(t)
            jobs = [
                (
                    estimator,
                    params_of[t.number],
                    job_seed(seed, t.number),
                    t.number,
                    history,
                    *common,
                )
                for t in trials
            ]
            for t, o in zip(trials, run.map(run_trial, jobs), strict=True):
                for epoch, value in enumerate(o.values):
                    t.report(value, epoch)
                state = optuna.trial.TrialState[o.state]
                with quiet_optuna(optuna):
                    study.tell(t, o.value if o.state == "COMPLETE" else None, state=state)
                outcomes.append(o)
                if on_trial is not None:
                    on_trial(o, params_of[t.number])
    done = [o for o in outcomes if o.state == "COMPLETE"]
    if not done:
        errors = [o.error for o in outcomes if o.error]
        why = f"; the first error: {errors[0]}" if errors else ""
        raise ValueError(f"none of the {len(outcomes)} trials completed{why}")
    best = max(done, key=lambda o: (o.value, -o.number))
    best_params = params_of[best.number]
    best_estimator = None
    if refit:
        best_estimator = seeded(estimator, job_seed(seed, best.number)).set_params(**best_params)
        best_estimator.fit(X, y)
    return TuneResult(
        best_params_=best_params,
        best_score_=float(best.value),
        best_trial_=best.number,
        best_estimator_=best_estimator,
        trials_=table([trial_row(o, params_of[o.number]) for o in outcomes]),
        study_=study,
        outcomes=outcomes,
        metric=metric_name(estimator, scoring),
        space=parsed.describe(),
    )
