"""`TrainerLike`: what callbacks, progress bars and checkpoints may use of the `Trainer`.

The trainer calls its callbacks, and the callbacks receive the trainer: typing that with the
`Trainer` class would make the callback modules import the trainer module that imports them
(an import circle). They are typed with this protocol instead, at the bottom of `training/`.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from chainrule.training.history import History


class TrainerLike(Protocol):
    """The `Trainer`'s attributes that code called back during training reads or sets."""

    model: Any
    optimizer: Any
    history: History
    callbacks: list[Any]
    stop_training: bool  # set by a callback to end training after this epoch
    epoch: int
    epochs: int
    initial_epoch: int
    steps_per_epoch: int
    rng: np.random.Generator

    def state_dict(self) -> dict[str, Any]: ...
