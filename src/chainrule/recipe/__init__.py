"""The training recipe as tools: from a first look at the data to an ensemble.

The lecture closes with a recipe for training neural networks (after Karpathy's "A Recipe
for Training Neural Networks", 2019). Each step is a tool here:

1. become one with the data ........ `summarize(X, y)`
2. end-to-end pipeline, baselines .. `baselines(X, y)`
3. overfit a small batch ........... `overfit_batch(estimator, X, y)`
   and find a learning rate ........ `lr_find(estimator, X, y)`
4. regularize ...................... augmentation (`gaussian_noise`, `mixup`, `random_shift`),
                                     and the estimators' l1, l2, dropout, early_stopping
5. tune ............................ `tune(estimator, space, X, y, n_trials)`
6. squeeze out the juice ........... `Ensemble(estimator, n_members)`

`run_recipe` runs them all and `write_report` writes the Markdown report (``chainrule
recipe`` on the command line). `tune` and `Ensemble` run on a Dask cluster when given
``scheduler=`` or ``n_workers=``. Tools needing scikit-learn, Optuna or Dask import them when
first used, with an ImportError naming the extra to install.
"""

from __future__ import annotations

import importlib
from typing import Any

from chainrule.data.augment import gaussian_noise, mixup, random_shift

# Imported eagerly (they need only NumPy at import): a function named like its module
# (summarize, baselines, lr_find, tune) must be bound here, after its module, or the
# package attribute would be the module.
from chainrule.recipe.baselines import baselines
from chainrule.recipe.lr_find import LRFindResult, lr_find
from chainrule.recipe.overfit import OverfitResult, overfit_batch
from chainrule.recipe.space import log_uniform, uniform
from chainrule.recipe.summarize import Summary, summarize
from chainrule.recipe.tune import TuneResult, tune

# Loaded on first use: they subclass scikit-learn classes or draw figures.
_LAZY = {
    "Ensemble": "chainrule.recipe.ensemble",
    "run_recipe": "chainrule.recipe.workflow",
    "RecipeResult": "chainrule.recipe.workflow",
    "write_report": "chainrule.recipe.report",
}

__all__ = [
    "LRFindResult",
    "OverfitResult",
    "Summary",
    "TuneResult",
    "baselines",
    "gaussian_noise",
    "log_uniform",
    "lr_find",
    "mixup",
    "overfit_batch",
    "random_shift",
    "summarize",
    "tune",
    "uniform",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule.recipe' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
