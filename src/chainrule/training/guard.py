"""The divergence guard of the training loop: undo a step that makes a weight non-finite."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from functools import cache
from typing import Any

from chainrule.fast.backup import StepBackup, all_finite

__all__ = ["WeightGuard"]


class WeightGuard:
    """Runs each optimizer step so that a step that leaves a weight ±inf or NaN is undone
    (so a diverged model keeps its last finite weights).

    The step saves the weights it is about to change into a `StepBackup` and reports whether
    the new ones are finite: the compiled updates do both in the pass that computes the new
    weights, so the guard costs no pass of its own over them. Optimizers that cannot take a
    backup (another library's, or one whose ``step`` takes no ``backup=``) get a copy of the
    weights before their step, and a check after it. Nothing is copied between steps, so
    callbacks may change the weights freely: a step saves them as they are when it starts.
    """

    def __init__(self, params: Sequence[Any]) -> None:
        self.backup = StepBackup([p.data for p in params])

    def finite(self) -> bool:
        """Every weight is finite now."""
        return all(all_finite(a) for a in self.backup.arrays)

    def step(self, optimizer: Any) -> bool:
        """``optimizer.step()``; True if it left the weights finite, else False with the step
        undone (the weights as before it)."""
        backup = self.backup
        backup.start()
        if _takes_backup(type(optimizer)):
            optimizer.step(backup=backup)
        else:
            backup.save_all()
            optimizer.step()
        if backup.finite():
            return True
        backup.restore()
        return False


@cache
def _takes_backup(cls: type) -> bool:
    """``cls.step`` takes ``backup=`` (`chainrule.optim.Optimizer.step`, unless overridden)."""
    try:
        return "backup" in inspect.signature(cls.step).parameters
    except (TypeError, ValueError):  # no signature to read (a builtin, say)
        return False
