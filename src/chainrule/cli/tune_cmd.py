"""``chainrule tune [DATA] --target COLUMN --trials N``: hyperparameter search on a table.

Searches the network's hyperparameters with `chainrule.recipe.tune` (Optuna's TPE sampler,
median pruning on per-epoch validation scores), in this process or on a Dask cluster
(``--scheduler tcp://host:8786`` or ``--workers N``). The hyperparameter options (``--epochs
60 --optimizer sgd ...``) set the starting point; the space says what is searched (default:
learning rate, layers, activation, batch size, L2 penalty, dropout). Prints the best
trials and the ``chainrule train`` command that trains the best network. With no DATA it
tunes on scikit-learn's digits, as ``chainrule train`` trains on them.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import textwrap
from pathlib import Path
from typing import Any

from chainrule.cli import io
from chainrule.cli.arguments import (
    add_cluster_options,
    add_data_options,
    add_hyperparameter_options,
    option_type,
)

HELP = "search hyperparameters with Optuna, here or on a Dask cluster"
DESCRIPTION = (
    "Search the network's hyperparameters (Optuna's TPE sampler, median pruning on per-epoch "
    "validation scores), here or on a Dask cluster (--scheduler tcp://host:8786 or --workers "
    "N). The hyperparameter options set the starting point; --space says what is searched "
    "(default: learning rate, layers, activation, batch size, L2 penalty, dropout). Prints "
    "the best trials and the 'chainrule train' command for the best network. With no DATA "
    "it tunes on scikit-learn's digits, as 'chainrule train' trains on them."
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


def add_parser(sub: Any, parents: list[argparse.ArgumentParser], full: bool = True) -> None:
    """Register ``tune``; the hyperparameter options (they import scikit-learn) only if `full`."""
    p = sub.add_parser(
        "tune",
        help=HELP,
        description=textwrap.fill(DESCRIPTION, 79, break_on_hyphens=False),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    add_data_options(p, default="digits")
    p.add_argument(
        "--trials",
        type=option_type("positive_int"),
        default=20,
        metavar="N",
        help="trials to run (default: 20)",
    )
    p.add_argument("--space", metavar="JSON", help="the search space (see below)")
    p.add_argument(
        "--cv",
        type=option_type("positive_int"),
        metavar="K",
        help="score each trial by K-fold cross-validation (default: one split)",
    )
    p.add_argument(
        "--validation-fraction",
        type=option_type("fraction"),
        default=0.2,
        metavar="F",
        help="share of rows for validation without --cv (default: 0.2)",
    )
    p.add_argument(
        "--timeout",
        type=option_type("positive"),
        metavar="SECONDS",
        help="start no new trials after this long",
    )
    p.add_argument(
        "--parallel",
        type=option_type("positive_int"),
        default=4,
        metavar="N",
        help="trials suggested and run together (default: 4; results depend on it)",
    )
    add_cluster_options(p)
    p.add_argument("--seed", type=option_type("seed"), default=0, help="random seed (default: 0)")
    p.add_argument(
        "--out", metavar="MODEL", help="refit the best network on all rows and save it here"
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


def _train_command(args: argparse.Namespace, target: str, kwargs: dict[str, Any]) -> str:
    """The ``chainrule train`` command for the best parameters."""
    from chainrule.cli.options import OPTIONS, format_class_weight

    words = ["chainrule", "train"]
    if args.data is not None:
        words += [str(args.data), "--target", target]
    for flag, key, *_ in OPTIONS:
        if key not in kwargs:
            continue
        value = kwargs[key]
        if key == "hidden_layer_sizes":
            value = ",".join(str(n) for n in value) or "none"
        elif key == "batch_size" and value is None:
            value = "full"
        elif key == "lr_schedule" and value is None:
            value = "constant"
        elif key == "class_weight":
            value = format_class_weight(value)
        words += [flag, f"{value:.4g}" if isinstance(value, float) else str(value)]
    for key in ("batch_norm", "shuffle"):
        if key in kwargs:
            words.append(f"--{'' if kwargs[key] else 'no-'}{key.replace('_', '-')}")
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    from chainrule.cli.options import estimator_kwargs, names
    from chainrule.estimators import MLPClassifier, MLPRegressor
    from chainrule.recipe.tune import tune
    from chainrule.tabular import TabularModel, TabularPreprocessor

    space = parse_space(args.space)
    features, y, target, source, task = io.load_data(args, default="digits")
    prep = TabularPreprocessor(names(args.categorical)).fit(features)
    X = prep.transform(features)
    mean, scale = 0.0, 1.0
    if task == "regression":
        mean, scale = float(y.mean()), float(y.std()) or 1.0
        y = (y - mean) / scale  # R² does not change; the network trains on a unit scale
    kwargs = estimator_kwargs(args, task, y)
    cls = MLPClassifier if task == "classification" else MLPRegressor
    base = cls(**kwargs, random_state=args.seed)
    if not args.quiet:
        where = args.scheduler or (f"{args.workers} local Dask workers" if args.workers else "here")
        print(
            f"tuning  {source}: {len(X)} rows, {task}; {args.trials} trials ({where})", flush=True
        )
    result = tune(
        base,
        space,
        X,
        y,
        args.trials,
        cv=args.cv,
        validation_fraction=args.validation_fraction,
        scheduler=args.scheduler,
        n_workers=args.workers,
        seed=args.seed,
        timeout=args.timeout,
        n_parallel=args.parallel,
        refit=args.out is not None,
    )
    best = {**kwargs, **result.best_params_}
    if not args.quiet:
        print(result.to_markdown())
    print(
        f"best    validation {result.metric} {result.best_score_:.4f} (trial {result.best_trial_})"
    )
    print(f"train   {_train_command(args, target, best)}")
    if args.report:
        _write_report(Path(args.report), result)
        print(f"report  {args.report}")
    if args.out is not None:
        from chainrule.modelfile import save

        out = Path(args.out)
        if out.is_dir():
            raise IsADirectoryError(
                21, f"--out {str(out)!r} is a folder; name a model file", str(out)
            )
        model = TabularModel(
            result.best_estimator_,
            prep,
            task=task,
            target=target,
            target_mean=mean,
            target_scale=scale,
            info={
                "data": source,
                "best_score": result.best_score_,
                "best_params": {k: str(v) for k, v in result.best_params_.items()},
            },
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        save(model, out)
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
