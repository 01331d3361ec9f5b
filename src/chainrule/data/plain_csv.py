"""Plain CSV tables read with the standard library, exactly as `io.read_table` reads them.

``chainrule predict`` would spend most of its start-up importing pandas. For a plain, small
CSV or TSV file (also gzip'd) this module reads the columns a model needs as pandas'
``read_csv`` would, with the options `io.read_table` gives it: the same delimiter detection,
header, quoting (fields in ``"…"`` may hold delimiters, newlines and doubled quotes), spaces
after a delimiter skipped, pandas' default missing-value strings (`NA_VALUES`), and each
column's type inferred as pandas infers it:

- every present value an integer → int64 (float64 if any is missing);
- every present value a number → float64, missing values NaN;
- otherwise text, missing values None (pandas: NaN), each value as written.

Where it cannot be sure of reading what pandas reads, `read` raises `Unsure` and the caller
uses pandas: Parquet, other compressions, large files, a row whose field count differs from
the header's, empty or duplicate column names, numbers of more than 17 significant digits
or near the float64 limits (where pandas' converter might round otherwise than Python's),
booleans, a decimal comma, spaces or tabs around a value, and what `csv` finds malformed. Errors are
pandas' path's business too: a file that would fail there raises `Unsure` here.

`Table` and `Column` have the few DataFrame and Series methods that prediction uses.
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.data.files import _DELIMITERS, sniff_delimiter  # the same rule as read_table

__all__ = ["NA_VALUES", "Column", "Table", "Unsure", "read"]

# pandas' default missing-value strings (`pandas._libs.parsers.STR_NA_VALUES`; a test checks
# this copy against the installed pandas).
NA_VALUES = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
# Files (after decompression) above this size go to pandas, which reads them faster than
# the `csv` module once its import is paid for.
MAX_BYTES = 4 << 20
_SUFFIXES = ("", ".csv", ".tsv", ".txt", ".dat")
# Numbers read here: at most 17 significant digits (what `repr` of a float writes) and a
# decimal exponent far from overflow and subnormals, which pandas' converter and Python's
# `float` both round to the nearest float64 (a test compares the two on many values).
_NUMBER = re.compile(
    r"[+-]?(?P<int>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[+-]?\d{1,3}))?", re.ASCII
)
_MAX_DIGITS = 17
_MAX_EXPONENT = 300
_BOOLEANS = frozenset({"true", "false"})


class Unsure(Exception):
    """The file may not read here as it reads with pandas: read it with pandas."""


class Column:
    """One column of a `Table`: a NumPy array with the Series methods prediction uses."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    def __len__(self) -> int:
        return len(self.values)

    def isna(self) -> Column:
        if self.values.dtype.kind == "f":
            return Column(np.isnan(self.values))
        if self.values.dtype.kind == "O":
            return Column(np.array([v is None for v in self.values], dtype=bool))
        return Column(np.zeros(len(self.values), dtype=bool))

    def notna(self) -> Column:
        return Column(~self.isna().values)

    def to_numpy(self, dtype: Any = None, na_value: Any = None) -> np.ndarray:
        # `na_value` is pandas' fill for gaps: float columns hold NaN there already, and
        # integer ones have no gaps (text columns are never converted to numbers here)
        if dtype is None:
            return self.values
        return self.values.astype(dtype)

    @property
    def iloc(self) -> np.ndarray:
        return self.values


class Table:
    """Named columns of equal length, with the DataFrame methods prediction uses."""

    __chainrule_table__ = True  # `chainrule.data.tabular.preprocessor.as_frame` takes it as is

    def __init__(self, columns: dict[str, Column], n_rows: int) -> None:
        self._columns = columns
        self.n_rows = n_rows

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, len(self._columns))

    def __len__(self) -> int:
        return self.n_rows

    def __getitem__(self, name: str) -> Column:
        return self._columns[name]

    def drop(self, columns: Iterable[str]) -> Table:
        gone = set(columns)
        return Table({k: v for k, v in self._columns.items() if k not in gone}, self.n_rows)


