"""Training: `fit` (the loop), `History`, callbacks, checkpoints and progress display.

``cr.fit(model, loss, optimizer, X, y, epochs=...)`` runs gradient descent in the regime set by
``batch_size`` and returns a `History`; `Trainer` is the object behind it, handed to callbacks.
"""

from chainrule.training.callbacks import (
    Callback,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
)
from chainrule.training.checkpoint import load_checkpoint, save_checkpoint
from chainrule.training.history import History
from chainrule.training.loggers import CSVLogger, JSONLinesLogger
from chainrule.training.metrics import METRICS
from chainrule.training.progress import ProgressBar
from chainrule.training.run import fit
from chainrule.training.trainer import Trainer

__all__ = [
    "METRICS",
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "JSONLinesLogger",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgressBar",
    "Trainer",
    "fit",
    "load_checkpoint",
    "save_checkpoint",
]
