"""tune: search spaces, Optuna's TPE with pruning, results, reproducibility (in-process)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule as cr
from chainrule.recipe import log_uniform, tune, uniform
from chainrule.recipe._trial import Pruning
from chainrule.recipe.space import SearchSpace, is_rate

optuna = pytest.importorskip("optuna")
pd = pytest.importorskip("pandas")


# ---------------------------------------------------------------------------- spaces
def test_space_kinds_and_log_scale_for_rates() -> None:
    space = SearchSpace(
        {
            "learning_rate": (1e-4, 1e-1),
            "mlpclassifier__l2": (1e-6, 1e-2),
            "dropout": (0.0, 0.5),
            "epochs": (5, 50),
            "hidden_layer_sizes": [(8,), (16, 8)],
            "tol": uniform(0.0, 0.1),
            "patience": log_uniform(2, 64, integer=True),
            "activation": "tanh",
        }
    )
    assert space.ranges["learning_rate"].log and space.ranges["mlpclassifier__l2"].log
    assert not space.ranges["dropout"].log and not space.ranges["tol"].log
    assert space.ranges["epochs"].integer and not space.ranges["epochs"].log
    assert space.ranges["patience"].log and space.ranges["patience"].integer
    assert space.choices["hidden_layer_sizes"] == [(8,), (16, 8)]
    assert space.fixed == {"activation": "tanh"}
    assert is_rate("sgd__lr") and is_rate("learning_rate_init") and not is_rate("l1_ratio")


def test_suggested_values_are_the_given_ones() -> None:
    space = SearchSpace({"hidden_layer_sizes": [(8,), (16, 8)], "learning_rate": (1e-3, 1e-1)})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(0))
    drawn = [space.suggest(study.ask()) for _ in range(30)]
    assert {d["hidden_layer_sizes"] for d in drawn} == {(8,), (16, 8)}  # tuples, not strings
    rates = np.array([d["learning_rate"] for d in drawn])
    assert rates.min() >= 1e-3 and rates.max() <= 1e-1
    assert np.mean(rates < 1e-2) > 0.3  # log-uniform: half the draws in the lower decade


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({}, "non-empty"),
        ({"learning_rate": (0.0, 0.1)}, "log scale, which needs low > 0"),
        ({"dropout": (0.5, 0.1)}, "low < high"),
        ({"hidden": [(8,)]}, "has no parameter 'hidden'"),
        ({"mlpclassifier__learnin_rate": (0.1, 1.0)}, "no parameter"),
        ({"activation": []}, "empty list"),
        ({"activation": "relu"}, "nothing to search"),
    ],
)
def test_bad_spaces(space: dict, match: str) -> None:
    valid = make_pipeline(StandardScaler(), cr.MLPClassifier()).get_params()
    valid.update(cr.MLPClassifier().get_params())
    with pytest.raises(ValueError, match=match):
        SearchSpace(space, valid)


# ---------------------------------------------------------------------------- pruning rule
def test_pruning_uses_the_median_of_finished_trials() -> None:
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    history = [(0.9, {0: 0.5, 1: 0.8, 2: 0.9}), (0.8, {0: 0.4, 1: 0.7, 2: 0.8})]
    prune = Pruning(history, pruner)
    assert prune(0, 0.1) is False  # warm-up epoch: never pruned
    assert prune(1, 0.76) is False  # above the median of epoch 1, (0.8 + 0.7) / 2
    assert prune(2, 0.2) is True  # its best so far, 0.76, is below epoch 2's median, 0.85
    assert Pruning([], pruner)(5, 0.0) is False  # nothing finished: nothing to compare with
    assert Pruning(history, None)(5, 0.0) is False


# ---------------------------------------------------------------------------- searches
SPACE = {
    "learning_rate": (1e-5, 0.3),
    "hidden_layer_sizes": [(4,), (16,)],
    "batch_size": [16, 64],
}


def test_search_result_and_pruning(iris, small_clf) -> None:
    X, y = iris
    result = tune(small_clf(epochs=25), SPACE, X, y, n_trials=16, seed=0, n_parallel=2)
    trials = result.trials_
    assert isinstance(trials, pd.DataFrame) and len(trials) == 16
    assert set(trials["state"]) <= {"COMPLETE", "PRUNED", "FAIL"}
    assert (trials["state"] == "PRUNED").sum() >= 1  # tiny learning rates fall behind
    complete = trials[trials["state"] == "COMPLETE"]
    assert result.best_score_ == complete["score"].max()
    best_row = trials[trials["number"] == result.best_trial_].iloc[0]
    assert best_row["learning_rate"] == result.best_params_["learning_rate"]
    assert result.best_params_["hidden_layer_sizes"] in [(4,), (16,)]
    assert set(result.best_params_) == set(SPACE)
    pruned = [o for o in result.outcomes if o.state == "PRUNED"]
    assert all(5 < len(o.values) < 25 for o in pruned)  # after the warm-up, before the end
    assert all(o.worker is None for o in result.outcomes)  # ran in this process
    # The refitted best estimator uses the best parameters and scores on the data.
    best = result.best_estimator_
    assert best.learning_rate == result.best_params_["learning_rate"]
    assert best.score(X, y) > 0.8
    assert len(result.study_.trials) == 16
    md = result.to_markdown()
    assert "16 trials" in md and "learning_rate" in md
    html = result._repr_html_()  # the notebook table: the same numbers as the Markdown
    assert html.startswith("<p>16 trials") and html.count("<table>") == 2
    assert f"<b>{result.best_score_:.4f}</b>" in html and "<th>learning_rate</th>" in html
    assert len(result.plot().collections) >= 1 and result.plot_intermediate().lines


def test_same_seed_same_search(iris, small_clf) -> None:
    X, y = iris
    runs = [
        tune(small_clf(epochs=10), SPACE, X, y, n_trials=6, seed=3, refit=False) for _ in range(2)
    ]
    a, b = (r.trials_.drop(columns=["seconds"]) for r in runs)
    pd.testing.assert_frame_equal(a, b)
    other = tune(small_clf(epochs=10), SPACE, X, y, n_trials=6, seed=4, refit=False)
    assert not np.array_equal(other.trials_["learning_rate"], a["learning_rate"])


def test_seed_none_follows_set_seed(iris, small_clf) -> None:
    X, y = iris
    scores = []
    for _ in range(2):
        cr.set_seed(11)
        result = tune(small_clf(epochs=5), SPACE, X, y, n_trials=3, refit=False)
        scores.append(list(result.trials_["learning_rate"]))
    assert scores[0] == scores[1]


def test_cross_validation_and_pipelines(cancer, small_clf) -> None:
    X, y = cancer
    pipe = make_pipeline(StandardScaler(), small_clf(epochs=8))
    space = {"mlpclassifier__learning_rate": (1e-3, 1e-1)}
    result = tune(pipe, space, X, y, n_trials=3, cv=3, seed=0, refit=False)
    for o in result.outcomes:
        assert len(o.fold_scores) == 3
        assert o.value == pytest.approx(np.mean(o.fold_scores))
        assert len(o.values) == 8  # per-epoch scores of the first fold
    assert result.best_estimator_ is None


def test_other_estimators_are_tuned_without_pruning(cancer) -> None:
    X, y = cancer
    result = tune(LogisticRegression(max_iter=500), {"C": (1e-3, 10.0)}, X, y, 4, seed=0)
    assert all(o.values == [] and o.state == "COMPLETE" for o in result.outcomes)
    assert result.trials_["epochs"].isna().all()
    assert result.best_score_ > 0.9


def test_failed_trials_are_recorded_and_all_failing_is_an_error(iris, small_clf) -> None:
    X, y = iris
    space = {"learning_rate": (1e-3, 1e-2), "activation": ["relu", "swish"]}
    result = tune(small_clf(epochs=3), space, X, y, n_trials=8, seed=1, refit=False)
    failed = result.trials_[result.trials_["state"] == "FAIL"]
    assert len(failed) >= 1 and (failed["activation"] == "swish").all()
    assert failed["error"].str.contains("activation='swish' is not valid").all()
    with pytest.raises(ValueError, match=r"none of the 2 trials completed.*swish"):
        tune(small_clf(), {"activation": ["swish"]}, X, y, n_trials=2, seed=0)


def test_timeout_stops_starting_batches(iris, small_clf) -> None:
    X, y = iris
    result = tune(small_clf(epochs=3), SPACE, X, y, n_trials=50, timeout=1e-9, n_parallel=1)
    assert len(result.outcomes) == 1  # the first batch always runs


def test_bad_arguments(iris, small_clf) -> None:
    X, y = iris
    with pytest.raises(ValueError, match="n_trials"):
        tune(small_clf(), SPACE, X, y, n_trials=0)
    with pytest.raises(ValueError, match="pruner"):
        tune(small_clf(), SPACE, X, y, n_trials=1, pruner="hyperband")
    with pytest.raises(ValueError, match="validation_fraction"):
        tune(small_clf(), SPACE, X, y, n_trials=1, validation_fraction=1.5)
    with pytest.raises(ValueError, match="not both"):
        tune(small_clf(), SPACE, X, y, n_trials=1, scheduler="tcp://x:1", n_workers=2)
    with pytest.raises(ValueError, match="n_workers"):
        tune(small_clf(), SPACE, X, y, n_trials=1, n_workers=0)


def test_missing_optuna_names_the_extra(monkeypatch, iris, small_clf) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` now fails
    X, y = iris
    with pytest.raises(ImportError, match=r"chainrule\[tune\]"):
        tune(small_clf(), SPACE, X, y, n_trials=1)


def test_missing_distributed_names_the_extra(monkeypatch, iris, small_clf) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    X, y = iris
    with pytest.raises(ImportError, match=r"chainrule\[distributed\]"):
        tune(small_clf(), SPACE, X, y, n_trials=1, n_workers=2)


def test_trial_0_is_the_estimator_as_given_and_scores_its_best_weights() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.normal(size=120)
    net = cr.MLPRegressor(
        hidden_layer_sizes=(8,), epochs=40, learning_rate=0.01, early_stopping=True, patience=3
    )
    seen = []
    result = tune(
        net,
        {"learning_rate": (1e-4, 1e-1)},
        X,
        y,
        n_trials=3,
        seed=0,
        pruner=None,
        refit=False,
        include_defaults=True,
        fit_validation=True,
        on_trial=lambda o, params: seen.append((o.number, params, o.epochs)),
    )
    assert [n for n, _, _ in seen] == [0, 1, 2]
    assert seen[0][1] == {"learning_rate": 0.01} and all(e for _, _, e in seen)
    first = next(o for o in result.outcomes if o.number == 0)
    assert result.best_score_ >= first.value
    # Trial 0 is a fit on the split with early stopping on its validation rows, scored on
    # the restored best weights.
    from sklearn.base import clone

    from chainrule.recipe._common import job_seed
    from chainrule.recipe._trial import folds

    ((tr, va),) = folds(len(y), y, False, None, 0.2, 0)
    est = clone(net).set_params(random_state=job_seed(0, 0))
    est.fit(X[tr], y[tr], validation_data=(X[va], y[va]))
    assert est.stopped_by_ in ("early_stopping", "epochs")
    assert first.value == pytest.approx(est.score(X[va], y[va]), abs=1e-12)
