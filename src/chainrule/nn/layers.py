"""The layers in one place: `Dense`/`Linear`, `BatchNorm`, `Dropout` and `Sequential`.

Each lives in its own module (dense.py, normalization.py, dropout.py, module.py); this one
re-exports them for ``from chainrule.nn.layers import ...``.
"""

from chainrule.nn.dense import Dense, Linear
from chainrule.nn.dropout import Dropout
from chainrule.nn.module import Sequential
from chainrule.nn.normalization import BatchNorm

__all__ = ["BatchNorm", "Dense", "Dropout", "Linear", "Sequential"]
