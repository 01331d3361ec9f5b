"""`TabularPreprocessor`: numeric columns standardized, categorical ones one-hot encoded."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.data.tabular.columns import (
    category_text,
    first_row,
    looks_numeric,
    quote,
    rows_text,
    to_numbers,
)

Array = npt.NDArray[Any]

# A categorical column may hold at most this many categories, and this many characters of
# category names in all (the model file's description holds at most 16 MiB).
MAX_CATEGORIES = 10_000
MAX_CATEGORY_TEXT = 1 << 20
# A text column with this many number-like categories is probably a damaged numeric one.
MANY_NUMERIC_CATEGORIES = 20


def as_frame(data: Any) -> Any:
    """`data` as a pandas DataFrame: a DataFrame as is, a mapping of columns converted.

    A table read without pandas (``chainrule.data.plain_csv.Table``, which has the DataFrame
    methods used here) is taken as is.
    """
    if getattr(data, "__chainrule_table__", False):
        return data
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame(data)
    raise ValueError(
        "a tabular model takes a pandas DataFrame (or a dict of columns) with the training "
        f"columns by name, got {type(data).__name__}"
    )


class TabularPreprocessor:
    """Numeric columns standardized, categorical columns one-hot encoded (see the module doc).

    Parameters
    ----------
    categorical : iterable of str, optional
        Columns to treat as categories even if they hold numbers.

    Attributes
    ----------
    columns_ : list of dict
        One record per input column, in order: ``{"name", "kind": "numeric", "mean",
        "scale", "missing"}`` or ``{"name", "kind": "categorical", "categories"}``.
    feature_names_ : list of str
        Names of the output features (``"color=red"`` for a one-hot unit).
    """

    def __init__(self, categorical: Iterable[str] = ()) -> None:
        self.categorical = tuple(categorical)
        self.columns_: list[dict[str, Any]] = []

    @property
    def input_columns(self) -> list[str]:
        return [c["name"] for c in self.columns_]

    @property
    def feature_names_(self) -> list[str]:
        names: list[str] = []
        for col in self.columns_:
            if col["kind"] == "numeric":
                names.append(col["name"])
            else:
                names += [f"{col['name']}={v}" for v in col["categories"]]
        return names

    def fit(self, frame: Any) -> TabularPreprocessor:
        """Learn each column's kind and statistics from the DataFrame `frame`."""
        frame = as_frame(frame)
        if frame.shape[1] == 0:
            raise ValueError("the data has no feature columns (only the target)")
        if not frame.columns.is_unique:
            dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            raise ValueError(f"duplicate column names: {', '.join(repr(c) for c in dup[:5])}")
        unknown = [c for c in self.categorical if c not in frame.columns]
        if unknown:
            raise ValueError(f"categorical column {unknown[0]!r} is not in the data")
        self.columns_ = []
        for name in frame.columns:
            series = frame[name]
            label = f"column {quote(str(name))}"
            if name in self.categorical or not looks_numeric(series, label):
                text = category_text(series)
                cats = sorted(set(text[series.notna().to_numpy()].tolist()))
                _check_categories(cats, label, warn=name not in self.categorical)
                self.columns_.append({"name": str(name), "kind": "categorical", "categories": cats})
                continue
            values = to_numbers(series, label)
            ok = values[~np.isnan(values)]
            if len(ok) == 0:
                raise ValueError(f"{label} has no values")
            mean = float(ok.mean())
            scale = float(ok.std())
            if not (math.isfinite(scale) and scale > 0):
                scale = 1.0  # a constant column: centring alone makes it 0
            self.columns_.append(
                {
                    "name": str(name),
                    "kind": "numeric",
                    "mean": mean,
                    "scale": scale,
                    "missing": int(len(values) - len(ok)),
                }
            )
        return self

    def transform(
        self, frame: Any, *, dtype: npt.DTypeLike = np.float32, unknown: str = "error"
    ) -> Array:
        """The network's input matrix (n_rows, n_features) for the DataFrame `frame`.

        Columns are found by name (extra columns are ignored). ``unknown="error"`` rejects a
        category not seen in training, naming the column and row; ``"ignore"`` encodes it
        as all zeros, like a missing value.
        """
        frame = as_frame(frame)
        if not self.columns_:
            raise ValueError("this TabularPreprocessor is not fitted")
        if unknown not in ("error", "ignore"):
            raise ValueError(f"unknown must be 'error' or 'ignore', got {unknown!r}")
        missing = [c["name"] for c in self.columns_ if c["name"] not in frame.columns]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            raise ValueError(
                f"the data lacks {len(missing)} column(s) the model was trained on: {shown}"
            )
        n = len(frame)
        out = np.zeros((n, len(self.feature_names_)), dtype=dtype)
        j = 0
        for col in self.columns_:
            series, label = frame[col["name"]], f"column {quote(col['name'])}"
            if col["kind"] == "numeric":
                values = to_numbers(series, label)
                values = np.where(np.isnan(values), col["mean"], values)
                z = (values - col["mean"]) / col["scale"]
                huge = np.abs(z) > np.finfo(out.dtype).max  # would become ∞ in `out`
                if huge.any():
                    raise ValueError(
                        f"{label}, {rows_text(huge)}: {values[first_row(huge) - 1]:.3g} is "
                        f"{np.abs(z[huge][0]):.2g} standard deviations from the training mean, "
                        f"beyond the {np.dtype(out.dtype).name} range"
                    )
                out[:, j] = z
                j += 1
                continue
            cats = col["categories"]
            present = series.notna().to_numpy()
            text = category_text(series)
            index = {c: k for k, c in enumerate(cats)}
            codes = np.fromiter((index.get(v, -1) for v in text), dtype=np.int64, count=n)
            bad = (codes < 0) & present
            if bad.any() and unknown == "error":
                row = first_row(bad)
                shown = ", ".join(quote(c, 40) for c in cats[:10]) + (
                    ", ..." if len(cats) > 10 else ""
                )
                raise ValueError(
                    f"{label}, {rows_text(bad)}: unknown category {quote(text[row - 1])} "
                    f"(seen in training: {shown})"
                )
            rows = np.flatnonzero(codes >= 0)
            out[rows, j + codes[rows]] = 1
            j += len(cats)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"categorical": list(self.categorical), "columns": [dict(c) for c in self.columns_]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TabularPreprocessor:
        """Rebuild from `to_json` output, checking every field (ValueError if malformed)."""
        prep = cls(_strings(data.get("categorical", []), "categorical"))
        columns = data.get("columns")
        if not isinstance(columns, list) or not columns:
            raise ValueError("preprocessing has no column list")
        for col in columns:
            if not isinstance(col, dict) or not isinstance(col.get("name"), str):
                raise ValueError(f"malformed column record {str(col)[:80]}")
            if col.get("kind") == "numeric":
                mean, scale = col.get("mean"), col.get("scale")
                if not all(_finite(v) for v in (mean, scale)) or scale <= 0:
                    raise ValueError(f"column {col['name']!r} has an invalid mean or scale")
                record = {"name": col["name"], "kind": "numeric", "mean": float(mean)}
                record.update(scale=float(scale), missing=int(col.get("missing", 0)))
            elif col.get("kind") == "categorical":
                cats = _strings(col.get("categories"), f"categories of {col['name']!r}")
                record = {"name": col["name"], "kind": "categorical", "categories": cats}
            else:
                raise ValueError(f"column {col['name']!r} has unknown kind {col.get('kind')!r}")
            prep.columns_.append(record)
        return prep


