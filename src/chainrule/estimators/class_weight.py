"""`class_weight` of `MLPClassifier`: scikit-learn's semantics, as per-sample weights.

"balanced" weighs class c by n / (k · n_c) (n samples, k classes, n_c of class c), so every
class carries the same total weight; a dict ``{label: weight}`` gives the weights by label (1
for labels it leaves out). The estimator multiplies these into ``sample_weight``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

Array = np.ndarray


def check_class_weight(cw: Any) -> None:
    """ValueError unless `cw` is None, "balanced" or a dict of non-negative numbers."""
    if not (cw is None or (isinstance(cw, str) and cw == "balanced") or isinstance(cw, Mapping)):
        raise ValueError(
            f"class_weight must be None, 'balanced' or a dict {{label: weight}}, got {cw!r}"
        )
    if isinstance(cw, Mapping):
        for label, w in cw.items():
            ok = isinstance(w, numbers.Real) and not isinstance(w, bool)
            if not ok or not np.isfinite(w) or w < 0:
                raise ValueError(
                    f"class_weight[{label!r}] must be a non-negative number, got {w!r}"
                )


def _equal(labels: Array, key: Any) -> Array:
    """``labels == key`` elementwise, False where they do not compare (e.g. str and int)."""
    try:
        return np.asarray(labels == key, dtype=bool).reshape(labels.shape)
    except (TypeError, ValueError):
        return np.zeros(labels.shape, dtype=bool)


def sample_weights(
    cw: str | Mapping[Any, float], classes: Array, y: Array, *, incremental: bool, multilabel: bool
) -> Array:
    """The class weight of each sample; `y` holds positions in `classes`."""
    if multilabel:
        raise ValueError(
            "class_weight is not supported for multilabel y; pass sample_weight instead"
        )
    if isinstance(cw, str):  # "balanced"
        if incremental:
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: one batch does not "
                "show the class frequencies. Compute the weights once on (a sample of) all "
                "labels, sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y), and pass them as a dict"
            )
        counts = np.bincount(y, minlength=len(classes))
        missing = classes[counts == 0]
        if len(missing):
            raise ValueError(
                f"class_weight='balanced' needs samples of every class; y has none of "
                f"{missing.tolist()}"
            )
        per_class = len(y) / (len(classes) * counts)
    else:
        unknown = [k for k in cw if not np.any(_equal(classes, k))]
        if unknown:
            raise ValueError(
                f"class_weight has labels that are not classes: {unknown!r}; the classes "
                f"are {classes.tolist()!r}"
            )
        per_class = np.ones(len(classes))
        for i, label in enumerate(classes):
            key = label.item() if isinstance(label, np.generic) else label
            if key in cw:
                per_class[i] = cw[key]
    return per_class[y]
