"""Moved to `chainrule.saving.modelfile`; this alias keeps old imports working."""

import warnings

from chainrule.saving.modelfile import *  # noqa: F403
from chainrule.saving.modelfile import __all__  # noqa: F401

warnings.warn(
    "chainrule.modelfile moved to chainrule.saving.modelfile",
    DeprecationWarning,
    stacklevel=2,
)
