"""`Parameter`: a tensor that a module learns."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from chainrule.autograd import Tensor
from chainrule.autograd.tensor import Array
from chainrule.fast.flat import accumulate_in_buffer


class Parameter(Tensor):
    """A learnable tensor (``requires_grad=True``), registered by the `Module` that holds it.

    Optimizers update ``.data`` in place (``p.data -= ...``), never by rebinding it, so a
    parameter may be a view into a larger buffer (see `chainrule.fast.flatten_parameters`, which
    also gives each parameter a gradient buffer: after ``backward()`` its ``.grad`` is a view
    into one flat gradient array).
    """

    # Used only by the fast path `chainrule.fast.flat`: _grad_buffer is the preallocated array
    # that receives this parameter's gradient (or None); _grad_claimed: an op of the running
    # backward pass is writing into it (see `chainrule.fast.flat.grad_destination`).
    __slots__ = ("_grad_buffer", "_grad_claimed")

    def __init__(self, data: Any, dtype: npt.DTypeLike | None = None, name: str | None = None):
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)
        self._grad_buffer: Array | None = None
        self._grad_claimed = False

    def _accumulate_grad(self, g: Array) -> None:
        if self._grad_buffer is None:
            super()._accumulate_grad(g)
        else:  # fast path: same sum, kept in this parameter's slice of the flat buffer
            accumulate_in_buffer(self, g)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]
