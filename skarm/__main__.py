"""``python -m skarm``: the same as the ``skarm`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
