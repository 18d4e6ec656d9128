"""``python -m planning``: the command line (see :mod:`planning.cli`)."""

from __future__ import annotations

import sys

from planning.cli import main

if __name__ == "__main__":
    sys.exit(main())
