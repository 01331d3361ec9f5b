"""scikit-learn estimators: `MLPClassifier`, `MLPRegressor`, and `NeuralNetClassifier`,
`NeuralNetRegressor` around any network.

They need scikit-learn, an optional extra: ``pip install "chainrule[sklearn]"``. ``import
chainrule`` works without it; importing this package (or ``cr.MLPClassifier``) then raises an
ImportError that says how to install it.

The classes load on first use (they import scikit-learn, which takes most of a second), so
that the parts of this package that do not need it, such as `chainrule.estimators.params`
for the command line's help, stay quick.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

_HINT = (
    "chainrule's estimators (MLPClassifier, MLPRegressor) need scikit-learn, which is not "
    'installed: pip install "chainrule[sklearn]"'
)


def _has_sklearn() -> bool:
    try:
        return importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a broken entry
        return False


if not _has_sklearn():  # pragma: no cover - exercised in a subprocess test
    raise ImportError(_HINT)

if TYPE_CHECKING:
    from chainrule.estimators.classifier import MLPClassifier
    from chainrule.estimators.neuralnet import NeuralNetClassifier, NeuralNetRegressor
    from chainrule.estimators.regressor import MLPRegressor

# A TabularModel wraps these estimators: its kind registers with theirs.
from chainrule.saving import tabular as _tabular  # noqa: E402, F401

__all__ = ["MLPClassifier", "MLPRegressor", "NeuralNetClassifier", "NeuralNetRegressor"]

_LAZY = {
    "MLPClassifier": "chainrule.estimators.classifier",
    "MLPRegressor": "chainrule.estimators.regressor",
    "NeuralNetClassifier": "chainrule.estimators.neuralnet",
    "NeuralNetRegressor": "chainrule.estimators.neuralnet",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        importlib.import_module("chainrule.estimators.serialize")  # registers with cr.save
        value = getattr(importlib.import_module(_LAZY[name]), name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "sklearn":
            raise ImportError(_HINT) from exc
        raise
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
