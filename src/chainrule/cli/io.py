"""Files in and out of the command line: its tables, its output, its model files, its defaults.

Reading a table is `chainrule.data.files`'s (its names are re-exported here); what is the
command's own stays here: the options-driven `load_data`, the bundled tables used without
DATA, ``train --test``'s table, and the output. Every error names the file and, where it can,
the line or column; output files are written atomically
(`chainrule.saving.atomic.atomic_open`), so a failed command leaves none behind.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chainrule.data.datasets import (
    BREAST_CANCER_TARGET,
    DIGITS_TARGET,
    load_breast_cancer_frame,
    load_digits_frame,
)

# Reading tables, under the names this module has always given them (private ones too).
from chainrule.data.files import (  # noqa: F401
    _DECIMAL_COMMA,
    _DELIMITERS,
    _PARQUET,
    _check_delimiter,
    _check_unique,
    _decimal_comma_columns,
    _header,
    _pandas,
    check_input,
    column_list,
    read_table,
    require_column,
    sniff_delimiter,
)
from chainrule.data.tabular.columns import ID_MIN_ROWS, id_columns  # noqa: F401
from chainrule.saving.atomic import atomic_open

DEFAULT_DIR = Path("out")


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
    from chainrule.data.tabular import encode_target, infer_task

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


def read_test_table(path: str | os.PathLike[str], sep: str | None, target: str) -> Any:
    """The held-out table of ``train --test``, checked for the target column before training."""
    frame = read_table(path, sep)
    require_column(frame, target, repr(str(path)))
    return frame


def read_model(path: str | os.PathLike[str]) -> Any:
    """`chainrule.load(path)`, with a clear error for a missing file or a folder."""
    from chainrule.saving.modelfile import load

    return load(check_input(path))
