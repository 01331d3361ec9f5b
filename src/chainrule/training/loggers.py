"""Epoch logs written to files as training goes: `CSVLogger` and `JSONLinesLogger`.

Each line is written and flushed at the end of its epoch, so a killed run keeps the lines of
the epochs it finished. When a run resumes from a checkpoint (``cr.fit(resume_from=...)``),
the loggers keep the lines of the epochs the checkpoint covers and drop any later ones (epochs
the killed run did after its last checkpoint, which the resumed run redoes).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import IO, Any

from chainrule.saving.atomic import atomic_open
from chainrule.training.callbacks import Callback
from chainrule.training.protocol import TrainerLike


class _FileLogger(Callback):
    """Shared life cycle: open at train begin (keeping earlier lines), one line per epoch."""

    def __init__(self, path: str | os.PathLike[str], append: bool = False) -> None:
        self.path = os.fspath(path)
        self.append = bool(append)
        self._file: IO[str] | None = None

    def _epoch_of(self, line: str) -> int | None:
        raise NotImplementedError

    def _write_line(self, epoch: int, logs: dict[str, Any]) -> None:
        raise NotImplementedError

    def _kept_lines(self, trainer: TrainerLike) -> list[str]:
        """Existing lines to keep: all when appending, those before the resumed epoch on resume."""
        if not (self.append or trainer.initial_epoch > 0) or not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8", newline="") as f:
            lines = f.read().splitlines(keepends=True)
        if trainer.initial_epoch == 0:
            return lines
        kept = []
        for line in lines:
            epoch = self._epoch_of(line)
            if epoch is None or epoch < trainer.initial_epoch:  # a header, or an epoch we keep
                kept.append(line if line.endswith("\n") else line + "\n")
        return kept

    def on_train_begin(self, trainer: TrainerLike) -> None:
        kept = self._kept_lines(trainer)
        if kept:  # rewrite atomically: the kept lines must not be lost if we crash right here
            with atomic_open(self.path) as f:
                f.write("".join(kept).encode("utf-8"))
        self._start(kept)
        # Held open across epochs (closed in on_train_end or close), so no with-block.
        self._file = open(self.path, "a" if kept else "w", encoding="utf-8", newline="")  # noqa: SIM115

    def _start(self, kept: list[str]) -> None:
        """Prepare for writing after the `kept` lines."""

    def on_epoch_end(self, trainer: TrainerLike, epoch: int, logs: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._write_line(epoch, logs)
        self._file.flush()

    def on_train_end(self, trainer: TrainerLike) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (also after an error); calling it again does nothing."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _number(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _json_value(value: Any) -> Any:
    number = _number(value)
    return None if isinstance(number, float) and not math.isfinite(number) else number


class CSVLogger(_FileLogger):
    """Write one CSV row per epoch: ``epoch`` (0-based) and each logged number.

    The columns are fixed by the first row (or by the header of the file appended to); a value
    missing in an epoch is left empty.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (overwritten unless `append` or resuming).
    separator : str
        The field delimiter.
    append : bool
        Add to an existing file instead of replacing it.
    """

    def __init__(
        self, path: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        super().__init__(path, append)
        self.separator = separator
        self._columns: list[str] | None = None

    def _epoch_of(self, line: str) -> int | None:
        first = next(csv.reader(io.StringIO(line), delimiter=self.separator), [""])[0]
        try:
            return int(first)
        except ValueError:
            return None

    def _start(self, kept: list[str]) -> None:
        self._columns = None
        if kept:
            header = next(csv.reader(io.StringIO(kept[0]), delimiter=self.separator))
            if header and header[0] == "epoch":
                self._columns = header[1:]

    def _write_line(self, epoch: int, logs: dict[str, Any]) -> None:
        assert self._file is not None
        writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")
        if self._columns is None:
            self._columns = list(logs)
            writer.writerow(["epoch", *self._columns])
        row = [_number(logs[c]) if c in logs else "" for c in self._columns]
        writer.writerow([epoch, *(repr(v) if isinstance(v, float) else v for v in row)])


class JSONLinesLogger(_FileLogger):
    """Write one JSON object per epoch and line: ``{"epoch": 0, "loss": 0.69, ...}``.

    Non-finite numbers are written as ``null`` so that every line is standard JSON.
    """

    def _epoch_of(self, line: str) -> int | None:
        try:
            epoch = json.loads(line).get("epoch")
        except (ValueError, AttributeError):
            return None
        return epoch if isinstance(epoch, int) else None

    def _write_line(self, epoch: int, logs: dict[str, Any]) -> None:
        assert self._file is not None
        record = {"epoch": epoch, **{k: _json_value(v) for k, v in logs.items()}}
        self._file.write(json.dumps(record) + "\n")
