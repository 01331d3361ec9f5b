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


def _run_alone(block: str) -> str:
    """What `block` prints when run on its own, in a fresh namespace (as a reader pastes it)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README", "exec"), {})
    return out.getvalue()


@pytest.mark.slow
def test_network_examples_each_run_on_their_own_and_learn() -> None:
    pytest.importorskip("sklearn")
    scores = [float(_run_alone(block)) for block in _python_blocks()[1:3]]
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
