"""Moved to `chainrule.saving.modelspec`; this alias keeps old imports working."""

import warnings

from chainrule.saving.modelspec import *  # noqa: F403
from chainrule.saving.modelspec import __all__  # noqa: F401

warnings.warn(
    "chainrule.modelspec moved to chainrule.saving.modelspec",
    DeprecationWarning,
    stacklevel=2,
)
