"""Every command's ``--help``: it ends with examples, and choices are listed."""

from __future__ import annotations

import pytest

from chainrule.cli import COMMANDS


def _help(cli, *args):
    code, out, err = cli(*args, "--help")
    assert code == 0, err
    return out


@pytest.mark.parametrize("command", [m.add_parser.__module__ for m in COMMANDS])
def test_every_command_help_ends_with_examples(cli, command):
    sub = {"recipe_cmd": "recipe", "tune_cmd": "tune", "playground_cmd": "playground"}.get(
        command.rsplit(".", 1)[1]
    )
    name = sub or command.rsplit(".", 1)[1]
    sections = _help(cli, name).rstrip().split("\n\n")
    found = [s for s in sections if s.startswith("examples:")]
    assert found, "no examples section"
    assert sections.index(found[0]) >= len(sections) - 2  # at the end (tune adds a note)
    lines = found[0].splitlines()[1:]
    commands = [line for line in lines if not line.startswith("      ")]  # not continuations
    assert commands and all(line.startswith(f"  chainrule {name}") for line in commands)


def test_augment_lists_its_choices(cli):
    assert "--augment {none,noise,mixup,shift}" in _help(cli, "train")


def test_export_help_names_the_inputs_once(cli):
    out = _help(cli, "export")
    assert "input input" not in out and "--features-only" in out
