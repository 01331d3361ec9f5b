"""Values too large for the network's dtype, refused before training or prediction.

A float32 network holds magnitudes up to 3.4e38 and a float64 one up to 1.8e308. A value
cast beyond that becomes ∞ (predictions of NaN, or of class 0 with only a warning), so
prediction refuses any input whose magnitude exceeds the dtype's largest float, M. Training
squares targets (squared error) and sums products of inputs and weights, so it needs more
room: inputs and regression targets must stay within √M (1.8e19 in float32, 1.3e154 in
float64), beyond which the loss or its gradient overflows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.data import find_large

Array = np.ndarray


def train_limit(dtype: Any) -> float:
    """√M: the largest magnitude of an input or regression target that training accepts."""
    return math.sqrt(float(np.finfo(dtype).max))


def predict_limit(dtype: Any) -> float:
    """M: the largest magnitude of an input that prediction accepts (it must fit the dtype)."""
    return float(np.finfo(dtype).max)


def check_range(a: Array, limit: float, dtype: Any, what: str, names: Any = None) -> None:
    """ValueError naming the first value of `a` with |value| > `limit`, its row and column.

    `names` (the estimator's ``feature_names_in_``) names the column, else its number.
    """
    if a.dtype.kind not in "fc" or a.size == 0:
        return
    if hasattr(a, "tocoo"):  # scipy.sparse: only the stored values can be large
        coo = a.tocoo()
        hit = find_large(coo.data, limit)
        if hit is None:
            return
        value, where = coo.data[hit[0]], (int(coo.row[hit[0]]), int(coo.col[hit[0]]))
    else:
        where = find_large(a, limit)
        if where is None:
            return
        value = a[where]
    place = f"row {where[0]}"
    if len(where) > 1:
        column = names[where[1]] if names is not None else where[1]
        place += f", column {column!r}" if names is not None else f", column {column}"
    raise ValueError(
        f"{what} holds {value:.3g} at {place}, beyond what a {np.dtype(dtype).name} network "
        f"can handle (|value| ≤ {limit:.2g}); rescale the data (e.g. standardize it)"
        + (" or use dtype='float64'" if np.dtype(dtype) == np.float32 else "")
    )
