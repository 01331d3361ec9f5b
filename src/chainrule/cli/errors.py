"""How the command line fails: one line on standard error, a non-zero status, no traceback.

Commands raise ordinary exceptions (`ValueError` for bad input, `FileNotFoundError`,
`chainrule.ModelFileError`, ...); `one_line` turns any of them into the message shown.
Usage mistakes (an unknown option, an invalid choice) raise `UsageError` from the parser
instead of argparse's default of printing the usage and exiting.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from chainrule.errors import TrainingDiverged

# Exit statuses: 1 for bad input or a failed run, 2 for a wrong command line (as argparse).
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def description(doc: str | None) -> str:
    """A command's ``--help`` text from its module docstring (reST markup removed)."""
    text = (doc or "").strip()
    first, _, rest = text.partition("\n")
    if first.startswith("``") and "``: " in first:  # "``chainrule x ARGS``: what it does"
        first = first.split("``: ", 1)[1]
        first = first[0].upper() + first[1:]
    return (first + "\n" + rest).replace("``", "").replace("`", "")


class UsageError(Exception):
    """The command line itself is wrong (argparse's errors, raised instead of exiting)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, raising `UsageError` (caught by `main`) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def one_line(exc: BaseException) -> str:
    """The message for `exc`, on one line, naming the problem (and file, column, row)."""
    if isinstance(exc, OSError) and exc.strerror:
        message = exc.strerror
        if exc.filename is not None and str(exc.filename) not in message:
            message = f"{message}: {str(exc.filename)!r}"
    elif isinstance(exc, KeyError) and exc.args:
        message = str(exc.args[0])
    else:
        message = str(exc) or type(exc).__name__
    if isinstance(exc, TrainingDiverged) and "--lr" not in message:
        message += " (command line: lower --lr)"
    return " ".join(message.split())
