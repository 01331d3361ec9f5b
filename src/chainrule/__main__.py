"""``python -m chainrule``: the command line (``chainrule --help``; the lecture's worked
examples are ``chainrule lecture``)."""

import sys

from chainrule.cli import main

if __name__ == "__main__":
    sys.exit(main())