def _check_categories(cats: list[str], label: str, *, warn: bool) -> None:
    """Refuse, before training, a column the model could not hold; warn on a half-numeric one.

    Each category becomes an input of the network and its name goes into the model file, whose
    description is limited (`chainrule.saving.archive.MAX_META_BYTES`): a column of free text or ids
    would train for minutes and then fail to save.
    """
    if len(cats) > MAX_CATEGORIES:
        raise ValueError(
            f"{label} has {len(cats)} distinct values, too many categories (at most "
            f"{MAX_CATEGORIES}): it looks like an id or free text; drop it (--drop)"
        )
    size = sum(len(c) for c in cats)
    if size > MAX_CATEGORY_TEXT:
        longest = max(cats, key=len)
        raise ValueError(
            f"{label} holds {size} characters of category names (at most "
            f"{MAX_CATEGORY_TEXT}; the longest is {quote(longest)}): drop it (--drop)"
        )
    if warn:
        numeric = [c for c in cats if _is_number(c)]
        if len(numeric) >= MANY_NUMERIC_CATEGORIES:
            warnings.warn(
                f"{label} mixes numbers and text, so it is one-hot encoded as "
                f"{len(cats)} categories, {len(numeric)} of which look like numbers (e.g. "
                f"{quote(numeric[0], 20)}); fix its text values to use it as a number, or "
                "name it with --categorical to keep it as categories",
                stacklevel=4,
            )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _strings(x: Any, what: str) -> list[str]:
    if not isinstance(x, list) or not all(isinstance(v, str) for v in x):
        raise ValueError(f"{what} must be a list of strings")
    return list(x)
