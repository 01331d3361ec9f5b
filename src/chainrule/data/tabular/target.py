"""The target column: which task it poses, and its values as an estimator's ``y``."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.data.tabular.columns import is_numeric, looks_numeric, quote, rows_text, to_numbers

Array = npt.NDArray[Any]

TASKS = ("classification", "regression")
# An integer target with at most this many distinct values is taken to be class labels.
MAX_INFERRED_CLASSES = 20


def infer_task(y: Any) -> str:
    """The task, "classification" or "regression", that the target column `y` poses.

    Text, booleans and categories are labels; so is an integer-valued column with at most
    `MAX_INFERRED_CLASSES` distinct values that repeat (at most a fifth of the rows, or 2).
    Other numbers are regression targets.
    """
    if not is_numeric(y):
        # Text that is mostly numbers is a damaged numeric column, not a set of labels.
        looks_numeric(
            y, f"target column {y.name!r}", hint="--task classification to treat it as labels"
        )
        return "classification"
    return task_of_numbers(y.dropna().to_numpy(dtype=np.float64))


def task_of_numbers(values: Array) -> str:
    """`infer_task` for a numeric target whose missing values (NaN) are left out.

    Labels if every value is a whole number and at most ``min(MAX_INFERRED_CLASSES,
    max(2, n // 5))`` distinct values occur; otherwise (fractions, infinities, no values)
    a regression target. NumPy only: the recipe uses it on arrays.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0 or not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        return "regression"
    n_unique = len(np.unique(values))
    limit = min(MAX_INFERRED_CLASSES, max(2, len(values) // 5))
    return "classification" if n_unique <= limit else "regression"


def encode_target(y: Any, task: str, name: str) -> Array:
    """The target column as the estimator's ``y``: labels (classification) or float64 values.

    Labels keep their type: text becomes a NumPy string array, booleans stay booleans, whole
    numbers become int64. Raises ValueError naming the row of a missing or non-numeric value.
    """
    what = f"target column {name!r}"
    if len(y) == 0:
        raise ValueError(f"{what} is empty")
    if task == "regression":
        values = to_numbers(y, what)
        if np.isnan(values).any():
            raise ValueError(f"{what} has a missing value in {rows_text(np.isnan(values))}")
        return values
    if task != "classification":
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    missing = y.isna().to_numpy()
    if missing.any():
        raise ValueError(f"{what} has a missing value in {rows_text(missing)}")
    kind = y.dtype.kind
    if kind == "b":
        labels = y.to_numpy(dtype=bool)
    elif kind in "iu":
        labels = y.to_numpy(dtype=np.int64)
    elif kind == "f":
        labels = y.to_numpy(dtype=np.float64)
        if np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
    else:
        labels = y.astype(str).to_numpy(dtype=str)
    if len(np.unique(labels)) < 2:
        only = labels[0].item() if isinstance(labels[0], np.generic) else labels[0]
        raise ValueError(f"{what} has a single class ({quote(only)}): there is nothing to learn")
    return labels
