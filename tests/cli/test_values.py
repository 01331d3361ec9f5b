"""The command line's plain value types (`chainrule.cli.values`)."""

from __future__ import annotations

import argparse

import pytest

from chainrule.cli import options, values
from chainrule.cli.values import positive_int, seed, whole_number


def test_whole_number_keeps_to_its_bounds() -> None:
    assert whole_number("0", 0) == 0
    assert whole_number("17", 1, 17) == 17
    with pytest.raises(argparse.ArgumentTypeError, match="must be between 1 and 17, got 18"):
        whole_number("18", 1, 17)
    with pytest.raises(argparse.ArgumentTypeError, match="must be >= 2, got 1"):
        whole_number("1", 2)
    with pytest.raises(argparse.ArgumentTypeError, match=r"'2\.5' is not a whole number"):
        whole_number("2.5", 0)
    with pytest.raises(argparse.ArgumentTypeError, match="must be a port, got -1"):
        whole_number("-1", 0, 65535, rule="a port")


def test_positive_int_and_seed_name_their_rule() -> None:
    assert positive_int("3") == 3 and seed("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match="a positive whole number, got 0"):
        positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match="must be >= 0, got -1"):
        seed("-1")


def test_options_still_offers_the_value_types() -> None:
    for name in ("positive", "non_negative", "fraction", "positive_int", "seed", "batch_size"):
        assert getattr(options, name) is getattr(values, name)
