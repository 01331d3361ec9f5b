"""The weights before an optimizer step, kept by the step itself, so that it can be undone.

Fast path for: copying every weight after each step, so that a step that makes a weight
non-finite can be undone (the divergence guard of `cr.fit`, `chainrule.training.guard`).
A `StepBackup` is handed to ``Optimizer.step(backup=...)``, and each update writes the old
values of the weights it changes into the backup before it changes them: the compiled updates
(`chainrule.fast.kernels`) in the pass that computes the new weights, which also checks them,
so a step costs no extra pass over the weights; any other update is preceded by a copy of all
the weights (`save_all`). `finite` then says whether the step left every weight finite, and
`restore` puts back the weights from before the step.

``tests/fast/test_backup.py`` tests this protocol; ``tests/fast/test_kernels.py`` that the
updates save the old weights exactly and compute the same new ones with or without saving;
``tests/training/test_guard.py`` undoes non-finite steps with the kernels on and off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from chainrule.autograd.tensor import Array
from chainrule.fast import kernels
from chainrule.fast.groups import _address, contiguous_view

__all__ = ["StepBackup", "all_finite"]

# What the backup holds of each array in the current step.
_UNSAVED = 0  # nothing: the step has not changed the array
_SAVED = 1  # its old values; the new ones are not checked yet
_FINITE = 2  # its old values; the step checked the new ones: all finite
_NOT_FINITE = 3  # its old values; the step checked the new ones: some are not


class StepBackup:
    """Room for the weights as they were before one optimizer step.

    Parameters
    ----------
    arrays : sequence of numpy.ndarray
        The weights to guard (the parameters' ``.data``). Parameters laid out in one flat
        buffer (`chainrule.nn.flatten_parameters`) are kept as one array.

    The protocol of one step: `start`; the optimizer, for each array `w` it is about to
    change, asks `slot` for a place to save w's old values and reports what it found with
    `saved`, or, if `w` is not one of the arrays (or its update cannot save it), calls
    `save_all` before changing anything; then `finite`, and `restore` if needed.
    """

    def __init__(self, arrays: Sequence[Array]) -> None:
        flat = contiguous_view(arrays)
        self.arrays: list[Array] = list(arrays) if flat is None else [flat]
        self.copies = [np.empty_like(a) for a in self.arrays]  # (in each array's layout)
        self._states = [_UNSAVED] * len(self.arrays)
        # id(array) -> (array, slot): the arrays themselves, and views found to be the same
        # (a flat parameter group's view of the buffer); the array is held so its id stays
        self._known: dict[int, tuple[Array, int]] = {
            id(a): (a, i) for i, a in enumerate(self.arrays)
        }

    def start(self) -> None:
        """Before a step: nothing saved yet."""
        states = self._states
        for i in range(len(states)):
            states[i] = _UNSAVED

    def slot(self, w: Array) -> int | None:
        """The index of the copy into which to save `w` (``copies[i]``), when `w` is one of the
        arrays and is not saved yet in this step; else None."""
        known = self._known.get(id(w))
        if known is None or known[0] is not w:
            known = self._match(w)
            if known is None:
                return None
        i = known[1]
        return i if self._states[i] == _UNSAVED else None

    def _match(self, w: Array) -> tuple[Array, int] | None:
        for i, a in enumerate(self.arrays):
            if (
                a.shape == w.shape
                and a.strides == w.strides
                and a.dtype == w.dtype
                and _address(a) == _address(w)
            ):
                self._known[id(w)] = (w, i)
                return w, i
        return None

    def saved(self, i: int, finite: bool | None) -> None:
        """The update saved array `i` into ``copies[i]``; `finite`: whether it checked its
        new values and found them all finite (None: not checked)."""
        self._states[i] = _SAVED if finite is None else _FINITE if finite else _NOT_FINITE

    def save_all(self) -> None:
        """Copy every array not saved yet in this step (before an update that cannot save)."""
        for i, state in enumerate(self._states):
            if state == _UNSAVED:
                np.copyto(self.copies[i], self.arrays[i])
                self._states[i] = _SAVED

    def finite(self) -> bool:
        """After the step: every array it changed is finite (those it did not are as before)."""
        ok = True
        for i, state in enumerate(self._states):
            if state == _NOT_FINITE or (state == _SAVED and not all_finite(self.arrays[i])):
                self._states[i] = _NOT_FINITE
                ok = False
            elif state == _SAVED:
                self._states[i] = _FINITE
        return ok

    def restore(self) -> None:
        """Undo the step: put back the weights it changed, as they were before it."""
        for i, state in enumerate(self._states):
            if state != _UNSAVED:
                np.copyto(self.arrays[i], self.copies[i])


_max, _min = np.maximum.reduce, np.minimum.reduce


def all_finite(a: Array) -> bool:
    """No NaN or ±inf in `a`: one compiled pass (`chainrule.fast.kernels.all_finite`), else
    NumPy's largest and smallest elements are finite (a NaN anywhere makes both NaN). Either
    way no temporaries and no arithmetic (so no overflow, no warning to silence, and weights
    near the largest float still count as finite)."""
    if a.size == 0:
        return True
    compiled = kernels.all_finite(a)
    if compiled is not None:
        return compiled
    return math.isfinite(_max(a, axis=None)) and math.isfinite(_min(a, axis=None))
