"""The data package sits at the bottom, beside autograd: it imports nothing above it.

Every import counts, also those inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import chainrule.data

PACKAGE = Path(chainrule.data.__file__).resolve().parent
# What the data package may use of chainrule: itself, the RNG and the errors.
ALLOWED = ("chainrule.data", "chainrule.rng", "chainrule.errors")


def _imports(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m == "chainrule" or m.startswith("chainrule.")}


def _allowed(module: str) -> bool:
    return any(module == a or module.startswith(a + ".") for a in ALLOWED)


def test_the_data_package_imports_nothing_above_it() -> None:
    above = {
        f"{path.relative_to(PACKAGE)}: {m}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for m in _imports(path.read_text(encoding="utf-8"))
        if not _allowed(m)
    }
    assert not above


def test_the_check_sees_a_lazy_import_from_above() -> None:
    source = "def f():\n    from chainrule.saving.atomic import atomic_open\n"
    assert [m for m in _imports(source) if not _allowed(m)] == ["chainrule.saving.atomic"]
