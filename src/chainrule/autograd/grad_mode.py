"""Whether operations record the computational graph (`no_grad`, `enable_grad`).

The switch is per thread, as PyTorch's is: a `no_grad` block in one thread (say, a web
server answering `predict` calls) never turns recording off for another thread that is
training. A new thread starts with recording on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager


class _GradState(threading.local):
    # Read once per operation, so it must be cheap: one attribute of a thread-local object.
    enabled = True


_state = _GradState()


def is_grad_enabled() -> bool:
    """True when new operations in this thread record the graph needed for `backward()`."""
    return _state.enabled


@contextmanager
def _recording(enabled: bool) -> Iterator[None]:
    """Record the graph (or not) in this thread inside the block; restore the mode after."""
    previous, _state.enabled = _state.enabled, enabled
    try:
        yield
    finally:
        _state.enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Context manager in which this thread records no graph (inference, weight updates)."""
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Context manager that records the graph again inside a `no_grad` block (this thread)."""
    return _recording(True)
