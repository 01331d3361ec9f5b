"""Moved to `chainrule.saving.archive`; this alias keeps old imports working."""

import warnings

from chainrule.saving.archive import *  # noqa: F403
from chainrule.saving.archive import __all__  # noqa: F401

warnings.warn(
    "chainrule.archive moved to chainrule.saving.archive",
    DeprecationWarning,
    stacklevel=2,
)
