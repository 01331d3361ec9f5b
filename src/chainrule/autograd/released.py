"""What a node of the graph keeps once ``backward()`` has released it.

A plain ``backward()`` frees each node's closure (and the arrays it saved) as soon as the node
has passed its gradient on. A small node instead keeps a `Released` record: its inputs and its
closure, which for a node this small holds only small arrays (or its inputs' own data). That
is all `cr.viz.draw_graph` needs to show values, gradients and each edge's local derivative
∂out/∂in, so the lecture's graphs can be drawn after a plain ``backward()``; running
``backward()`` through a released node is still an error. Large nodes keep nothing (the shared
`RELEASED` record), so training frees its memory as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["MAX_KEPT_SIZE", "RELEASED", "Released", "release"]

MAX_KEPT_SIZE = 64  # elements: a node (or a computed input) larger than this keeps no record


class Released:
    """A released node's record: its inputs and its local-derivative closure (None if not kept)."""

    __slots__ = ("backward", "parents")

    def __init__(self, parents: tuple[Any, ...] | None, backward: Callable[..., Any] | None):
        self.parents = parents
        self.backward = backward


RELEASED = Released(None, None)


def release(node: Any, fn: Callable[..., Any]) -> Released:
    """The record `node` keeps when backward() releases it (`fn` is its closure)."""
    if node.data.size > MAX_KEPT_SIZE:
        return RELEASED
    parents = node._parents
    for p in parents:  # a large computed input would stay alive through the record
        if p._op and p.data.size > MAX_KEPT_SIZE:
            return RELEASED
    return Released(parents, fn)
