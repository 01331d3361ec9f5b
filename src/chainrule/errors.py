"""The library's own exception types (importable from every layer)."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A file is not a readable chainrule model (corrupt, truncated, foreign or too new)."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the model keeps its last finite weights."""

    def __init__(self, message: str, *, epoch: int | None = None, step: int | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
