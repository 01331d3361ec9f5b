"""Flat parameter buffers: a model's parameters, and their gradients, in one flat array each.

Fast path for: the optimizer's loop over parameter arrays (`chainrule.optim.Optimizer.step`)
and the leaf's ``grad ← grad + g`` (`chainrule.autograd.Tensor._accumulate_grad`). It must give
the same numbers as those plain versions: ``tests/fast/test_flat.py`` checks the accumulation
against ``grad ← grad + g``, and ``tests/fast/test_groups.py`` and ``test_dense_chain.py`` train
or differentiate a flattened and a plain model side by side and compare weights and gradients.

A network of K layers has 2K parameter arrays. An optimizer step applies the same element-wise
rule to each, about a dozen NumPy calls per array; for a small network those calls, not the
arithmetic, take the time. After flattening, every parameter is a view into one contiguous
array, and ``backward()`` writes every gradient into a view of a second one, so the optimizer
can run its rule once over the whole model (`chainrule.fast.groups`).

Nothing else changes: parameters keep their shapes and values, ``state_dict`` and
``load_state_dict`` work as before, and gradients are the same numbers. Two things to know:

* ``p.data`` is a new array afterwards (a view into the flat buffer). Flatten before keeping
  references to parameter arrays; code that updates parameters in place keeps working.
* After ``backward()``, ``p.grad`` is the parameter's own gradient buffer, and a further
  ``backward()`` before ``zero_grad()`` adds to it in place (as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, NamedTuple

import numpy as np

from chainrule.autograd.tensor import Array, Tensor

__all__ = [
    "FlatBuffer",
    "accumulate_in_buffer",
    "buffers_held",
    "flatten_parameters",
    "grad_destination",
    "memory_order",
]


def memory_order(a: Array) -> Literal["C", "F"]:
    """The memory layout of `a`: "F" if column-major (and not also row-major), else "C"."""
    return "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"


def _has_buffer_slot(p: Any) -> bool:
    """A parameter (`chainrule.nn.Parameter`): a leaf that can own a gradient buffer."""
    return isinstance(p, Tensor) and hasattr(type(p), "_grad_buffer")


class FlatBuffer(NamedTuple):
    """One dtype's parameters: ``data`` holds their values, ``grad`` their gradients (1-d)."""

    data: Array
    grad: Array


def flatten_parameters(params: Any) -> list[FlatBuffer]:
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
    plist = list(params.parameters()) if hasattr(params, "parameters") else list(params)
    if not plist:
        raise ValueError("flatten_parameters: there are no parameters")
    seen: set[int] = set()
    by_dtype: dict[np.dtype[Any], list[Any]] = {}
    for p in plist:
        if not _has_buffer_slot(p):
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


def accumulate_in_buffer(leaf: Any, g: Array) -> None:
    """Add the finished gradient `g` to ``leaf.grad`` for a leaf with a gradient buffer.

    Must equal `Tensor._accumulate_grad` (``grad ← grad + g``); the difference is where the
    sum lives. Such a leaf always ends with ``leaf.grad`` being its buffer, so an optimizer can
    update all parameters at once. The buffer belongs to this leaf alone, which is why
    accumulating in place there is safe.
    """
    buf = leaf._grad_buffer
    leaf._grad_claimed = False
    current = leaf.grad
    if current is None:
        if g is not buf:  # else an op already wrote the whole gradient there
            np.copyto(buf, g)
    elif current is buf:
        buf += g  # accumulating across backward() calls
    else:  # a gradient assigned by hand
        np.add(current, g, out=buf)
    leaf.grad = buf


def grad_destination(t: Tensor) -> Array | None:
    """A preallocated array where an op's backward may write ∂E/∂t, or None.

    Fast ops (`chainrule.fast.dense_chain`) call this for their inputs whose gradient they
    compute in one piece (e.g. ∂E/∂W) and write into the array with ``out=`` instead of
    allocating. It returns the leaf's gradient buffer only when that is safe: `t` has no
    gradient yet (so nothing in the buffer is needed) and no other op of this backward pass
    has been handed the buffer (a tensor used twice gets one direct write; the others are
    summed as usual).
    """
    buf = getattr(t, "_grad_buffer", None)
    if buf is None or t.grad is not None or t._grad_claimed:  # type: ignore[attr-defined]
        return None
    t._grad_claimed = True  # type: ignore[attr-defined]
    return buf


@contextmanager
def buffers_held(tensors: Iterable[Any]) -> Iterator[None]:
    """Within the block, `grad_destination` hands out none of these tensors' gradient buffers.

    For code that calls a backward closure outside a backward pass (`chainrule.viz` asks each
    node for its local derivatives): the closure then allocates its result instead of writing
    it into a parameter's gradient buffer.
    """
    free = [
        t for t in tensors if getattr(t, "_grad_buffer", None) is not None and not t._grad_claimed
    ]
    for t in free:
        t._grad_claimed = True
    try:
        yield
    finally:
        for t in free:
            t._grad_claimed = False
