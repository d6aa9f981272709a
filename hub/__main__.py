"""``python -m hub`` is ``consumer-hub`` (main thread; `hub.cli.main` parses and dispatches)."""

import sys

from hub.cli.main import main

sys.exit(main())
