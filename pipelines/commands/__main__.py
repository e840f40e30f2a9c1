"""`python -m vistavox.pipelines.commands`: the `vistavox` command."""

import sys

from .main import main

if __name__ == "__main__":
    sys.exit(main())
