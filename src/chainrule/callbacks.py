"""Training callbacks, as ``cr.callbacks.X`` (defined in `chainrule.training`)."""

from chainrule.training.callbacks import (
    Callback,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
)
from chainrule.training.loggers import CSVLogger, JSONLinesLogger
from chainrule.training.progress import ProgressBar

# Keras's name for the JSON-lines logger's job.
JSONLogger = JSONLinesLogger

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "JSONLinesLogger",
    "JSONLogger",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgressBar",
]
