"""scikit-learn estimators: `MLPClassifier`, `MLPRegressor`, and `NeuralNetClassifier`,
`NeuralNetRegressor` around any network.

They need scikit-learn, an optional extra: ``pip install "chainrule[sklearn]"``. ``import
chainrule`` works without it; importing this package (or ``cr.MLPClassifier``) then raises an
ImportError that says how to install it.
"""

from __future__ import annotations

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "chainrule's estimators (MLPClassifier, MLPRegressor) need scikit-learn, which is not "
        'installed: pip install "chainrule[sklearn]"'
    ) from exc

from chainrule.estimators import serialize as _serialize  # noqa: F401  (registers with cr.save)
from chainrule.estimators.classifier import MLPClassifier
from chainrule.estimators.neuralnet import NeuralNetClassifier, NeuralNetRegressor
from chainrule.estimators.regressor import MLPRegressor

# A TabularModel wraps these estimators: its kind registers with theirs.
from chainrule.saving import tabular as _tabular  # noqa: F401

__all__ = ["MLPClassifier", "MLPRegressor", "NeuralNetClassifier", "NeuralNetRegressor"]
