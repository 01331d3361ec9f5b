"""Old paths of modules that moved, still importable (with a DeprecationWarning).

An import finder rather than stub files: the old files are gone, so version control sees the
moves as renames. The alias module holds the new module's names (``old.save is new.save``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

MOVED = {
    "chainrule.archive": "chainrule.saving.archive",
    "chainrule.modelfile": "chainrule.saving.modelfile",
    "chainrule.modelspec": "chainrule.saving.modelspec",
    "chainrule.report": "chainrule.cli.report",
}
# Names renamed in the move, still reachable under the old module path.
RENAMED = {"chainrule.modelspec": {"build_network": "rebuild_network"}}


class _Aliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(name, self) if name in MOVED else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # an ordinary module object

    def exec_module(self, module: ModuleType) -> None:
        new = importlib.import_module(MOVED[module.__name__])
        warnings.warn(
            f"{module.__name__} moved to {new.__name__}", DeprecationWarning, stacklevel=2
        )
        names = {k: v for k, v in vars(new).items() if not k.startswith("__")}
        names["__all__"] = list(getattr(new, "__all__", ()))
        for old, current in RENAMED.get(module.__name__, {}).items():
            names[old] = names[current]
        vars(module).update(names)


def install() -> None:
    """Let the old module paths import (once per process)."""
    if not any(isinstance(f, _Aliases) for f in sys.meta_path):
        sys.meta_path.append(_Aliases())
