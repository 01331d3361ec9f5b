"""``chainrule tune [DATA] --target COLUMN --trials N``: hyperparameter search on a table.

Searches the network's hyperparameters with `chainrule.recipe.tune` (Optuna's TPE sampler,
median pruning on per-epoch validation scores), in this process or on a Dask cluster
(``--scheduler tcp://host:8786`` or ``--workers N``). The hyperparameter options (``--epochs
60 --optimizer sgd ...``) set the starting point; the space says what is searched (default:
learning rate, layers, activation, batch size, L2 penalty, dropout). Each trial is a
``chainrule train`` run (same split, preprocessing fitted on its training rows, early
stopping as configured) scored as ``train`` reports it; trial 0 is the settings given. Prints
a line per trial, the best trials and the ``chainrule train`` command that repeats the best.
With no DATA it tunes on scikit-learn's digits, as ``chainrule train`` trains on them.
"""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.cli import io
from chainrule.cli.arguments import (
    SEED,
    Valued,
    add_cluster_options,
    add_command,
    add_data_options,
    add_hyperparameter_options,
    add_valued_options,
    cluster,
)
from chainrule.cli.values import fraction, positive, positive_int

HELP = "search hyperparameters with Optuna, here or on a Dask cluster"
DESCRIPTION = (
    "Search the network's hyperparameters (Optuna's TPE sampler, median pruning on per-epoch "
    "validation scores), here or on a Dask cluster (--scheduler tcp://host:8786 or --workers "
    "N). The hyperparameter options set the starting point; --space says what is searched "
    "(default: learning rate, layers, activation, batch size, L2 penalty, dropout). Each "
    "trial is a 'chainrule train' run scored as train reports it; trial 0 is the settings "
    "given. Prints the best trials and the 'chainrule train' command that repeats the best. "
    "With no DATA it tunes on scikit-learn's digits, as 'chainrule train' trains on them."
)
EXAMPLES = """examples:
  chainrule tune --trials 20 --epochs 30                       # digits
  chainrule tune houses.csv --target price --trials 50 --workers 4 --epochs 80
  chainrule tune iris.csv --target species --trials 40 --scheduler tcp://10.0.0.5:8786 \\
      --space '{"lr": {"low": 1e-4, "high": 0.3}, "hidden": [[32], [64, 32]]}'

--space is a JSON object (or a .json file): a list gives the choices, {"low": a, "high": b}
a range (add "log": true/false; rates are log-scaled by default), a single value is fixed.
Keys are estimator parameters (learning_rate, hidden_layer_sizes, ...) or option names
(lr, hidden, batch-size, ...).
"""
OPTIONS: list[Valued] = [
    ("--trials", positive_int, 20, "N", "trials to run (default: 20)"),
    (
        "--cv",
        positive_int,
        None,
        "K",
        "score each trial by K-fold cross-validation (default: one split)",
    ),
    (
        "--validation-fraction",
        fraction,
        0.2,
        "F",
        "share of rows for validation without --cv (default: 0.2)",
    ),
    ("--timeout", positive, None, "SECONDS", "start no new trials after this long"),
    (
        "--parallel",
        positive_int,
        4,
        "N",
        "trials suggested and run together (default: 4; results depend on it)",
    ),
]


def add_parser(sub: Any, parents: list[argparse.ArgumentParser], full: bool = True) -> None:
    """Register ``tune``; the hyperparameter options (they import scikit-learn) only if `full`."""
    text = textwrap.fill(DESCRIPTION, 79, break_on_hyphens=False)
    p = add_command(sub, "tune", parents, HELP, None, EXAMPLES, text)
    add_data_options(p, default="digits")
    p.add_argument("--space", metavar="JSON", help="the search space (see below)")
    add_valued_options(p, OPTIONS)
    p.add_argument(
        "--early-stopping",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stop each trial when its validation loss stops improving and score its best "
        "weights, as 'chainrule train' does (default: on)",
    )
    add_cluster_options(p)
    add_valued_options(p, [SEED])
    p.add_argument(
        "--out",
        metavar="MODEL",
        help="train the best settings as the printed 'chainrule train' command does, and "
        "save the model here",
    )
    p.add_argument(
        "--report", metavar="DIR", help="write trials.csv, tuning.md and tuning.png into DIR"
    )
    p.add_argument("--quiet", action="store_true", help="print only the best parameters")
    if full:  # else listed in the overall help only (see chainrule.cli.build_parser)
        add_hyperparameter_options(p, run)


