"""What a node of the graph keeps once ``backward()`` has released it.

A plain ``backward()`` frees each node's closure (and the arrays it saved) as soon as the node
has passed its gradient on. A small node keeps a `Released` record in its place: its inputs and,
for a one-element node, the local derivative ∂out/∂in along each input edge. That is all
`cr.viz.draw_graph` needs, so the lecture's graphs can be drawn after a plain ``backward()``.
Large nodes keep nothing (the shared `RELEASED` record), so training frees memory as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["MAX_KEPT_SIZE", "RELEASED", "Released", "release"]

MAX_KEPT_SIZE = 64  # elements: a node (or input) larger than this keeps no record


class Released:
    """A released node's record: its inputs and each input edge's local derivative.

    ``parents`` is None when nothing was kept; ``local[i]`` is ∂out/∂(input i), or None when
    it is unknown (an input that takes no gradient, or an output of more than one element).
    """

    __slots__ = ("local", "parents")

    def __init__(self, parents: tuple[Any, ...] | None, local: tuple[Any, ...] | None) -> None:
        self.parents = parents
        self.local = local


RELEASED = Released(None, None)


def release(node: Any, g: np.ndarray, contributions: Sequence[np.ndarray | None]) -> Released:
    """The record `node` keeps, given the gradient `g` it received and what it passed on.

    For a one-element output the chain rule passes on ``g · ∂out/∂in``, so the local derivative
    is that contribution divided by g; where g is 0 the closure is asked for ∂out/∂in directly.
    """
    size = node.data.size
    parents = node._parents
    if size > MAX_KEPT_SIZE or any(p._op and p.data.size > MAX_KEPT_SIZE for p in parents):
        return RELEASED  # inputs that are leaves are kept alive by their owner anyway
    if size != 1:
        return Released(parents, None)
    if np.all(g != 0) and np.all(np.isfinite(g)):
        local = tuple(None if c is None else c / g.reshape(()) for c in contributions)
    else:
        with np.errstate(all="ignore"):
            local = tuple(node._backward(np.ones_like(node.data)))
    return Released(parents, local)
