"""``python -m hub`` is ``consumer-hub``."""

import sys

from hub.cli import main

sys.exit(main())
