"""Column helpers: numbers out of table columns, category names, and row numbers for errors.

Rows are counted from 1, after the header, as a user sees them in a spreadsheet.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

# Numbers beyond this magnitude are refused: squared deviations summed over any number of
# rows (the column's variance) stay far below the float64 limit of 1.8e308.
MAX_MAGNITUDE = 1e100
# Error messages quote at most this many characters of a cell.
QUOTE_LIMIT = 80
# An identifier is only told from a feature given enough rows (a few all-distinct small
# integers are common in a tiny table).
ID_MIN_ROWS = 20


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """`repr(value)`, cut to about `limit` characters: a 100 MB cell makes no 100 MB error."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def first_row(mask: Any) -> int | None:
    """The 1-based row number of the first True in `mask` (rows counted after the header)."""
    hits = np.flatnonzero(np.asarray(mask))
    return int(hits[0]) + 1 if len(hits) else None


def rows_text(mask: Any) -> str:
    hits = np.flatnonzero(np.asarray(mask))
    more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
    return f"row {int(hits[0]) + 1}{more}"


def is_numeric(series: Any) -> bool:
    kind = getattr(series.dtype, "kind", "O")
    return kind in "iuf"


def to_numbers(series: Any, what: str) -> Array:
    """float64 values of `series`; ValueError naming the first row that is not a number."""
    if is_numeric(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        import pandas as pd  # here only: numbers need no pandas (`chainrule predict`)

        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values) & series.notna().to_numpy()
        if bad.any():
            row = first_row(bad)
            raise ValueError(
                f"{what}, {rows_text(bad)}: {quote(series.iloc[row - 1])} is not a number"
            )
    if np.isinf(values).any():
        raise ValueError(f"{what}, {rows_text(np.isinf(values))}: infinite value")
    huge = np.abs(values) > MAX_MAGNITUDE  # NaN compares False
    if huge.any():
        raise ValueError(
            f"{what}, {rows_text(huge)}: {values[first_row(huge) - 1]:.3g} is too large "
            f"(at most {MAX_MAGNITUDE:.0e} in magnitude, so that means and variances stay "
            "finite); rescale the column"
        )
    return values


def category_text(series: Any) -> Array:
    """Each value as the text that names its category (None where missing).

    Whole floats print as integers, so a column read as 1.0, 2.0 (because of a gap) names
    the same categories as one read as 1, 2.
    """
    values = series.to_numpy(dtype=object)
    present = series.notna().to_numpy()
    out = np.empty(len(values), dtype=object)
    for i in np.flatnonzero(present):
        v = values[i]
        if isinstance(v, float | np.floating) and float(v).is_integer():
            v = int(v)
        out[i] = str(v)
    return out


def looks_numeric(series: Any, label: str, hint: str = "--categorical to treat it as text") -> bool:
    """Numbers, or text that is mostly numbers (then the odd value is an error)."""
    import pandas as pd

    if series.dtype.kind == "b":
        return False
    if is_numeric(series):
        return True
    present = series[series.notna()]
    if len(present) == 0:
        return False
    numbers = pd.to_numeric(present, errors="coerce")
    n_ok = int(numbers.notna().sum())
    if n_ok == len(present):
        return True  # numbers stored as objects or text
    if n_ok > 0 and n_ok >= 0.75 * len(present):
        bad = numbers.isna().to_numpy()
        row = int(np.flatnonzero(series.notna().to_numpy())[np.flatnonzero(bad)[0]]) + 1
        raise ValueError(
            f"{label}, row {row}: {quote(series.iloc[row - 1])} is not a number (the column "
            f"is mostly numbers; fix the value, or pass {hint})"
        )
    return False


def id_columns(frame: Any) -> list[Any]:
    """Columns of integers or text whose values are all different (identifiers, names).

    Such a column cannot generalize: one-hot encoded it gives a category per row, and as a
    number (a row counter) it ranks rows by when they were recorded. Floats are not
    identifiers: continuous measurements are all different as a rule.
    """
    n = len(frame)
    if n < ID_MIN_ROWS:
        return []
    found = []
    for name in frame.columns:
        values = frame[name]
        if values.dtype.kind == "f" or values.dtype.kind == "b" or values.isna().any():
            continue
        if values.dtype.kind == "O":
            import pandas as pd

            # Mostly numbers with some text is a typo the preprocessing reports, not an ID.
            if pd.to_numeric(values, errors="coerce").notna().mean() > 0.5:
                continue
        if values.nunique() == n:
            found.append(name)
    return found
