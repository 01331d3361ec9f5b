"""chainrule's estimators against scikit-learn's MLPs, both with their default hyperparameters.

For each dataset bundled with scikit-learn (digits, breast cancer, iris; diabetes and Friedman #1
for regression) and several train/test splits, the script fits ``cr.MLPClassifier`` /
``cr.MLPRegressor`` and ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor``, changing
nothing but ``random_state``, and prints the test scores (accuracy or R²) and the median fit
times side by side. Each classification set runs twice: with the features as loaded ("raw") and
with a ``StandardScaler`` in a ``Pipeline`` ("scaled", the recommended use). The regression
inputs come pre-scaled; their targets are left as they are for both libraries.

The two contenders alternate within each split (so drift of a shared machine hits both alike),
with a short pause between fits. No assertions: this is a report. Run it with

    .venv/bin/python benchmarks/estimators_vs_sklearn.py [--splits 20] [--json out.json]

``--set NAME=VALUE`` (repeatable) changes one of chainrule's hyperparameters, e.g.
``--set batch_size=200`` to see what a different default would do; scikit-learn keeps its
defaults.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule as cr

PAUSE_S = 0.2  # lets idle BLAS threads of one contender stop spinning before the next starts


def friedman(return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Friedman #1 (a nonlinear regression benchmark): 500 samples, 10 features, noise 1.

    Takes ``return_X_y`` only to be called like scikit-learn's loaders.
    """
    return make_friedman1(n_samples=500, noise=1.0, random_state=0)


# name, loader, task, input variants
DATASETS: list[tuple[str, Callable[..., Any], str, tuple[str, ...]]] = [
    ("digits", load_digits, "classification", ("raw", "scaled")),
    ("breast cancer", load_breast_cancer, "classification", ("raw", "scaled")),
    ("iris", load_iris, "classification", ("raw", "scaled")),
    ("diabetes", load_diabetes, "regression", ("as loaded",)),
    ("friedman #1", friedman, "regression", ("as loaded",)),
]


def contenders(task: str, seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
    """Both estimators with their defaults but for `random_state` (and chainrule's
    `overrides`)."""
    if task == "classification":
        return {
            "chainrule": cr.MLPClassifier(random_state=seed, **overrides),
            "sklearn": SkClassifier(random_state=seed),
        }
    return {
        "chainrule": cr.MLPRegressor(random_state=seed, **overrides),
        "sklearn": SkRegressor(random_state=seed),
    }


def parse_setting(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as (name, value); the value as a Python literal, else as a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return name.strip(), value.strip()


def run_dataset(
    name: str,
    load: Callable[..., Any],
    task: str,
    inputs: str,
    splits: int,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Scores and fit times of both contenders over `splits` train/test splits."""
    X, y = load(return_X_y=True)
    scores: dict[str, list[float]] = {"chainrule": [], "sklearn": []}
    times: dict[str, list[float]] = {"chainrule": [], "sklearn": []}
    epochs: dict[str, list[int]] = {"chainrule": [], "sklearn": []}
    for seed in range(splits):
        stratify = y if task == "classification" else None
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=stratify
        )
        models = contenders(task, seed, overrides or {})
        order = list(models) if seed % 2 == 0 else list(reversed(models))
        for who in order:
            model = estimator = models[who]
            if inputs == "scaled":
                model = make_pipeline(StandardScaler(), model)
            time.sleep(PAUSE_S)
            start = time.perf_counter()
            model.fit(X_train, y_train)
            times[who].append(time.perf_counter() - start)
            scores[who].append(float(model.score(X_test, y_test)))
            epochs[who].append(int(estimator.n_iter_))
    return {
        "dataset": name,
        "inputs": inputs,
        "metric": "accuracy" if task == "classification" else "R²",
        "n_samples": len(X),
        "n_features": int(X.shape[1]),
        "scores": scores,
        "times": times,
        "epochs": epochs,
    }


def _mean_sem(values: list[float]) -> str:
    """Mean ± standard error of the mean."""
    sem = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} ± {sem:.4f}"


def print_table(
    results: list[dict[str, Any]], splits: int, overrides: dict[str, Any] | None = None
) -> None:
    changed = ", ".join(f"{k}={v!r}" for k, v in (overrides or {}).items())
    print(
        f"\nTest score over {splits} train/test splits (75/25): mean ± standard error, and "
        "on how many splits chainrule scored higher / the same / lower (W/T/L). Fit time and "
        "epochs: median. Default hyperparameters, only random_state set"
        + (f"; chainrule with {changed}" if changed else "")
        + ".\n"
    )
    header = (
        "| dataset | inputs | metric | chainrule | sklearn | W/T/L | chainrule fit s "
        "| sklearn fit s | time ratio | epochs (chainrule / sklearn) |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for r in results:
        ours, theirs = r["scores"]["chainrule"], r["scores"]["sklearn"]
        diff = [a - b for a, b in zip(ours, theirs, strict=True)]
        wtl = f"{sum(d > 0 for d in diff)}/{sum(d == 0 for d in diff)}/{sum(d < 0 for d in diff)}"
        t_cr, t_sk = (statistics.median(r["times"][k]) for k in ("chainrule", "sklearn"))
        e_cr, e_sk = (statistics.median(r["epochs"][k]) for k in ("chainrule", "sklearn"))
        print(
            f"| {r['dataset']} | {r['inputs']} | {r['metric']} | {_mean_sem(ours)} "
            f"| {_mean_sem(theirs)} | {wtl} | {t_cr:.3f} | {t_sk:.3f} | {t_cr / t_sk:.2f} "
            f"| {e_cr:g} / {e_sk:g} |"
        )
    print(
        f"\nPython {platform.python_version()}, NumPy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, chainrule {cr.__version__}; {platform.machine()}, "
        f"{os.cpu_count()} CPUs. Time ratio: chainrule / sklearn (below 1: chainrule faster)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=20, help="train/test splits (default 20)")
    parser.add_argument("--quick", action="store_true", help="2 splits, for a smoke test")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    parser.add_argument("--only", help="comma-separated dataset names to run, e.g. 'digits'")
    parser.add_argument(
        "--set",
        metavar="NAME=VALUE",
        type=parse_setting,
        action="append",
        default=[],
        help="change one of chainrule's hyperparameters (repeatable), e.g. batch_size=200",
    )
    args = parser.parse_args(argv)
    overrides = dict(args.set)
    wanted = {w.strip() for w in args.only.split(",")} if args.only else None
    splits = 2 if args.quick else args.splits
    # scikit-learn warns whenever its MLP reaches max_iter; that is part of its default run.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    results = []
    for name, load, task, variants in DATASETS:
        if wanted is not None and name not in wanted:
            continue
        for inputs in variants:
            results.append(run_dataset(name, load, task, inputs, splits, overrides))
            print(f"done: {name} ({inputs})", flush=True)
    print_table(results, splits, overrides)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            payload = {"splits": splits, "chainrule_set": overrides, "results": results}
            json.dump(payload, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
