"""Tables from files: CSV (delimiter, decimal comma and gzip detected) and Parquet.

`read_table` gives a pandas DataFrame or a ValueError that names the file and, where it can,
the line or column: not text, empty, a ragged row, duplicate column names, a delimiter that
does not fit the header. pandas (and pyarrow for Parquet) are imported when a table is read.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_DELIMITERS = (",", ";", "\t", "|")
_PARQUET = (".parquet", ".pq")
_DECIMAL_COMMA = r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?"


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            'reading tables needs pandas, which is not installed: pip install "chainrule[data]"'
        ) from exc
    return pd


def check_input(path: str | os.PathLike[str]) -> Path:
    """`path` as a Path; FileNotFoundError or IsADirectoryError unless it names a file."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, f"no such file: {str(p)!r}", str(p))
    if p.is_dir():
        raise IsADirectoryError(21, f"{str(p)!r} is a folder, not a file", str(p))
    return p


def sniff_delimiter(head: str) -> str:
    """The delimiter of a CSV file from its first line: the most frequent of , ; tab |."""
    first = head.splitlines()[0] if head else ""
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_table(
    path: str | os.PathLike[str], sep: str | None = None, text_columns: Sequence[str] = ()
) -> Any:
    """A pandas DataFrame from a CSV (delimiter detected unless `sep`) or Parquet file.

    `text_columns` of a CSV file are read as written (``007`` stays ``"007"``), not as numbers.
    """
    pd = _pandas()
    p = check_input(path)
    name = str(p)
    header = None
    if p.suffix.lower() in _PARQUET:
        try:
            frame = pd.read_parquet(p)
        except ImportError as exc:
            raise ImportError(
                f"reading the Parquet file {name!r} needs pyarrow: pip install pyarrow"
            ) from exc
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read {name!r} as Parquet: {exc}") from exc
    else:
        with open(p, "rb") as raw:
            gz = raw.read(2) == b"\x1f\x8b"  # gzip's magic number, whatever the suffix
        kind = "gzip'd UTF-8 text (CSV)" if gz else "UTF-8 text (CSV)"
        try:
            with (gzip.open if gz else open)(p, "rt", encoding="utf-8-sig") as f:
                head = f.read(1 << 16)
        except UnicodeDecodeError:
            raise ValueError(f"{name!r} is not a {kind} file") from None
        except (OSError, EOFError) as exc:  # a damaged or truncated gzip stream
            raise ValueError(f"{name!r} is a damaged gzip file: {exc}") from None
        if "\x00" in head:
            raise ValueError(f"{name!r} is a binary file, not CSV text")
        delimiter = sep or sniff_delimiter(head)
        header = _header(head, delimiter)
        try:
            frame = pd.read_csv(
                p,
                sep=delimiter,
                encoding="utf-8-sig",
                skipinitialspace=True,
                compression="gzip" if gz else "infer",
                dtype=dict.fromkeys(text_columns, str) or None,
            )
        except pd.errors.EmptyDataError:
            raise ValueError(f"{name!r} is empty") from None
        except pd.errors.ParserError as exc:
            detail = " ".join(str(exc).split()).removeprefix("Error tokenizing data. C error: ")
            raise ValueError(f"cannot read {name!r} as CSV: {detail}") from None
        except UnicodeDecodeError:
            raise ValueError(f"{name!r} is not a {kind} file") from None
        except (OSError, EOFError) as exc:
            raise ValueError(f"{name!r} is a damaged gzip file: {exc}") from None
        _check_delimiter(frame, name, delimiter)
        if delimiter != ",":
            # ';'-separated files from spreadsheets write 1,5 for 1.5: read those as numbers
            for column in _decimal_comma_columns(frame):
                text = frame[column].astype("string").str.strip().str.replace(",", ".")
                frame[column] = pd.to_numeric(text).astype("float64")
    if len(frame) == 0:
        raise ValueError(f"{name!r} has no data rows")
    if header is not None:
        _check_unique(header, name)  # pandas has already renamed a second 'label' 'label.1'
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_unique(list(frame.columns), name)
    return frame


def _header(head: str, delimiter: str) -> list[str] | None:
    """The column names of a CSV file as written in its first record (None if unreadable)."""
    try:
        return [c.strip() for c in next(csv.reader(io.StringIO(head), delimiter=delimiter))]
    except (StopIteration, csv.Error):
        return None


def _check_unique(columns: list[Any], name: str) -> None:
    """ValueError naming the duplicated column names: a second target column would leak the
    answer into the features, and any duplicate makes columns ambiguous by name."""
    seen: dict[str, list[int]] = {}
    for i, c in enumerate(columns, start=1):
        seen.setdefault(str(c).strip(), []).append(i)
    dup = {c: where for c, where in seen.items() if len(where) > 1}
    if dup:
        shown = "; ".join(
            f"{c[:80]!r} (columns {', '.join(map(str, where))})"
            for c, where in list(dup.items())[:5]
        )
        raise ValueError(
            f"{name!r} has duplicate column names: {shown}; rename or remove the copies"
        )


def _check_delimiter(frame: Any, name: str, delimiter: str) -> None:
    """ValueError if the file read as one column whose name holds another delimiter."""
    if len(frame.columns) != 1:
        return
    header = str(frame.columns[0])
    others = [d for d in _DELIMITERS if d != delimiter and d in header]
    if others:
        d = "\\t" if others[0] == "\t" else others[0]
        raise ValueError(
            f"{name!r} reads as a single column {header[:60]!r} with the delimiter "
            f"{delimiter!r}, but its header looks separated by {others[0]!r}: "
            f"use --sep '{d}' (or leave --sep out to detect it)"
        )


def _decimal_comma_columns(frame: Any) -> list[Any]:
    """Text columns whose every value is a number written with a decimal comma (1,5)."""
    found = []
    for column in frame.columns:
        values = frame[column]
        if getattr(values.dtype, "kind", "O") in "biufcmM":  # not text (object or str)
            continue
        text = values.dropna().astype(str).str.strip()
        if len(text) and text.str.fullmatch(_DECIMAL_COMMA).all():
            found.append(column)
    return found


def column_list(frame: Any, limit: int = 12) -> str:
    cols = [str(c) for c in frame.columns]
    shown = ", ".join(cols[:limit])
    return shown + (f", ... ({len(cols)} in all)" if len(cols) > limit else "")


def require_column(frame: Any, column: str, source: str) -> None:
    """ValueError naming the file and its columns if `column` is not one of them."""
    if column not in frame.columns:
        raise ValueError(
            f"column {column!r} not found in {source}; its columns are: {column_list(frame)}"
        )
