"""``python -m cluneal``: the same as the ``cluneal`` command."""

import sys

from cluneal.cli import main

if __name__ == "__main__":
    sys.exit(main())
