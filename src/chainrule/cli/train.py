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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule._version import __version__
from chainrule.cli import io
from chainrule.cli.arguments import add_column_options, add_hyperparameter_options, option_type
from chainrule.cli.errors import description

HELP = "train a network on a CSV/Parquet table (no DATA: scikit-learn's digits)"
EXAMPLES = """examples:
  chainrule train                                  # digits; writes out/model.chainrule, out/report/
  chainrule train iris.csv --target species --out iris.chainrule --hidden 32 --epochs 100
  chainrule train houses.csv --target price --task regression --report houses-report
"""


def add_parser(sub: Any, parents: list[argparse.ArgumentParser], full: bool = True) -> None:
    p = sub.add_parser(
        "train",
        help=HELP,
        description=description(__doc__),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    p.add_argument("data", nargs="?", metavar="DATA", help="CSV or Parquet file (default: digits)")
    p.add_argument("--target", metavar="COLUMN", help="the column to predict (required with DATA)")
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
    add_column_options(p)
    p.add_argument(
        "--validation-fraction",
        type=option_type("fraction"),
        default=0.2,
        metavar="F",
        help="share of rows held out for validation and early stopping (default: 0.2)",
    )
    p.add_argument(
        "--early-stopping",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="stop when the validation loss stops improving; keep the best "
        "weights (default: on when there is a validation split)",
    )
    p.add_argument("--seed", type=option_type("seed"), default=0, help="random seed (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    if full:  # else listed in the overall help only; see build_parser
        add_hyperparameter_options(p, run)


def _split(n: int, y: Any, task: str, fraction: float, seed: int) -> tuple[Any, Any]:
    """Sorted training and validation row indices (validation None when `fraction` is 0)."""
    from chainrule.data import split_indices

    if fraction == 0:
        return np.arange(n), None
    labels = y if task == "classification" else None
    try:
        train, val = split_indices(n, fraction, labels=labels, rng=seed)
    except ValueError:
        if labels is None:
            raise
        # A class with one sample cannot be split in proportion: split at random instead.
        train, val = split_indices(n, fraction, rng=seed)
    return np.sort(train), np.sort(val)


@dataclass
class Prepared:
    """The table turned into the network's training and validation matrices."""

    source: str
    target: str
    task: str
    prep: Any  # TabularPreprocessor fitted on the training rows
    X_train: Any
    y_train: Any
    X_val: Any  # None without a validation split
    y_val: Any
    mean: float = 0.0  # regression: the network learns (y − mean) / scale
    scale: float = 1.0


def prepare(args: argparse.Namespace) -> Prepared:
    """Read, check, split and preprocess the data (ValueError naming any problem)."""
    from chainrule.cli import summary
    from chainrule.cli.options import names
    from chainrule.tabular import TabularPreprocessor

    features, y, target, source, task = io.load_data(args, default="digits")
    train, val = _split(len(features), y, task, args.validation_fraction, args.seed)

    # Check every row first, so that errors name rows of the file; the column kinds found
    # here hold for the fit on the training rows (a mostly-numeric check could differ).
    kinds = TabularPreprocessor(names(args.categorical)).fit(features).columns_
    prep = TabularPreprocessor([c["name"] for c in kinds if c["kind"] == "categorical"])
    prep.fit(features.iloc[train])
    dtype = np.dtype(args.dtype)
    data = Prepared(
        source,
        target,
        task,
        prep,
        prep.transform(features.iloc[train], dtype=dtype),
        y[train],
        None,
        None,
    )
    if val is not None:  # a category seen only in validation rows is encoded as all zeros
        data.X_val = prep.transform(features.iloc[val], dtype=dtype, unknown="ignore")
        data.y_val = y[val]
    if task == "regression":
        data.mean, data.scale = float(data.y_train.mean()), float(data.y_train.std()) or 1.0
    if not args.quiet:
        summary.print_header(source, features, target, task, y, prep, len(train), val)
    return data


def run(args: argparse.Namespace) -> int:
    from chainrule.cli import summary
    from chainrule.cli.options import estimator_kwargs, names
    from chainrule.modelfile import save
    from chainrule.tabular import TabularModel

    out = Path(args.out) if args.out else io.DEFAULT_DIR / "model.chainrule"
    report = args.report or (str(io.DEFAULT_DIR / "report") if args.data is None else None)
    if out.is_dir():
        raise IsADirectoryError(21, f"--out {str(out)!r} is a folder; name a model file", str(out))
    early = args.early_stopping
    if early is None:
        early = args.validation_fraction > 0
    elif early and args.validation_fraction == 0:
        raise ValueError("--early-stopping needs a validation split: --validation-fraction > 0")
    d = prepare(args)

    kwargs = estimator_kwargs(args, d.task, d.y_train)
    estimator, monitor = summary.make_estimator(
        d.task, kwargs, args, d.X_val, d.y_val, d.y_train, d.mean, d.scale, early
    )
    start = time.perf_counter()
    estimator.fit(
        d.X_train, d.y_train if d.task == "classification" else (d.y_train - d.mean) / d.scale
    )
    seconds = time.perf_counter() - start
    # The callbacks hold the validation data and the bar belongs to this run: not saved.
    estimator.set_params(verbose=False, callbacks=None)

    model = TabularModel(
        estimator, d.prep, task=d.task, target=d.target, target_mean=d.mean, target_scale=d.scale
    )
    metrics = summary.compute_metrics(model, d.X_train, d.y_train, d.X_val, d.y_val)
    command = summary.reproducing_command(args, d.task, d.target, out, report)
    model.info = {
        "data": d.source,
        "rows": {"train": len(d.X_train), "validation": 0 if d.X_val is None else len(d.X_val)},
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
        "best_epoch": monitor.best_epoch(),
        "time_s": round(seconds, 3),
        "command": command,
        "chainrule": __version__,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    if report is not None:
        summary.write_run_report(
            report, model, metrics, d.X_val, d.y_val, d.X_train, d.y_train, command
        )
    save(model, out)
    if not args.quiet:
        summary.print_summary(model, out, report, sys.stdout)
    return 0
