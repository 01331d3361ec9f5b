"""The top-level package: every public name resolves, and the core needs NumPy alone."""

from __future__ import annotations

import subprocess
import sys

import chainrule as cr


def test_every_lazy_name_and_submodule_resolves() -> None:
    for name in sorted(cr._SUBMODULES | set(cr._LAZY)):
        assert getattr(cr, name) is not None, name


def test_star_import_gives_all() -> None:
    namespace: dict[str, object] = {}
    exec("from chainrule import *", namespace)
    assert set(cr.__all__) <= set(namespace)


def test_import_loads_no_optional_extra() -> None:
    code = (
        "import sys, chainrule as cr; cr.Tensor(1.0); cr.fit; cr.nn.Dense(2, 2); "
        "print(sorted(m for m in ('sklearn', 'matplotlib', 'pandas', 'dask', 'optuna', 'torch', "
        "'numba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
