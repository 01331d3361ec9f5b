"""Options that several commands share: the table and its columns, the cluster, the network.

`chainrule.cli.options` imports the estimators' parameter tables (without scikit-learn) and
reads their defaults from the estimators' source: `option_type` and
`add_hyperparameter_options` import it only when needed, so that ``chainrule --help`` and the
other commands stay quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def option_type(name: str) -> Callable[[str], Any]:
    """The value type `chainrule.cli.options.<name>`, imported when an argument is parsed."""

    def convert(text: str) -> Any:
        from chainrule.cli import options

        return getattr(options, name)(text)

    convert.__name__ = name  # argparse names the type in its messages
    return convert


def add_data_options(p: argparse.ArgumentParser, default: str) -> None:
    """DATA, --target, --task, --categorical, --drop and --sep (read by `io.load_data`)."""
    p.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help=f"CSV or Parquet file (default: scikit-learn's {default} data)",
    )
    p.add_argument("--target", metavar="COLUMN", help="the column to predict (required with DATA)")
    add_column_options(p)


def add_column_options(p: argparse.ArgumentParser) -> None:
    """--task, --categorical, --drop and --sep: how to read the table and its columns."""
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
    p.add_argument(
        "--keep-id-columns",
        action="store_true",
        help="use columns whose values are all different (integers or text, as identifiers "
        "are) as features; by default they are left out with a warning",
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
        type=option_type("positive_int"),
        metavar="N",
        help="run on a local Dask cluster of N worker processes",
    )


def add_hyperparameter_options(
    p: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int]
) -> None:
    """The estimators' hyperparameter options (``--lr``, ``--hidden``, ...), and `run`.

    Without scikit-learn the options cannot be listed: the command is registered with a `run`
    that raises the ImportError, so that it fails with the install hint only when used.
    """
    try:
        from chainrule.cli.options import add_hyperparameters
    except ImportError as exc:
        message = str(exc)

        def missing(args: argparse.Namespace) -> int:
            raise ImportError(message)

        p.set_defaults(run=missing)
        return
    add_hyperparameters(p)
    p.set_defaults(run=run)
