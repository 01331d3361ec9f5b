"""What the commands' parsers share: registering a command, options as tables, the table and
its columns, the cluster, the network.

`chainrule.cli.options` imports the estimators' parameter tables (without scikit-learn) and
reads their defaults from the estimators' source: `add_hyperparameter_options` imports it only
when needed, so that ``chainrule --help`` and the other commands stay quick; the value types of
the other options are `chainrule.cli.values`', which import nothing heavy.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.cli.errors import description
from chainrule.cli.values import positive_int, seed

# (flag, value type (`chainrule.cli.values`), default, METAVAR, help): an option taking one
# checked value. Commands list theirs as a table (`add_valued_options`).
Valued = tuple[str, Callable[[str], Any], Any, str, str]
SEED: Valued = ("--seed", seed, 0, "SEED", "random seed (default: 0)")


def add_command(
    sub: Any,
    name: str,
    parents: list[argparse.ArgumentParser],
    summary: str,
    doc: str | None,
    examples: str,
    text: str | None = None,
) -> argparse.ArgumentParser:
    """Register command `name` in `sub` and return its parser.

    `summary` is its line in ``chainrule --help``; its own ``--help`` shows `text` (default:
    the command module's docstring `doc`, see `errors.description`) and then `examples`.
    """
    return sub.add_parser(
        name,
        help=summary,
        description=description(doc) if text is None else text,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=parents,
    )


def add_valued_options(p: argparse.ArgumentParser, options: Sequence[Valued]) -> None:
    """Add each option of the table `options` (see `Valued`) to `p`."""
    for flag, kind, default, metavar, text in options:
        p.add_argument(flag, type=kind, default=default, metavar=metavar, help=text)


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
        type=positive_int,
        metavar="N",
        help="run on a local Dask cluster of N worker processes",
    )


def cluster(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of `recipe.tune` / `recipe.run_recipe` for the cluster options."""
    return {"scheduler": args.scheduler, "n_workers": args.workers}


def add_model_and_data(p: argparse.ArgumentParser, data: str) -> None:
    """MODEL (a saved model) and DATA (a table, described by `data`): commands that use a model."""
    p.add_argument("model", metavar="MODEL", help="model file written by 'chainrule train'")
    p.add_argument("data", metavar="DATA", help=data)


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
