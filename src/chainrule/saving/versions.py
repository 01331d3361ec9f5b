"""Format versions: which files this chainrule reads.

Every format chainrule writes (the archive container, the model description inside it)
carries a whole-number version, raised when the format changes. A reader accepts versions
1 to the newest it knows and refuses a newer one with an upgrade hint: it cannot know what a
newer writer meant, and guessing could load wrong numbers silently.
"""

from __future__ import annotations

from typing import Any

from chainrule._version import __version__
from chainrule.errors import ModelFileError


def check_version(version: Any, newest: int, what: str, writer: Any, where: str = "") -> int:
    """`version` if this chainrule reads it (a whole number from 1 to `newest`), else
    `ModelFileError`. `what` names the format ("archive version", "model format"), `writer`
    is the chainrule version the file names, `where` starts the message (e.g. the file)."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{where}invalid {what} {version!r}")
    if version > newest:
        raise ModelFileError(
            f"{where}written by a newer chainrule ({writer}, {what} {version}); this one "
            f"({__version__}) reads up to {what} {newest}: upgrade chainrule"
        )
    return version
