"""The ``chainrule`` command line (also ``python -m chainrule``).

Commands, one module each: ``train``, ``predict``, ``evaluate``, ``info``, ``graph``,
``export``, ``lecture``, ``recipe``, ``tune`` and ``playground``. Each module has
``add_parser(subparsers)``, which registers the command with its options, and ``run(args) -> int``.

Errors follow one rule: bad input gives a single line on standard error naming the problem,
exit status 1 (2 for a wrong command line), and no traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from chainrule._version import __version__
from chainrule.cli import (
    evaluate,
    export,
    graph,
    info,
    lecture,
    playground_cmd,
    predict,
    recipe_cmd,
    train,
    tune_cmd,
)
from chainrule.cli.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    ArgumentParser,
    UsageError,
    one_line,
)

__all__ = ["build_parser", "main"]

COMMANDS = (
    train,
    predict,
    evaluate,
    info,
    graph,
    export,
    lecture,
    recipe_cmd,
    tune_cmd,
    playground_cmd,
)
_EXPECTED = (ValueError, OSError, ImportError, RuntimeError, KeyError, MemoryError)


def build_parser(command: str | None = "train") -> ArgumentParser:
    """The parser of the whole command line, with one sub-parser per command.

    The training options (the estimators' hyperparameters, read without importing
    scikit-learn) are added only when `command` is "train" or "tune", the commands they serve.
    """
    parser = ArgumentParser(
        prog="chainrule",
        description="Neural networks from the chain rule up: train, use and inspect models.",
        epilog="Run 'chainrule COMMAND --help' for a command's options. With no DATA, "
        "'chainrule train' trains on scikit-learn's digits and writes into ./out/.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the Python traceback of an error"
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,  # keep the top-level value unless given here
        help="show the Python traceback of an error",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for module in COMMANDS:
        if module is train:
            train.add_parser(sub, [common], full=command == "train")
        elif module is tune_cmd:
            tune_cmd.add_parser(sub, [common], full=command == "tune")
        else:
            module.add_parser(sub, [common])
    return parser


def _warning_printer(command: str) -> Any:
    """Show warnings (from scikit-learn, pandas, ...) as one line each, without source code."""

    def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        print(f"chainrule {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(one_line(exc), file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer(args.command)
            return int(args.run(args))
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. 'chainrule predict ... | head': the reader left early
        # Send what is still buffered nowhere, so that exiting does not fail again.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        if args.debug:
            raise
        message = one_line(exc)
        if not isinstance(exc, _EXPECTED):  # a bug, not bad input: say how to see more
            message = f"internal error: {type(exc).__name__}: {message} (rerun with --debug)"
        print(f"chainrule {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR
