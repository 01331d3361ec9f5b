"""Class labels in a model file: JSON values plus the dtype that gives them back exactly.

``{"dtype": "<U5", "values": [...]}`` (or ``"object"`` for mixed Python values). Only bool,
integer, float and fixed-width text dtypes are accepted, and a text width is bounded by the
labels the file holds, so a few bytes cannot ask for gigabytes.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from chainrule.errors import ModelFileError

__all__ = ["labels_from_json", "labels_json"]

# Label dtypes a file may name: bool, ints, uints, floats and fixed-width text.
_LABEL_DTYPE = re.compile(r"[<>|=]?([biufU])(\d{1,6})")
# A text label dtype may be this many characters wider than its longest label (labels cut
# from a wider array keep its width); `save` writes the exact width.
_LABEL_SLACK = 64


def labels_json(labels: np.ndarray) -> dict[str, Any]:
    labels = np.asarray(labels)
    if labels.dtype.kind == "O":
        values = labels.tolist()
        if not all(isinstance(v, str | bool | int | float) for v in values):
            raise ValueError("class labels must be strings, numbers or booleans to be saved")
        return {"dtype": "object", "values": values}
    if not _LABEL_DTYPE.fullmatch(labels.dtype.str):
        raise ValueError(f"class labels of dtype {labels.dtype} cannot be saved")
    if labels.dtype.kind == "U":  # the exact width, which `load` bounds by the labels held
        labels = labels.astype(f"<U{max(max((len(v) for v in labels.tolist()), default=1), 1)}")
    return {"dtype": labels.dtype.str, "values": labels.tolist()}


def labels_from_json(data: Any, n: int) -> np.ndarray:
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise ValueError("the class labels are malformed")
    values, dtype = data["values"], data.get("dtype")
    if len(values) != n:
        raise ValueError(f"{len(values)} class labels for {n} outputs")
    scalar = (str, bool, int, float)
    if dtype == "object":
        if not all(isinstance(v, scalar) for v in values):
            raise ValueError("class labels must be strings, numbers or booleans")
        out = np.empty(n, dtype=object)
        out[:] = values
        return out
    match = _LABEL_DTYPE.fullmatch(dtype) if isinstance(dtype, str) else None
    if match is None:
        raise ValueError(f"class labels have an unsupported dtype {str(dtype)[:20]!r}")
    expected = {"b": bool, "i": int, "u": int, "f": (int, float), "U": str}[match.group(1)]
    if not all(
        isinstance(v, expected) and (expected is bool) == isinstance(v, bool) for v in values
    ):
        raise ValueError(f"class labels do not match their dtype {dtype}")
    if match.group(1) == "U":
        # The width allocates n × width × 4 bytes: bound it by the text the file holds, so a
        # few bytes declaring "<U999999" cannot ask for gigabytes.
        longest = max((len(v) for v in values), default=0)
        if int(match.group(2)) > max(longest, 1) + _LABEL_SLACK:
            raise ModelFileError(
                f"class labels declare the dtype {dtype}, but the longest of them holds "
                f"{longest} characters"
            )
    try:
        return np.array(values, dtype=np.dtype(dtype))
    except (TypeError, ValueError, OverflowError) as exc:  # "<i3", or 300 as an "<i1"
        raise ModelFileError(f"class labels do not fit their dtype {dtype}: {exc}") from exc