def _aliases() -> dict[str, str]:
    """Option names (lr, hidden, batch-size, ...) -> estimator parameter names."""
    from chainrule.cli.options import OPTIONS

    out = {}
    for flag, key, *_ in OPTIONS:
        name = flag.lstrip("-")
        out[name] = out[name.replace("-", "_")] = key
    return out


def _spec(name: str, value: Any) -> Any:
    from chainrule.recipe.space import Range

    if isinstance(value, dict):
        if not {"low", "high"} <= set(value) or set(value) - {"low", "high", "log"}:
            raise ValueError(f'--space {name}: a range is {{"low": a, "high": b, "log": ...}}')
        low, high = value["low"], value["high"]
        integer = isinstance(low, int) and isinstance(high, int)
        if "log" not in value:
            return (low, high)
        return Range(low, high, log=bool(value["log"]), integer=integer)
    if isinstance(value, list):
        if name == "hidden_layer_sizes":
            return [tuple(v) if isinstance(v, list) else v for v in value]
        return value
    return value


def parse_space(text: str | None) -> dict[str, Any]:
    """The --space JSON (text, or the path of a .json file) as a `tune` space."""
    from chainrule.recipe.space import default_space

    if text is None:
        return default_space()
    source = text
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ValueError(f"--space must be a JSON object or a .json file, got {text!r}")
        source = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--space is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError("--space must be a non-empty JSON object of parameter: values")
    aliases = _aliases()
    return {aliases.get(k, k): _spec(aliases.get(k, k), v) for k, v in raw.items()}


def _folds(d: Any, cv: int | None, seed: int) -> list[tuple[Any, Any]]:
    """(training rows, validation rows) of each trial: ``chainrule train``'s split, or K folds."""
    if cv is None:
        if d.val is None:
            raise ValueError("tune scores on held-out rows: --validation-fraction > 0 or --cv K")
        return [(d.train, d.val)]
    from sklearn.model_selection import KFold, StratifiedKFold

    if cv < 2:
        raise ValueError(f"--cv must be at least 2 folds, got {cv}")
    splitter = StratifiedKFold if d.task == "classification" else KFold
    try:
        pairs = list(splitter(cv, shuffle=True, random_state=seed).split(d.features, d.y))
    except ValueError:  # a class with fewer rows than folds
        pairs = list(KFold(cv, shuffle=True, random_state=seed).split(d.features))
    return [(np.sort(tr), np.sort(va)) for tr, va in pairs]


def _scorer(task: str) -> Any:
    """The score ``chainrule train`` prints for the validation rows (accuracy or R²)."""

    def score(estimator: Any, X: Any, y: Any) -> float:
        return float(estimator.score(X, y))

    score.__name__ = "accuracy" if task == "classification" else "R²"
    return score


def _progress(metric: str) -> Any:
    """Prints one line per finished trial: number, state, score, epochs, seconds, params."""

    def show(o: Any, params: dict[str, Any]) -> None:
        from chainrule.recipe._common import fmt

        value = "-" if o.value is None else f"{o.value:.4f}"
        shown = ", ".join(f"{k}={fmt(v)}" for k, v in params.items())
        extra = f"  ({o.error})" if o.error else ""
        print(
            f"trial {o.number:>3}  {o.state.lower():8}  {metric} {value}  "
            f"{o.epochs or '-'} epochs  {o.seconds:.1f} s  {shown}{extra}",
            flush=True,
        )

    return show


