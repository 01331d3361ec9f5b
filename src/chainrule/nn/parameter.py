"""`Parameter`: a tensor that a module learns."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from chainrule.autograd import Tensor


class Parameter(Tensor):
    """A learnable tensor (``requires_grad=True``), registered by the `Module` that holds it.

    Optimizers update ``.data`` in place (``p.data -= ...``), never by rebinding it, so a
    parameter may be a view into a larger buffer.
    """

    __slots__ = ()

    def __init__(self, data: Any, dtype: npt.DTypeLike | None = None, name: str | None = None):
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]
