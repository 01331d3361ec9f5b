"""``chainrule recipe [DATA] --target COLUMN [--report DIR]``: the whole training recipe.

Runs `chainrule.recipe.run_recipe` on a table: summary of the data, baselines, the
overfit check, the learning-rate range test, a short hyperparameter search, the final model
with early stopping and an ensemble, each model scored on a held-out test set; then writes the
Markdown report with its figures and saves the final model (``DIR/model.chainrule``, usable
with ``chainrule predict``). With no DATA it runs on scikit-learn's breast cancer data.
"""

from __future__ import annotations

import argparse
import shlex
import textwrap
from pathlib import Path
from typing import Any

from chainrule.cli import io
from chainrule.cli.arguments import (
    SEED,
    Valued,
    add_cluster_options,
    add_command,
    add_data_options,
    add_valued_options,
    cluster,
)
from chainrule.cli.values import fraction, positive_int

HELP = "run the whole training recipe and write a report (no DATA: breast cancer data)"
EXAMPLES = """examples:
  chainrule recipe                                  # breast cancer; report in out/recipe/
  chainrule recipe houses.csv --target price --report houses-recipe
  chainrule recipe iris.csv --target species --trials 30 --workers 2
  chainrule recipe big.csv --target y --scheduler tcp://10.0.0.5:8786   # on a Dask cluster
"""
DESCRIPTION = (
    "Run the training recipe on a table: a summary of the data, baselines, the overfit "
    "check, the learning-rate range test, a short hyperparameter search, the final model "
    "with early stopping and an ensemble, each scored on a held-out test set. Writes "
    "report.md with its figures, and the final model (DIR/model.chainrule, for 'chainrule "
    "predict'). With no DATA it runs on scikit-learn's breast cancer data."
)
OPTIONS: list[Valued] = [
    ("--trials", positive_int, 12, "N", "hyperparameter trials of the short search (default: 12)"),
    (
        "--epochs",
        positive_int,
        100,
        "N",
        "most epochs per training run (the final model gets twice as many, "
        "with early stopping; default: 100)",
    ),
    ("--members", positive_int, 5, "N", "networks in the ensemble (default: 5)"),
    ("--cv", positive_int, 5, "K", "folds of the baselines' cross-validation (default: 5)"),
    (
        "--test-fraction",
        fraction,
        0.2,
        "F",
        "share of rows held out as the final test set (default: 0.2)",
    ),
]


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    text = textwrap.fill(DESCRIPTION, 79, break_on_hyphens=False)
    p = add_command(sub, "recipe", parents, HELP, None, EXAMPLES, text)
    add_data_options(p, default="breast cancer")
    p.add_argument(
        "--report",
        metavar="DIR",
        help=f"folder for report.md, its figures and the model (default: {io.DEFAULT_DIR}/recipe)",
    )
    add_valued_options(p, OPTIONS)
    add_cluster_options(p)
    add_valued_options(p, [SEED])
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=run)


def _command(args: argparse.Namespace, report: Path) -> str:
    words = ["chainrule", "recipe"]
    if args.data is not None:
        words += [str(args.data), "--target", args.target]
    words += [
        "--report",
        str(report),
        "--trials",
        str(args.trials),
        "--epochs",
        str(args.epochs),
        "--members",
        str(args.members),
        "--cv",
        str(args.cv),
        "--test-fraction",
        str(args.test_fraction),
        "--seed",
        str(args.seed),
    ]
    for option in ("task", "categorical", "drop", "sep"):
        value = getattr(args, option)
        if value and value != "auto":
            words += [f"--{option}", value]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    from chainrule.cli.options import names
    from chainrule.data.tabular import TabularModel
    from chainrule.recipe.report import write_report
    from chainrule.recipe.workflow import run_recipe
    from chainrule.saving.modelfile import save

    if args.cv < 2:
        raise ValueError(f"--cv must be at least 2, got {args.cv}")
    features, y, target, source, task = io.load_data(args, default="breast_cancer")
    report = Path(args.report) if args.report else io.DEFAULT_DIR / "recipe"
    if report.exists() and not report.is_dir():
        raise NotADirectoryError(
            20, f"--report {str(report)!r} is a file; name a folder", str(report)
        )
    log = None if args.quiet else (lambda line: print(line, flush=True))
    result = run_recipe(
        features,
        y,
        task=task,
        data_name=source,
        categorical=names(args.categorical),
        test_fraction=args.test_fraction,
        cv=args.cv,
        epochs=args.epochs,
        n_trials=args.trials,
        n_members=args.members,
        seed=args.seed,
        log=log,
        **cluster(args),
    )
    command = _command(args, report)
    result.settings["command"] = f"`{command}`"
    path = write_report(result, report)
    model = TabularModel(
        result.final,
        result.preprocessor,
        task=task,
        target=target,
        target_mean=result.target_mean,
        target_scale=result.target_scale,
        info={
            "data": source,
            "command": command,
            "test": result.test,
            "best_params": {k: str(v) for k, v in result.tuning.best_params_.items()},
        },
    )
    save(model, report / "model.chainrule")
    if not args.quiet:
        print(f"report  {path}\nmodel   {report / 'model.chainrule'} (the final network)")
    return 0
