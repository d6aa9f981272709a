"""``python -m hub`` is ``consumer-hub``."""

import sys

from hub.cli.main import main

sys.exit(main())
