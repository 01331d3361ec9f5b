"""`Parameter`: a tensor that a module learns."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from chainrule.autograd import Tensor
from chainrule.autograd.tensor import Array


class Parameter(Tensor):
    """A learnable tensor (``requires_grad=True``), registered by the `Module` that holds it.

    Optimizers update ``.data`` in place (``p.data -= ...``), never by rebinding it, so a
    parameter may be a view into a larger buffer (see `chainrule.nn.flatten_parameters`, which
    also gives each parameter a gradient buffer: after ``backward()`` its ``.grad`` is a view
    into one flat gradient array).
    """

    # _grad_buffer: preallocated array that receives this parameter's gradient (or None);
    # _grad_claimed: an op of the running backward pass is writing into it (see
    # `chainrule.autograd.tensor.grad_destination`).
    __slots__ = ("_grad_buffer", "_grad_claimed")

    def __init__(self, data: Any, dtype: npt.DTypeLike | None = None, name: str | None = None):
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)
        self._grad_buffer: Array | None = None
        self._grad_claimed = False

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :]
