"""``chainrule train [DATA] --target COLUMN --out MODEL``: train a network on a table.

The steps: read the table; infer the task from the target (or take ``--task``); hold out a
validation split (stratified for classes); fit the preprocessing on the training rows
(numeric columns standardized, categorical ones one-hot encoded); train an `MLPClassifier` or
`MLPRegressor` with early stopping on the validation loss; then save preprocessing, network
and label mapping in one model file, print a summary and, with ``--report``, write the report.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainrule._version import __version__
from chainrule.cli import io
from chainrule.cli.arguments import (
    SEED,
    Valued,
    add_command,
    add_data_options,
    add_hyperparameter_options,
    add_valued_options,
)
from chainrule.cli.values import fraction

HELP = "train a network on a CSV/Parquet table (no DATA: scikit-learn's digits)"
EXAMPLES = """examples:
  chainrule train                                  # digits; writes out/model.chainrule, out/report/
  chainrule train iris.csv --target species --out iris.chainrule --hidden 32 --epochs 100
  chainrule train houses.csv --target price --task regression --report houses-report
  chainrule train train.csv --target species --test test.csv --report species-report
"""
VALIDATION_FRACTION: Valued = (
    "--validation-fraction",
    fraction,
    0.2,
    "F",
    "share of rows held out for validation and early stopping (default: 0.2)",
)


def add_parser(sub: Any, parents: list[argparse.ArgumentParser], full: bool = True) -> None:
    p = add_command(sub, "train", parents, HELP, __doc__, EXAMPLES)
    add_data_options(p, default="digits")
    p.add_argument(
        "--out",
        metavar="MODEL",
        help=f"model file to write (default: {io.DEFAULT_DIR}/model.chainrule)",
    )
    p.add_argument(
        "--report",
        metavar="DIR",
        help=f"write learning curves, plots, metrics.json and the command into DIR "
        f"(default with no DATA: {io.DEFAULT_DIR}/report)",
    )
    add_valued_options(p, [VALIDATION_FRACTION])
    p.add_argument(
        "--early-stopping",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stop when the validation loss stops improving; keep the best "
        "weights (default: on when there is a validation split)",
    )
    p.add_argument(
        "--test",
        metavar="FILE",
        help="a held-out table with the target column, scored after training; its metrics "
        "join the summary, the report and the model file",
    )
    add_valued_options(p, [SEED])
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument(
        "--force",
        action="store_true",
        help="save the model even if it scores worse on the validation rows than the trivial "
        "baseline (the training mean, or the most frequent class)",
    )
    if full:  # else listed in the overall help only; see build_parser
        add_hyperparameter_options(p, run)


def resolve_early_stopping(args: argparse.Namespace) -> bool:
    """--early-stopping as given, else on exactly when there is a validation split; and
    --tol resolved: without a value given, early stopping's least improvement (the
    estimators' default) with early stopping, and no training-loss rule (``none``) without."""
    from chainrule.cli.options import TOL_UNSET, estimator_defaults

    early = args.early_stopping
    if early is None:
        early = args.validation_fraction > 0 or bool(getattr(args, "cv", None))
    elif early and args.validation_fraction == 0 and not getattr(args, "cv", None):
        raise ValueError("--early-stopping needs a validation split: --validation-fraction > 0")
    if args.tol is TOL_UNSET:
        args.tol = estimator_defaults()["tol"] if early else None
    return bool(early)


@dataclass
class Prepared:
    """The table, its task, the split and the column kinds ``chainrule train`` uses."""

    source: str
    target: str
    task: str
    features: Any
    y: Any
    train: Any  # row indices
    val: Any  # row indices, None without a validation split
    categorical: list[str]  # the columns one-hot encoded (found on every row)


def prepare(args: argparse.Namespace) -> Prepared:
    """Read, check and split the data (ValueError naming any problem)."""
    from chainrule.cli.fitting import split_rows
    from chainrule.cli.options import names
    from chainrule.data.tabular import TabularPreprocessor

    features, y, target, source, task = io.load_data(args, default="digits")
    train, val = split_rows(len(features), y, task, args.validation_fraction, args.seed)
    # Check every row first, so that errors name rows of the file; the column kinds found
    # here hold for the fit on the training rows (a mostly-numeric check could differ).
    kinds = TabularPreprocessor(names(args.categorical)).fit(features).columns_
    categorical = [c["name"] for c in kinds if c["kind"] == "categorical"]
    return Prepared(source, target, task, features, y, train, val, categorical)


def run(args: argparse.Namespace) -> int:
    from chainrule.cli import summary
    from chainrule.cli.fitting import fit_table
    from chainrule.cli.options import estimator_kwargs, names, run_settings
    from chainrule.data.tabular import TabularPreprocessor
    from chainrule.saving.atomic import remove_stale_temporaries
    from chainrule.saving.modelfile import save

    out = Path(args.out) if args.out else io.DEFAULT_DIR / "model.chainrule"
    report = args.report or (str(io.DEFAULT_DIR / "report") if args.data is None else None)
    if out.is_dir():
        raise IsADirectoryError(21, f"--out {str(out)!r} is a folder; name a model file", str(out))
    early = resolve_early_stopping(args)
    d = prepare(args)
    test = io.read_test_table(args.test, args.sep, d.target) if args.test else None
    kwargs = estimator_kwargs(args, d.task, d.y[d.train])
    prep = TabularPreprocessor(d.categorical).fit(d.features.iloc[d.train])
    if not args.quiet:
        summary.print_header(d, prep)
    fitted = fit_table(
        d.features.iloc[d.train],
        d.y[d.train],
        None if d.val is None else d.features.iloc[d.val],
        None if d.val is None else d.y[d.val],
        task=d.task,
        categorical=d.categorical,
        settings=run_settings(kwargs, args.validation_fraction),
        seed=args.seed,
        early_stopping=early,
        verbose=not args.quiet,
        preprocessor=prep,
    )
    model, estimator = fitted.model, fitted.model.estimator
    model.target = d.target
    metrics = summary.compute_metrics(
        model, fitted.X_train, fitted.y_train, fitted.X_val, fitted.y_val
    )
    if not getattr(args, "force", False):
        summary.check_beats_baseline(metrics, fitted.y_train, fitted.y_val)
    if test is not None:
        metrics["test"] = summary.test_metrics(model, test, args.test)
    command = summary.reproducing_command(args, d.task, d.target, out, report)
    model.info = {
        "data": d.source,
        "rows": {
            "train": len(d.train),
            "validation": 0 if d.val is None else len(d.val),
            **({"test": len(test)} if test is not None else {}),
        },
        "settings": {
            **summary.json_settings(kwargs),
            "early_stopping": bool(early),
            "validation_fraction": args.validation_fraction,
            "seed": args.seed,
            "categorical": list(names(args.categorical)),
            "drop": list(names(args.drop)),
        },
        "metrics": metrics,
        "epochs": int(estimator.n_iter_),
        "best_epoch": int(estimator.best_epoch_),
        "stopped_by": estimator.stopped_by_,
        "time_s": round(fitted.seconds, 3),
        "command": command,
        "chainrule": __version__,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    if report is not None:
        summary.write_run_report(report, model, metrics, fitted, command)
    remove_stale_temporaries(out)  # left by a run of this command killed while saving
    save(model, out)
    if not args.quiet:
        summary.print_summary(model, out, report, sys.stdout)
    return 0
