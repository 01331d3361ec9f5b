"""chainrule: neural networks from the chain rule up.

``import chainrule as cr`` gives the public API (see the README). Submodules load on first use,
so ``import chainrule`` needs only NumPy and stays fast; optional extras (scikit-learn,
matplotlib, Dask) are imported only by the parts that use them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from chainrule import _moved
from chainrule._version import __version__
from chainrule.autograd import Tensor, enable_grad, no_grad
from chainrule.errors import ModelFileError, TrainingDiverged
from chainrule.rng import set_seed

# Old module paths still import: chainrule.modelfile, ... with a DeprecationWarning;
# chainrule.plotting, .datasets, .augment (public) as the modules in viz/ and data/.
_moved.install()

# Public name -> module that defines it (loaded lazily by __getattr__ below).
_LAZY = {
    "grad_check": "chainrule.autograd.gradcheck",
    "fit": "chainrule.training",
    "History": "chainrule.training",
    "EarlyStopping": "chainrule.training",
    "ModelCheckpoint": "chainrule.training",
    "MLPClassifier": "chainrule.estimators",
    "MLPRegressor": "chainrule.estimators",
    "save": "chainrule.saving.modelfile",
    "load": "chainrule.saving.modelfile",
    "export_onnx": "chainrule.onnx_export",
    "NeuralNetClassifier": "chainrule.estimators",
    "NeuralNetRegressor": "chainrule.estimators",
}
_SUBMODULES = {
    "autograd",
    "fast",
    "nn",
    "optim",
    "viz",
    "data",
    "training",
    "callbacks",
    "estimators",
    "saving",
    "modelfile",
    "recipe",
    "plotting",  # chainrule.viz.plotting, under its public name
    "cli",
    "lecture",
}

# Names that need an optional extra (scikit-learn, matplotlib, ...) stay out of __all__, so that
# `from chainrule import *` works with NumPy alone; they are still reachable as attributes.
_NEEDS_EXTRAS = {
    "MLPClassifier",
    "MLPRegressor",
    "NeuralNetClassifier",
    "NeuralNetRegressor",
    "estimators",
    "recipe",
    "plotting",
    "cli",
}
# Old module paths, still reachable (with a DeprecationWarning) but not exported.
_MOVED = {"modelfile"}

__all__ = [
    "ModelFileError",
    "Tensor",
    "TrainingDiverged",
    "__version__",
    "enable_grad",
    "no_grad",
    "set_seed",
    *sorted((set(_LAZY) | _SUBMODULES) - _NEEDS_EXTRAS - _MOVED),
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"chainrule.{name}")
    else:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    globals()[name] = value  # cache: later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # let type checkers and IDEs see the lazy names
    from chainrule import nn, optim, viz  # noqa: F401
    from chainrule.autograd.gradcheck import grad_check  # noqa: F401
