"""One way to kill a writer mid-write: the helper behind every SIGKILL test.

A process writes a file over and over (or trains with checkpoints); once it has shown progress
— a write finished, a checkpoint appeared — it is killed with SIGKILL after a random delay, so
the kill lands at a random point of a later write. Waiting for progress first keeps the tests
meaningful on a loaded machine, where a fixed delay could kill a process that never started.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["kill_a_writer", "kill_process"]

TIMEOUT = 120.0  # seconds a process may take to show progress before the test fails


def _kill_when(
    pid: int, alive: Callable[[], bool], ready: Callable[[], bool], delay: float
) -> None:
    """Poll `ready()` while `alive()`; then wait `delay` seconds and SIGKILL `pid`."""
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert alive(), "the process ended before it was killed"
        assert time.monotonic() < deadline, f"no progress within {TIMEOUT:.0f} s"
        time.sleep(0.002)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)


def kill_a_writer(
    folder: Path,
    write: Callable[[int], None],
    delay: float,
    *,
    ready: Callable[[], bool] | None = None,
) -> bool:
    """Fork a process calling ``write(1)``, ``write(2)``, ``write(1)``, ... until it is killed.

    It is SIGKILLed `delay` seconds after it is ready: after its first `write` returned, or,
    for a `write` that never returns (training), once ``ready()`` is true. Returns whether the
    kill left a new temporary file in `folder` (it landed in the middle of a write).
    """
    before = {p.name for p in folder.iterdir()}
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer; it never returns into pytest
        try:
            os.close(r)
            k = 0
            while True:
                write(k % 2 + 1)
                k += 1
                os.write(w, b".")  # one write finished
        finally:
            os._exit(1)
    os.close(w)
    try:
        if ready is None:

            def ready() -> bool:
                return bool(select.select([r], [], [], 0)[0])

        _kill_when(pid, lambda: os.waitpid(pid, os.WNOHANG) == (0, 0), ready, delay)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(r)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    new = {p.name for p in folder.iterdir()} - before
    return any(name.endswith(".tmp") for name in new)


def kill_process(proc: subprocess.Popen, ready: Callable[[], bool], delay: float) -> None:
    """SIGKILL `proc` `delay` seconds after ``ready()`` is true; check that the kill ended it."""

    def alive() -> bool:
        if proc.poll() is None:
            return True
        err = proc.stderr.read() if proc.stderr else ""
        raise AssertionError(f"the process ended (status {proc.returncode}) first: {err}")

    _kill_when(proc.pid, alive, ready, delay)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
