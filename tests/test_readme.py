"""The README is the front door: its Python examples must run and print what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text


def test_thirty_second_example_prints_the_lecture_numbers() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_python_blocks()[0], "README", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "-0.5"
    assert lines[1] == "-0.75 0.5 -0.25"
    assert "digraph" in out.getvalue()


def test_graph_picture_is_what_the_listed_command_draws(tmp_path, monkeypatch) -> None:
    from chainrule.cli import main

    text = README.read_text(encoding="utf-8")
    command = "chainrule graph --out docs/simple_example.svg"
    assert f"`{command}`" in text and "](docs/simple_example.svg)" in text
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz: the built-in renderer, as committed
    target = tmp_path / "simple_example.svg"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["graph", "--out", str(target)]) == 0
    committed = README.parent / "docs" / "simple_example.svg"
    assert target.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


def test_summary_example_prints_the_table_shown() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(
        r"```python\n((?:(?!```).)*?)```\n\n```text\n((?:(?!```).)*?)```", text, re.S
    )
    match = next((b for b in blocks if "print(model.summary())" in b[0]), None)
    assert match, "the README shows model.summary() and its output"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(match[0], "README", "exec"), {})
    assert out.getvalue() == match[1]


def _run_alone(block: str) -> str:
    """What `block` prints when run on its own, in a fresh namespace (as a reader pastes it)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README", "exec"), {})
    return out.getvalue()


@pytest.mark.slow
def test_network_examples_each_run_on_their_own_and_learn() -> None:
    pytest.importorskip("sklearn")
    blocks = [b for b in _python_blocks()[1:] if "model.summary()" not in b]
    scores = [float(_run_alone(block)) for block in blocks]
    assert scores[0] >= 0.95  # the estimator pipeline on digits
    assert scores[1] >= 0.9  # the building-block network after 20 epochs


def test_every_python_example_defines_what_it_uses() -> None:
    """No example leans on a name from an earlier one (the third once needed X_train)."""
    import builtins
    import symtable

    for block in _python_blocks():
        table = symtable.symtable(block, "README", "exec")
        defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
        used = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
        assert used - defined - set(dir(builtins)) == set(), block[:60]


def test_readme_says_chainrule_runs_on_the_cpu() -> None:
    assert "runs on the CPU" in README.read_text(encoding="utf-8")
