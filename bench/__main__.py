"""Entry point of ``python -m bench`` (the bench process's main thread)."""

import sys

from bench.runner import main

if __name__ == "__main__":
    sys.exit(main())
