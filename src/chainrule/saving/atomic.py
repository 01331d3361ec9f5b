"""Atomic file replacement: a file is either the old one or the new one, never a mixture.

`atomic_open` writes to a temporary file in the target's folder, flushes and fsyncs it, then
renames it over the target (`os.replace`, atomic on POSIX and Windows) and fsyncs the folder.
A crash may leave a stray ``.<name>.<random>.tmp`` file beside the target, which is safe to
delete (`remove_stale_temporaries`). Every file chainrule writes goes through here.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

__all__ = ["atomic_open", "remove_stale_temporaries"]


@contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A binary file that replaces `path` only once the ``with`` block has finished.

    The data goes to a temporary file in the same folder (so the final rename cannot cross
    file systems), is flushed and fsynced, then renamed over `path`; the folder is fsynced so
    the rename itself survives a power loss. If the block raises, `path` is left untouched.

    A file replaced keeps its permission bits (a 0600 model stays 0600); a new one gets 0666
    filtered by the umask, as `open` gives. A symbolic link at `path` is replaced by the new
    file, as `os.replace` does: the file it pointed to is left unchanged.
    """
    path = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"folder {folder!r} does not exist", folder)
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    # 0o666 filtered by the umask, like an ordinary open(); O_EXCL never reuses a stray file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        _keep_mode(fd, path)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _keep_mode(fd: int, path: str) -> None:
    """Give the temporary file `fd` the permission bits of the regular file at `path`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) and hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(st.st_mode))


def remove_stale_temporaries(path: str | os.PathLike[str]) -> int:
    """Delete the temporary files that writes of `path` killed mid-way left; return how many.

    Only names `atomic_open` makes for this target (``.<name>.<12 hex digits>.tmp``) are
    touched. Call it when no other process is writing `path`.
    """
    folder, base = os.path.split(os.path.abspath(os.fspath(path)))
    prefix, removed = f".{base}.", 0
    for name in os.listdir(folder):
        token = name[len(prefix) : -len(".tmp")]
        ours = name.startswith(prefix) and name.endswith(".tmp") and len(token) == 12
        if ours and all(c in "0123456789abcdef" for c in token):
            with suppress(FileNotFoundError):
                os.unlink(os.path.join(folder, name))
                removed += 1
    return removed


def _fsync_folder(folder: str) -> None:
    if os.name != "posix":  # Windows cannot open a folder; its rename is durable enough
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems do not support it; the rename still happened
        pass
    finally:
        os.close(fd)
