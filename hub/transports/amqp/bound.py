"""What this hub bound on the broker, per queue: ``<state_dir>/amqp-bindings.json``.

Runs on the reactor thread (read once, before the first queue is declared; written after each
connection and each reload that declared queues). AMQP 0-9-1 cannot list a queue's bindings, so
the hub remembers the keys it bound: when a consumer's topics changed while the hub was stopped,
its keys that are no longer wanted are unbound at the next declare (`QueueSpec.unbind`), instead
of feeding the queue messages the consumer then only acks as ``unmatched``. Written atomically
(a temporary file, then a rename). An unreadable record is logged and treated as empty: the
stale keys then stay, and the local filter keeps delivery correct.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from hub.storage.private import private_text

log = logging.getLogger(__name__)

FILE_NAME = "amqp-bindings.json"


class BoundKeys:
    """Queue name -> the binding keys this hub last declared for it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: remember nothing (no state_dir, e.g. in tests)
        self._keys: dict[str, tuple[str, ...]] | None = None

    def stale(self, queue: str, wanted: tuple[str, ...]) -> tuple[str, ...]:
        """The keys bound before that ``wanted`` drops; ``wanted`` becomes what is bound."""
        keys = self._loaded()
        before = keys.get(queue, ())
        keys[queue] = wanted
        return tuple(k for k in before if k not in wanted)

    def save(self) -> None:
        """Write the record (after the broker took the declarations)."""
        if self.path is None:
            return
        record = {queue: list(keys) for queue, keys in sorted(self._loaded().items())}
        try:
            private_text(self.path, json.dumps(record, indent=1) + "\n")
        except OSError as exc:
            log.warning("cannot write %s: %s (stale AMQP bindings may stay after a restart)",
                        self.path, exc)  # fmt: skip

    def _loaded(self) -> dict[str, tuple[str, ...]]:
        if self._keys is None:
            self._keys = self._read()
        return self._keys

    def _read(self) -> dict[str, tuple[str, ...]]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            record = json.loads(self.path.read_text())
            return {str(q): tuple(str(k) for k in keys) for q, keys in record.items()}
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            log.warning("cannot read %s: %s; no stale AMQP binding is unbound this time",
                        self.path, exc)  # fmt: skip
            return {}
