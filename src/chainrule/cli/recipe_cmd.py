"""``chainrule recipe [DATA] --target COLUMN [--report DIR]``: the whole training recipe.

Runs `chainrule.recipe.run_recipe` on a table: summary of the data, baselines, the
overfit check, the learning-rate range test, a short hyperparameter search, the final model
with early stopping and an ensemble, each model scored on a held-out test set; then writes the
Markdown report with its figures and saves the final model (``DIR/model.chainrule``, usable
with ``chainrule predict``). With no DATA it runs on scikit-learn's breast cancer data.

The table helpers here (`add_data_options`, `load_data`, `add_cluster_options`) are shared
with ``chainrule tune``.
"""

from __future__ import annotations

import argparse
import shlex
import textwrap
from pathlib import Path
from typing import Any

from chainrule.cli import io

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
DEFAULT_TARGET = "diagnosis"


# ---------------------------------------------------------------------------- shared options
def _type(name: str) -> Any:
    """An option type from `chainrule.cli.options`, imported when an argument is parsed."""

    def convert(text: str) -> Any:
        from chainrule.cli import options

        return getattr(options, name)(text)

    convert.__name__ = name
    return convert


def add_data_options(p: argparse.ArgumentParser, default: str = "breast cancer") -> None:
    """DATA, --target, --task, --categorical, --drop and --sep (as ``chainrule train``)."""
    p.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help=f"CSV or Parquet file (default: scikit-learn's {default} data)",
    )
    p.add_argument("--target", metavar="COLUMN", help="the column to predict (required with DATA)")
    p.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="what to learn (default: auto, inferred from the target column)",
    )
    p.add_argument(
        "--categorical",
        metavar="COLUMNS",
        default="",
        help="comma-separated columns to one-hot encode even if they hold numbers",
    )
    p.add_argument(
        "--drop",
        metavar="COLUMNS",
        default="",
        help="comma-separated columns to ignore (identifiers, leaks)",
    )
    p.add_argument("--sep", metavar="CHAR", help="CSV delimiter (default: detected)")


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """--scheduler ADDRESS | --workers N: where trials and ensemble members run."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask cluster, e.g. tcp://host:8786 (needs "
        "chainrule[distributed] here and on the workers)",
    )
    group.add_argument(
        "--workers",
        type=_type("positive_int"),
        metavar="N",
        help="run on a local Dask cluster of N worker processes",
    )


def breast_cancer_frame() -> Any:
    """scikit-learn's breast cancer data: 569 tumours, 30 measurements, the diagnosis."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame[DEFAULT_TARGET] = bunch.target_names[bunch.target.to_numpy()]
    return frame


# The data used without DATA: (loader, target column, name).
DEFAULT_DATA = {
    "breast_cancer": (breast_cancer_frame, DEFAULT_TARGET, "breast cancer (scikit-learn)"),
    "digits": (io.load_digits_frame, io.DIGITS_TARGET, "digits (scikit-learn)"),
}


def load_data(
    args: argparse.Namespace, default: str = "breast_cancer"
) -> tuple[Any, Any, str, str, str]:
    """(features DataFrame, encoded target, target name, data name, task) from the options.

    Without DATA, the `default` bundled dataset (a key of `DEFAULT_DATA`) is used.
    """
    from chainrule.cli.options import names
    from chainrule.tabular import encode_target, infer_task

    if args.data is None:
        loader, target, source = DEFAULT_DATA[default]
        if args.target not in (None, target):
            raise ValueError(
                f"without DATA the {source} data is used, whose target is {target!r}, "
                f"not {args.target!r}"
            )
        frame = loader()
    else:
        frame = io.read_table(args.data, args.sep)
        source = repr(str(args.data))
        if args.target is None:
            raise ValueError(
                f"--target COLUMN is required with DATA; the columns of {source} are: "
                f"{io.column_list(frame)}"
            )
        target = args.target
        io.require_column(frame, target, source)
    drop, categorical = names(args.drop), names(args.categorical)
    for column in (*drop, *categorical):
        io.require_column(frame, column, source)
    if target in drop:
        raise ValueError(f"--drop names the target column {target!r}")
    task = infer_task(frame[target]) if args.task == "auto" else args.task
    y = encode_target(frame[target], task, target)
    return frame.drop(columns=[target, *drop]), y, target, source, task


# ---------------------------------------------------------------------------- the command
def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "recipe",
        help=HELP,
        description=textwrap.fill(DESCRIPTION, 79, break_on_hyphens=False),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )
    add_data_options(p)
    p.add_argument(
        "--report",
        metavar="DIR",
        help=f"folder for report.md, its figures and the model (default: {io.DEFAULT_DIR}/recipe)",
    )
    p.add_argument(
        "--trials",
        type=_type("positive_int"),
        default=12,
        metavar="N",
        help="hyperparameter trials of the short search (default: 12)",
    )
    p.add_argument(
        "--epochs",
        type=_type("positive_int"),
        default=100,
        metavar="N",
        help="most epochs per training run (the final model gets twice as many, "
        "with early stopping; default: 100)",
    )
    p.add_argument(
        "--members",
        type=_type("positive_int"),
        default=5,
        metavar="N",
        help="networks in the ensemble (default: 5)",
    )
    p.add_argument(
        "--cv",
        type=_type("positive_int"),
        default=5,
        metavar="K",
        help="folds of the baselines' cross-validation (default: 5)",
    )
    p.add_argument(
        "--test-fraction",
        type=_type("fraction"),
        default=0.2,
        metavar="F",
        help="share of rows held out as the final test set (default: 0.2)",
    )
    add_cluster_options(p)
    p.add_argument("--seed", type=_type("seed"), default=0, help="random seed (default: 0)")
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
    from chainrule.modelfile import save
    from chainrule.recipe.report import write_report
    from chainrule.recipe.workflow import run_recipe
    from chainrule.tabular import TabularModel

    if args.cv < 2:
        raise ValueError(f"--cv must be at least 2, got {args.cv}")
    features, y, target, source, task = load_data(args)
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
        scheduler=args.scheduler,
        n_workers=args.workers,
        log=log,
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