def train_args(args: argparse.Namespace, best: dict[str, Any], out: str | None) -> Any:
    """The ``chainrule train`` options that repeat the best trial (every one spelled out)."""
    from chainrule.cli.options import OPTIONS, TOL_UNSET

    values = dict(vars(args))
    for flag, key, *_ in OPTIONS:
        if key in best:
            value = best[key]
            if key == "lr_schedule" and value is None:
                value = "constant"
            values[flag.lstrip("-").replace("-", "_")] = value
    for key in ("batch_norm", "shuffle"):
        if key in best:
            values[key] = best[key]
    values.update(out=out, report=None, quiet=True, command="train")
    # Options of `train` alone: no held-out file, and the baseline check as train applies it.
    values.setdefault("test", None)
    values.setdefault("force", False)
    if values.get("tol") is TOL_UNSET:
        raise AssertionError("tol is resolved before tuning")
    return argparse.Namespace(**values)


def run(args: argparse.Namespace) -> int:
    from chainrule.cli import summary, train
    from chainrule.cli.fitting import TrainRun
    from chainrule.cli.options import estimator_kwargs, run_settings
    from chainrule.recipe.tune import tune

    space = parse_space(args.space)
    early = train.resolve_early_stopping(args)
    d = train.prepare(args)
    splits = _folds(d, args.cv, args.seed)
    kwargs = estimator_kwargs(args, d.task, d.y)
    base = TrainRun(
        task=d.task,
        categorical=d.categorical,
        seed=args.seed,
        early_stopping=early,
        callbacks=None,  # where each trial's per-epoch scores (for pruning) are collected
        **run_settings(kwargs, args.validation_fraction if args.cv is None else 0),
    )
    score = _scorer(d.task)
    if not args.quiet:
        where = args.scheduler or (f"{args.workers} local Dask workers" if args.workers else "here")
        scored = f"{args.cv}-fold cross-validation" if args.cv else f"{len(d.val)} validation rows"
        print(
            f"tuning  {d.source}: {len(d.features)} rows, {d.task}; {args.trials} trials "
            f"({where}), each a 'chainrule train' run scored on {scored}; trial 0: the "
            "settings given",
            flush=True,
        )
    result = tune(
        base,
        space,
        d.features,
        d.y,
        args.trials,
        cv=splits,
        scoring=score,
        seed=args.seed,
        timeout=args.timeout,
        n_parallel=args.parallel,
        refit=False,
        include_defaults=True,
        fit_validation=True,
        on_trial=None if args.quiet else _progress(score.__name__),
        **cluster(args),
    )
    best = {**kwargs, **result.best_params_}
    out = Path(args.out) if args.out is not None else None
    if out is not None and out.is_dir():
        raise IsADirectoryError(21, f"--out {str(out)!r} is a folder; name a model file", str(out))
    repeat = train_args(args, best, None if out is None else str(out))
    command = summary.reproducing_command(
        repeat, d.task, d.target, out or io.DEFAULT_DIR / "model.chainrule", None
    )
    if not args.quiet:
        print("\n" + result.to_text())
    how = "mean over the folds" if args.cv else "validation"
    print(f"best    {how} {result.metric} {result.best_score_:.4f} (trial {result.best_trial_})")
    print(f"train   {command}")
    if args.report:
        _write_report(Path(args.report), result)
        print(f"report  {args.report}")
    if out is not None:  # exactly what the printed command trains and writes
        train.run(repeat)
        print(f"model   {out}")
    return 0 if math.isfinite(result.best_score_) else 1


def _write_report(folder: Path, result: Any) -> None:
    from chainrule.recipe.report import Figures, write_bytes

    folder.mkdir(parents=True, exist_ok=True)
    figures = Figures(folder)
    image = figures.draw(
        "tuning.png",
        lambda ax: (result.plot(ax[0]), result.plot_intermediate(ax[1])),
        ncols=2,
        size=(11.0, 4.0),
    )
    write_bytes(
        folder / "tuning.md",
        f"# Hyperparameter search\n\n{result.to_markdown()}\n{image}\n".encode(),
    )
    trials = result.trials_
    if hasattr(trials, "to_csv"):
        write_bytes(folder / "trials.csv", trials.to_csv(index=False).encode("utf-8"))
