"""``python -m unitwise_lint``: the same as the ``unitwise-lint`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
