"""Whether operations record the computational graph (`no_grad`, `enable_grad`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# One module-level flag: checked once per operation, so it must be cheap to read.
_enabled = True


def is_grad_enabled() -> bool:
    """True when new operations record the graph needed for `backward()`."""
    return _enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Context manager in which no graph is recorded (inference, weight updates)."""
    global _enabled
    previous, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Context manager that records the graph again inside a `no_grad` block."""
    global _enabled
    previous, _enabled = _enabled, True
    try:
        yield
    finally:
        _enabled = previous
