"""Moved to `chainrule.cli.report` (only the command line uses it); this alias keeps old imports."""

import warnings

from chainrule.cli.report import *  # noqa: F403
from chainrule.cli.report import __all__  # noqa: F401

warnings.warn("chainrule.report moved to chainrule.cli.report", DeprecationWarning, stacklevel=2)