def read(
    path: str | Path,
    sep: str | None,
    needed: Sequence[str],
    text_columns: Sequence[str] = (),
) -> Table:
    """The columns `needed` of the CSV file `path`, as `io.read_table(path, sep, text_columns)`
    gives them (`text_columns` as written); `Unsure` where that cannot be promised.

    A needed column the file lacks is left out (the caller names it in its error).
    """
    p = Path(path)
    if not p.is_file():
        raise Unsure("not a file")
    with open(p, "rb") as raw:
        data = raw.read(MAX_BYTES + 1)
    if data[:2] == b"\x1f\x8b":  # gzip, whatever the suffix: as `io.read_table`
        try:
            with gzip.open(_io.BytesIO(data) if len(data) <= MAX_BYTES else p) as f:
                data = f.read(MAX_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise Unsure("damaged gzip") from exc
    elif p.suffix.lower() not in _SUFFIXES:  # pandas infers a compression from others
        raise Unsure("suffix")
    if len(data) > MAX_BYTES:
        raise Unsure("large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unsure("not UTF-8") from exc
    if "\x00" in text or "\r" in text.replace("\r\n", ""):
        raise Unsure("binary or lone carriage returns")
    delimiter = sep if sep is not None else sniff_delimiter(text[: 1 << 16])
    if delimiter not in _DELIMITERS:
        raise Unsure("delimiter")
    rows = _records(text, delimiter)
    header = [name.strip() for name in rows[0]]
    if "" in header or len(set(header)) != len(header):
        raise Unsure("header")  # pandas' path reports or renames these
    if len(header) == 1 and (
        any(d in rows[0][0] for d in _DELIMITERS) or any(row == [""] for row in rows)
    ):
        raise Unsure("one column")  # maybe the wrong delimiter; or blank lines as values
    body = rows[1:]
    if not body:
        raise Unsure("no data rows")
    columns: dict[str, Column] = {}
    for name in needed:
        if name in columns or name not in header:
            continue
        j = header.index(name)
        cells = [row[j] for row in body]
        if delimiter != "," and any("," in c for c in cells):
            raise Unsure("decimal comma")  # `io.read_table` may convert the column
        columns[name] = Column(_column(cells, as_text=name in text_columns))
    return Table(columns, len(body))


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The records of `text`, blank lines left out; `Unsure` unless each is plain."""
    reader = csv.reader(
        _io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True
    )
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not row:
                continue  # a blank line: pandas skips it too
            if rows and len(row) != len(rows[0]):
                raise Unsure("ragged rows")
            for cell in row:
                if cell != cell.strip(" \t") or ("\t" in cell and delimiter != "\t"):
                    raise Unsure("spaces around a value")
            rows.append(row)
    except csv.Error as exc:
        raise Unsure("malformed CSV") from exc
    if not rows:
        raise Unsure("empty")
    return rows


def _column(cells: list[str], as_text: bool) -> np.ndarray:
    """The values of one column as pandas types them (see the module's docstring)."""
    missing = [c in NA_VALUES for c in cells]
    present = [c for c, gap in zip(cells, missing, strict=True) if not gap]
    if as_text:
        return _text(cells, missing)
    if not present:
        return np.full(len(cells), np.nan)
    kinds = {_number_kind(c) for c in present}
    if kinds <= {"int", "float"}:
        if kinds == {"int"} and not any(missing):
            return np.array([int(c) for c in present], dtype=np.int64)
        return np.array(
            [np.nan if gap else float(c) for c, gap in zip(cells, missing, strict=True)]
        )
    if None in kinds or any(c.lower() in _BOOLEANS for c in present):
        raise Unsure("booleans or numbers pandas may read differently")
    return _text(cells, missing)


def _text(cells: list[str], missing: list[bool]) -> np.ndarray:
    out = np.empty(len(cells), dtype=object)
    out[:] = [None if gap else c for c, gap in zip(cells, missing, strict=True)]
    return out


def _number_kind(cell: str) -> str | None:
    """ "int" or "float" for a number read here, "text" for no number, None when unsure."""
    m = _NUMBER.fullmatch(cell)
    if m is None or not (m["int"] or m["frac"]):
        lowered = cell.lower().lstrip("+-")
        if lowered.startswith(("inf", "nan")) or lowered[:1].isdigit() or lowered[:1] == ".":
            return None  # infinities, and near-numbers such as 1e or 1.5.2: pandas decides
        return "text"
    significant = ((m["int"] or "") + (m["frac"] or "")).lstrip("0")
    # the decimal exponent of the first significant digit: 0.00123 -> -3, 123.4 -> 2
    exponent = int(m["exp"] or 0) + len((m["int"] or "").lstrip("0")) - 1
    if not (m["int"] or "").lstrip("0"):
        exponent -= len(m["frac"] or "") - len((m["frac"] or "").lstrip("0"))
    if len(significant) > _MAX_DIGITS or (significant and abs(exponent) > _MAX_EXPONENT):
        return None
    if m["frac"] is None and m["exp"] is None:
        return "int"
    return "float"
