"""The divergence guard of the training loop: keep the last finite weights, undo a bad step."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.fast.groups import contiguous_view
from chainrule.fast.kernels import FiniteCopy

Array = npt.NDArray[Any]

__all__ = ["WeightGuard"]


class WeightGuard:
    """The weights after the last step that left them finite, to undo a step that did not (so a
    diverged model keeps its last finite weights).

    Two copies alternate. After each step, one pass (`chainrule.fast.kernels.copy_finite`;
    without numba a copy and two reductions) copies the weights into the spare copy and checks
    them; only finite weights make it the current copy, from which a bad step is undone. So
    nothing is copied before a step, and nothing is read twice, except after callbacks that
    might have changed the weights (`save`).
    """

    def __init__(self, params: Sequence[Any]) -> None:
        arrays = [p.data for p in params]
        # Flattened parameters (`nn.flatten_parameters`): one copy and one check for all.
        flat = contiguous_view(arrays)
        self.arrays = arrays if flat is None else [flat]
        self.copies = [[np.empty_like(a) for a in self.arrays] for _ in range(2)]
        # (source, copy, its compiled copy-and-check) per array, for each of the two copies
        self._plans = [
            [(a, b, FiniteCopy(a, b)) for a, b in zip(self.arrays, copies, strict=True)]
            for copies in self.copies
        ]
        self.current = 0

    def _copy(self, into: int) -> bool:
        finite = True
        for a, b, compiled in self._plans[into]:
            ok = compiled()
            if ok is None:
                np.copyto(b, a)
                ok = _finite(a)
            finite = finite and ok
        return finite

    def save(self) -> bool:
        """Keep the weights as they are now; True if they are finite."""
        return self._copy(self.current)

    def check(self) -> bool:
        """After a step: keep the weights and return True if they are finite, else False (the
        last finite weights stay kept)."""
        spare = 1 - self.current
        if not self._copy(spare):
            return False
        self.current = spare
        return True

    def restore(self) -> None:
        for a, b in zip(self.arrays, self.copies[self.current], strict=True):
            np.copyto(a, b)


_max, _min = np.maximum.reduce, np.minimum.reduce


def _finite(a: Array) -> bool:
    """No NaN or ±inf in `a`: its largest and smallest elements are finite (a NaN anywhere
    makes both NaN). Two reductions, no temporaries, no arithmetic (so no overflow, no warning
    to silence, and weights near the largest float still count as finite)."""
    return a.size == 0 or (math.isfinite(_max(a, axis=None)) and math.isfinite(_min(a, axis=None)))
