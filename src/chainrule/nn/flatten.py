"""`flatten_parameters`: put a model's parameters, and their gradients, into one flat array each.

A network of K layers has 2K parameter arrays. An optimizer step applies the same element-wise
rule to each, about a dozen NumPy calls per array; for a small network those calls, not the
arithmetic, take the time. After flattening, every parameter is a view into one contiguous
array, and ``backward()`` writes every gradient into a view of a second one, so the optimizer
can run its rule once over the whole model (`chainrule.optim.flat`).

Nothing else changes: parameters keep their shapes and values, ``state_dict`` and
``load_state_dict`` work as before, and gradients are the same numbers. Two things to know:

* ``p.data`` is a new array afterwards (a view into the flat buffer). Flatten before keeping
  references to parameter arrays; code that updates parameters in place keeps working.
* After ``backward()``, ``p.grad`` is the parameter's own gradient buffer, and a further
  ``backward()`` before ``zero_grad()`` adds to it in place (as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from chainrule.autograd.tensor import Array, memory_order
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter

__all__ = ["FlatBuffer", "flatten_parameters"]


class FlatBuffer(NamedTuple):
    """One dtype's parameters: ``data`` holds their values, ``grad`` their gradients (1-d)."""

    data: Array
    grad: Array


def flatten_parameters(params: Module | Iterable[Parameter]) -> list[FlatBuffer]:
    """Make every parameter a view into one flat array per dtype, with a flat gradient buffer.

    Parameters
    ----------
    params : Module or iterable of Parameter
        A module (all its parameters, in ``parameters()`` order) or the parameters in the order
        they should be laid out. An optimizer updates a parameter group at once when its
        parameters are consecutive in the buffer, so list each group's parameters together
        (e.g. weights first, then biases, for an optimizer with those two groups).

    Returns
    -------
    list of FlatBuffer
        One ``(data, grad)`` pair per dtype, in order of first appearance.

    Examples
    --------
    >>> model = cr.nn.Sequential(cr.nn.Dense(64, 64), cr.nn.ReLU(), cr.nn.Dense(64, 10))
    >>> (buffer,) = cr.nn.flatten_parameters(model)
    >>> buffer.data.size
    4810
    """
    plist = list(params.parameters()) if isinstance(params, Module) else list(params)
    if not plist:
        raise ValueError("flatten_parameters: there are no parameters")
    seen: set[int] = set()
    by_dtype: dict[np.dtype[Any], list[Parameter]] = {}
    for p in plist:
        if not isinstance(p, Parameter):
            raise ValueError(f"flatten_parameters takes Parameters, got {type(p).__name__}")
        if id(p) in seen:
            raise ValueError("flatten_parameters: a parameter is listed twice")
        seen.add(id(p))
        by_dtype.setdefault(p.data.dtype, []).append(p)
    buffers = []
    for dtype, group in by_dtype.items():
        total = sum(p.data.size for p in group)
        data = np.empty(total, dtype)
        grad = np.zeros(total, dtype)
        offset = 0
        for p in group:
            size, shape = p.data.size, p.data.shape
            # Keep each parameter's memory layout (Dense stores W column-major, see there).
            order = memory_order(p.data)
            view = data[offset : offset + size].reshape(shape, order=order)
            view[...] = p.data
            gview = grad[offset : offset + size].reshape(shape, order=order)
            if p.grad is not None:
                gview[...] = p.grad
                p.grad = gview
            p.data = view
            p._grad_buffer = gview
            p._grad_claimed = False
            offset += size
        buffers.append(FlatBuffer(data, grad))
    return buffers
