"""`run_recipe`: the whole training recipe, end to end, on one dataset.

summary → baselines → overfit check → learning-rate range test → short tuning → final model
with early stopping → ensemble, then every model is scored once on a test set that no step
has seen. The command ``chainrule recipe`` runs this and writes the report
(`chainrule.recipe.report.write_report`).

Preprocessing is learned on the training rows only: a DataFrame goes through
`chainrule.data.tabular.TabularPreprocessor` (numeric columns standardized, text one-hot
encoded, gaps filled), an array is standardized column by column. A regression target is
standardized too (the network's loss works on y's scale); scores are R², which that does not
change, and errors are reported back in the target's units.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.recipe._common import check_task, positive_int
from chainrule.recipe.baselines import baseline_models, baselines
from chainrule.recipe.lr_find import LRFindResult, lr_find
from chainrule.recipe.overfit import OverfitResult, overfit_batch
from chainrule.recipe.space import default_space
from chainrule.recipe.summarize import Summary, summarize
from chainrule.recipe.tune import TuneResult, tune

__all__ = ["RecipeResult", "run_recipe"]


@dataclass
class RecipeResult:
    """Everything `run_recipe` found, step by step (the report is written from this)."""

    data_name: str
    task: str
    metric: str
    summary: Summary
    baselines: Any
    overfit: OverfitResult
    lr: LRFindResult
    tuning: TuneResult
    final: Any
    ensemble: Any
    test: dict[str, dict[str, float]]
    member_scores: list[float]
    y_test: Any
    predictions: Any
    labels: list[Any] | None
    n_train: int
    n_test: int
    preprocessor: Any = None
    target_mean: float = 0.0
    target_scale: float = 1.0
    seconds: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def _split(y: np.ndarray, task: str, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    try:
        tr, te = train_test_split(
            rows,
            test_size=fraction,
            random_state=seed,
            stratify=y if task == "classification" else None,
        )
    except ValueError:  # a class too small to stratify
        tr, te = train_test_split(rows, test_size=fraction, random_state=seed)
    return np.sort(tr), np.sort(te)


def _preprocess(X: Any, train: np.ndarray, test: np.ndarray, categorical: Any) -> tuple[Any, ...]:
    """(X_train, X_test, preprocessor or None, feature names) learned on the training rows."""
    if hasattr(X, "columns") and hasattr(X, "iloc"):
        from chainrule.data.tabular import TabularPreprocessor

        prep = TabularPreprocessor(categorical).fit(X.iloc[train])
        X_test = prep.transform(X.iloc[test], unknown="ignore")
        return prep.transform(X.iloc[train]), X_test, prep, prep.feature_names_
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if np.isnan(X).any():
        raise ValueError("X has missing values (NaN): pass a DataFrame, or impute them first")
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    std[std == 0] = 1.0  # a constant column: centring alone makes it 0
    scale = lambda part: ((part - mean) / std).astype(np.float32)  # noqa: E731
    return scale(X[train]), scale(X[test]), None, [f"x{j}" for j in range(X.shape[1])]


def _test_scores(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    from chainrule.training.metrics import mae, mse, r2

    if task == "classification":
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        }
    return {
        "r2": r2(y_true, y_pred),
        "mae": mae(y_true, y_pred),
        "rmse": float(np.sqrt(mse(y_true, y_pred))),
    }


def run_recipe(
    X: Any,
    y: Any,
    *,
    task: str | None = None,
    data_name: str = "data",
    categorical: Any = (),
    test_fraction: float = 0.2,
    cv: int = 5,
    epochs: int = 100,
    n_trials: int = 12,
    n_members: int = 5,
    seed: int = 0,
    scheduler: Any = None,
    n_workers: int | None = None,
    log: Callable[[str], None] | None = None,
) -> RecipeResult:
    """Run the recipe on (X, y); see the module doc. `log` receives one line per step."""
    from sklearn.base import clone

    from chainrule.estimators import MLPClassifier, MLPRegressor
    from chainrule.recipe._dask import dask_client
    from chainrule.recipe.ensemble import Ensemble

    say = log or (lambda line: None)
    epochs, n_trials = positive_int("epochs", epochs), positive_int("n_trials", n_trials)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    y = np.asarray(y)
    task = check_task(task, y)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(now - clock, 3)
        clock = now

    summary = summarize(X, y, task=task, preprocessed=True)
    say(
        f"1 summary      {summary.n_samples} samples, {summary.n_features} features, "
        f"{len(summary.warnings)} warning(s)"
    )
    lap("summary")
    train, test = _split(y, task, test_fraction, seed)
    X_train, X_test, prep, _ = _preprocess(X, train, test, categorical)
    y_train, y_test = y[train], y[test]
    mean, scale = 0.0, 1.0
    if task == "regression":
        y_train, y_test = y_train.astype(np.float64), y_test.astype(np.float64)
        mean, scale = float(y_train.mean()), float(y_train.std()) or 1.0
    y_fit = y_train if task == "classification" else (y_train - mean) / scale

    cls = MLPClassifier if task == "classification" else MLPRegressor
    base = cls(epochs=epochs, random_state=seed)
    # The network baseline: default hyperparameters within the recipe's epoch budget.
    table = baselines(X_train, y_fit, task, cv, random_state=seed, mlp=clone(base))
    rows = table if isinstance(table, list) else table.to_dict("records")
    best_base = max(rows, key=lambda r: r["score"])
    say(f"2 baselines    best: {best_base['model']} ({best_base['score']:.4f})")
    lap("baselines")
    overfit = overfit_batch(base, X_train, y_fit, random_state=seed)
    say(
        f"3 overfit      {'passed' if overfit.passed else 'FAILED'} "
        f"(loss {overfit.initial_loss:.3g} -> {overfit.final_loss:.3g})"
    )
    lap("overfit")
    lr = lr_find(base, X_train, y_fit, random_state=seed)
    say(f"4 lr_find      suggested learning rate {lr.suggestion:.3g}")
    lap("lr_find")

    with dask_client(scheduler, n_workers) as client:
        tuning = tune(
            base,
            default_space(lr.suggestion),
            X_train,
            y_fit,
            n_trials,
            seed=seed,
            scheduler=client,
            refit=False,
        )
        say(
            f"5 tune         best validation score {tuning.best_score_:.4f} "
            f"after {len(tuning.outcomes)} trials"
        )
        lap("tune")
        config = clone(base).set_params(
            **tuning.best_params_, early_stopping=True, epochs=2 * epochs
        )
        final = clone(config).fit(X_train, y_fit)
        say(f"6 final        {final.n_iter_} epochs with early stopping")
        lap("final")
        ensemble = Ensemble(config, n_members=n_members, random_state=seed, scheduler=client)
        ensemble.fit(X_train, y_fit)
        ensemble.set_params(scheduler=None)  # keep the fitted ensemble free of the client
        lap("ensemble")

    def predict(model: Any, X_: Any) -> np.ndarray:
        out = np.asarray(model.predict(X_))
        return out if task == "classification" else out.astype(np.float64) * scale + mean

    reference = clone(baseline_models(task, seed, clone(base))[best_base["model"]])
    reference.fit(X_train, y_fit)
    predictions = {
        f"best baseline ({best_base['model']})": predict(reference, X_test),
        "final network": predict(final, X_test),
        f"ensemble of {n_members}": predict(ensemble, X_test),
    }
    test_scores = {name: _test_scores(task, y_test, p) for name, p in predictions.items()}
    y_test_fit = y_test if task == "classification" else (y_test - mean) / scale
    members = ensemble.member_scores(X_test, y_test_fit)
    key, metric = ("accuracy", "accuracy") if task == "classification" else ("r2", "R²")
    say(
        f"7 ensemble     test {metric} {test_scores[f'ensemble of {n_members}'][key]:.4f} "
        f"(members {min(members):.4f} to {max(members):.4f}; the final network "
        f"{test_scores['final network'][key]:.4f})"
    )
    lap("test")
    return RecipeResult(
        data_name=data_name,
        task=task,
        metric=metric,
        summary=summary,
        baselines=table,
        overfit=overfit,
        lr=lr,
        tuning=tuning,
        final=final,
        ensemble=ensemble,
        test=test_scores,
        member_scores=members,
        y_test=y_test,
        predictions=predictions[f"ensemble of {n_members}"],
        labels=list(ensemble.classes_) if task == "classification" else None,
        n_train=len(train),
        n_test=len(test),
        preprocessor=prep,
        target_mean=mean,
        target_scale=scale,
        seconds=seconds,
        settings={
            "seed": seed,
            "test_fraction": test_fraction,
            "cv": cv,
            "epochs": epochs,
            "n_trials": n_trials,
            "n_members": n_members,
        },
    )
