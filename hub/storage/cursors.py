"""Each consumer's committed position in the shared log, in ``<state_dir>/cursors.json``.

``load`` runs on the reactor at start; ``commit`` on the ``store:commit`` thread every
``commit_interval_s`` (`hub.storage.committer`) and on the reactor once more at stop.
A cursor is the first seq the consumer has not finished: on restart it resumes there, so at
most what it finished since the last commit is delivered twice after a crash. Writes are atomic
(temporary file + rename) and fsynced unless the fsync policy is ``never``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from hub.storage.private import private_text

log = logging.getLogger(__name__)


class CursorFile:
    """Load and atomically save ``{consumer: seq}``."""

    def __init__(self, path: Path, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self.saved: dict[str, int] = {}
        self.commits = 0

    def load(self) -> dict[str, int]:
        """The saved cursors ({} when there is no file yet, or it cannot be read: every
        consumer then starts at the oldest record kept)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.error("cursors: cannot read %s (%s): starting every consumer at the log's "
                      "oldest record", self.path, exc)  # fmt: skip
            return {}
        self.saved = {str(k): int(v) for k, v in data.items()}
        return dict(self.saved)

    def commit(self, cursors: dict[str, int]) -> bool:
        """Save ``cursors`` when they changed; return True when written."""
        if cursors == self.saved:
            return False
        private_text(self.path, json.dumps(cursors, sort_keys=True), fsync=self.fsync)
        self.saved = dict(cursors)
        self.commits += 1
        return True
