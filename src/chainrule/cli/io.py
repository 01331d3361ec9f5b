"""Files in and out of the command line: tables (CSV, Parquet), model files, bundled data.

Every error names the file and, where it can, the line or column; output files are written
atomically (`chainrule.saving.atomic.atomic_open`), so a failed command leaves none behind.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from chainrule.saving.atomic import atomic_open

DEFAULT_DIR = Path("out")
DIGITS_TARGET = "digit"
BREAST_CANCER_TARGET = "diagnosis"
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


def write_table(frame: Any, path: str | os.PathLike[str] | None) -> None:
    """Write `frame` as CSV with a header row: atomically to `path`, or to standard output.

    The text is made `WRITE_ROWS` rows at a time, so it never sits whole in memory.
    """
    if path is None or str(path) == "-":
        for text in _csv_chunks(frame):
            sys.stdout.write(text)
        sys.stdout.flush()
        return
    with atomic_open(path) as f:
        for text in _csv_chunks(frame):
            f.write(text.encode("utf-8"))


WRITE_ROWS = 1 << 14


def _csv_chunks(frame: Any) -> Iterator[str]:
    for start in range(0, max(len(frame), 1), WRITE_ROWS):
        part = frame.iloc[start : start + WRITE_ROWS]
        yield part.to_csv(index=False, header=start == 0, lineterminator="\n")


def load_digits_frame() -> Any:
    """scikit-learn's bundled digits: 1797 images of 8×8 pixels (0–16) and their digit."""
    from sklearn.datasets import load_digits

    bunch = load_digits(as_frame=True)
    frame = bunch.frame.rename(columns={"target": DIGITS_TARGET})
    return frame


def load_breast_cancer_frame() -> Any:
    """scikit-learn's breast cancer data: 569 tumours, 30 measurements, the diagnosis."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.drop(columns=["target"])
    frame[BREAST_CANCER_TARGET] = bunch.target_names[bunch.target.to_numpy()]
    return frame


# The tables used without DATA: name -> (loader, target column, name of the data in messages,
# the subject of "without DATA ... used").
BUNDLED = {
    "digits": (load_digits_frame, DIGITS_TARGET, "digits (scikit-learn)", "the digits are"),
    "breast_cancer": (
        load_breast_cancer_frame,
        BREAST_CANCER_TARGET,
        "breast cancer (scikit-learn)",
        "the breast cancer (scikit-learn) data is",
    ),
}


def load_data(args: argparse.Namespace, default: str) -> tuple[Any, Any, str, str, str]:
    """(features DataFrame, encoded target, target column, data name, task) from the options.

    `args` holds the table options (`chainrule.cli.arguments.add_data_options`): DATA,
    --target, --task, --categorical, --drop, --sep. Without DATA the bundled table `default`
    (a key of `BUNDLED`) is used. A ValueError names any problem: no --target with DATA, a
    column the table lacks, the target among the dropped columns.
    """
    from chainrule.cli.options import names
    from chainrule.tabular import encode_target, infer_task

    if args.data is None:
        loader, target, source, subject = BUNDLED[default]
        if args.target not in (None, target):
            raise ValueError(
                f"without DATA {subject} used, whose target is {target!r}, not {args.target!r}"
            )
        frame = loader()
    else:
        frame = read_table(args.data, args.sep)
        source = repr(str(args.data))
        if args.target is None:
            raise ValueError(
                f"--target COLUMN is required with DATA; the columns of {source} are: "
                f"{column_list(frame)}"
            )
        target = args.target
        require_column(frame, target, source)
    categorical, drop = names(args.categorical), names(args.drop)
    for column in (*categorical, *drop):
        require_column(frame, column, source)
    if target in drop:
        raise ValueError(f"--drop names the target column {target!r}")
    task = infer_task(frame[target]) if args.task == "auto" else args.task
    y = encode_target(frame[target], task, target)
    features = frame.drop(columns=[target, *drop])
    if not getattr(args, "keep_id_columns", True):
        ids = [c for c in id_columns(features) if c not in categorical]
        if ids:
            shown = ", ".join(repr(str(c)) for c in ids)
            warnings.warn(
                f"column {shown}: every value is different, as in an identifier; it is left "
                "out (--keep-id-columns keeps it)",
                UserWarning,
                stacklevel=2,
            )
            features = features.drop(columns=ids)
    return features, y, target, source, task


# An identifier is only told from a feature given enough rows (a few all-distinct small
# integers are common in a tiny table).
ID_MIN_ROWS = 20


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
            pd = _pandas()
            # Mostly numbers with some text is a typo the preprocessing reports, not an ID.
            if pd.to_numeric(values, errors="coerce").notna().mean() > 0.5:
                continue
        if values.nunique() == n:
            found.append(name)
    return found


def read_test_table(path: str | os.PathLike[str], sep: str | None, target: str) -> Any:
    """The held-out table of ``train --test``, checked for the target column before training."""
    frame = read_table(path, sep)
    require_column(frame, target, repr(str(path)))
    return frame


def read_model(path: str | os.PathLike[str]) -> Any:
    """`chainrule.load(path)`, with a clear error for a missing file or a folder."""
    from chainrule.saving.modelfile import load

    return load(check_input(path))
