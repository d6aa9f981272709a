"""The built-in archive consumer (``class: archive``): every message it matches, stored in
datanommer.models 1.5.0's schema, so datanommer's and datagrepper's own code can read it.

`Archive` runs on its worker thread(s); see docs/archive.md.
"""

from consumers.archive.consumer import Archive

__all__ = ["Archive"]
