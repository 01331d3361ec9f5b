"""Old paths of modules that moved, still importable.

Two kinds of old path:

- `MOVED`: internal-looking paths, importable with a DeprecationWarning. The alias module
  holds the new module's names (``old.save is new.save``), so pickles made before the move,
  which name classes by their old module, still load.
- `SAME`: public names that users and the docs import (``chainrule.datasets``,
  ``chainrule.augment``, ``chainrule.plotting``). They stay public for good, so they import
  silently, and as the very same module object as the new path (monkeypatching either one
  patches both).

An import finder rather than stub files: the old files are gone, so version control sees the
moves as renames, and the top level holds only the public façade, errors and the RNG.
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
    "chainrule.tabular": "chainrule.data.tabular",
    "chainrule.tabular.columns": "chainrule.data.tabular.columns",
    "chainrule.tabular.model": "chainrule.data.tabular.model",
    "chainrule.tabular.preprocessor": "chainrule.data.tabular.preprocessor",
    "chainrule.tabular.target": "chainrule.data.tabular.target",
    "chainrule.tabular.serialize": "chainrule.saving.tabular",
    "chainrule.plot_style": "chainrule.viz.plot_style",
    "chainrule._html": "chainrule.viz.html",
}
SAME = {
    "chainrule.datasets": "chainrule.data.datasets",
    "chainrule.augment": "chainrule.data.augment",
    "chainrule.plotting": "chainrule.viz.plotting",
}
# Names renamed in the move, still reachable under the old module path.
RENAMED = {"chainrule.modelspec": {"build_network": "rebuild_network"}}


class _Aliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name in MOVED or name in SAME:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # an ordinary module object

    def exec_module(self, module: ModuleType) -> None:
        if module.__name__ in SAME:
            # The import system hands out what sys.modules holds after this: the new module.
            sys.modules[module.__name__] = importlib.import_module(SAME[module.__name__])
            return
        new = importlib.import_module(MOVED[module.__name__])
        warnings.warn(
            f"{module.__name__} moved to {new.__name__}", DeprecationWarning, stacklevel=2
        )
        names = {k: v for k, v in vars(new).items() if not k.startswith("__")}
        names["__all__"] = list(getattr(new, "__all__", ()))
        for old, current in RENAMED.get(module.__name__, {}).items():
            names[old] = names[current]
        vars(module).update(names)
        if hasattr(new, "__path__"):
            module.__path__ = []  # a package: its old submodule paths come through here too


def install() -> None:
    """Let the old module paths import (once per process)."""
    if not any(isinstance(f, _Aliases) for f in sys.meta_path):
        # First, not last: a folder left at an old path (a stale __pycache__ after an update)
        # would otherwise import as an empty namespace package. Only the names above match.
        sys.meta_path.insert(0, _Aliases())
