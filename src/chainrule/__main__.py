"""``python -m chainrule``: print the lecture's worked examples (until the CLI lands)."""

import sys

from chainrule.lecture import main

if __name__ == "__main__":
    sys.exit(main())
