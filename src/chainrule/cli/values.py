"""The command line's plain value types: numbers, whole numbers, layer sizes, names.

Each turns an option's text into its value or raises `argparse.ArgumentTypeError` naming the
value and the rule it breaks (argparse adds the option). They import nothing heavy, so that
the commands' parsers are built without scikit-learn (which `chainrule.cli.options` imports).
"""

from __future__ import annotations

import argparse
import math


def whole_number(text: str, low: int, high: int | None = None, rule: str = "") -> int:
    """`text` as an int from `low` to `high` (no upper bound if None), else the error naming
    the value and the `rule` it breaks (default: the bounds)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low or (high is not None and value > high):
        rule = rule or (f">= {low}" if high is None else f"between {low} and {high}")
        raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1)."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def positive_int(text: str) -> int:
    return whole_number(text, 1, rule="a positive whole number")


def seed(text: str) -> int:
    return whole_number(text, 0)


def batch_size(text: str) -> int | None:
    """A positive int, or "full" (None: batch gradient descent)."""
    if text.strip().lower() in ("full", "none", "all"):
        return None
    return positive_int(text)


def layer_sizes(text: str) -> tuple[int, ...]:
    """ "64,32" -> (64, 32); "" or "none" -> () (no hidden layer: a linear model)."""
    text = text.strip()
    if text.lower() in ("", "none", "0"):
        return ()
    try:
        return tuple(positive_int(part.strip()) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of layer sizes such as 64,32"
        ) from None


def tolerance(text: str) -> float | None:
    """A number >= 0, or "none" (no training-loss stopping rule)."""
    if text.strip().lower() == "none":
        return None
    return non_negative(text)


def names(text: str) -> tuple[str, ...]:
    """ "a,b" -> ("a", "b")."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
