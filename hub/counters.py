"""A consumer's own event counters, ``self.counters``: what a plugin counts that is not a message
outcome (for example "a redelivered message was already stored: skipped").

`Counters.add` runs on the consumer's worker thread(s), concurrently when ``threads > 1``: one
lock, held for one dict update, keeps every total exact. `Counters.totals` runs on the reactor
thread, when /status, /metrics or the statsd sink read the snapshot; it copies and never resets
(the statsd sink sends deltas by remembering what it last sent). The hub keeps one `Counters` per
consumer name for the life of the process (`hub.lifecycle.consumers.Consumers.counters_of`), as
`hub.observe.stats.Stats` keeps its own per-consumer counters: a reload's new instance counts on
from its predecessor's totals, so a total never goes down for the same consumer name.
"""

from __future__ import annotations

import re
import threading

NAME = re.compile(r"[a-z0-9_]+")
MAX_NAMES = 100  # per consumer: each name is a Prometheus series and a statsd name of its own


class Counters:
    """Monotonic event counters of one consumer, by name (any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, int] = {}

    def add(self, name: str, value: int = 1) -> None:
        """Count ``value`` more (an int >= 0, default 1) events called ``name`` (lowercase
        ``[a-z0-9_]``). ``add(name, 0)`` makes a counter show at 0 before its first event."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"counter {name!r}: the value must be an int, got {value!r}")
        if value < 0:
            raise ValueError(f"counter {name!r}: counters only go up, got {value}")
        with self._lock:
            total = self._totals.get(name)
            if total is None:
                self._check_new(name)
                total = 0
            self._totals[name] = total + value

    def _check_new(self, name: str) -> None:
        """Refuse a bad first-seen name (under the lock: the count of names is exact)."""
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(
                f"counter name {name!r} is not made of lowercase letters, digits and '_' "
                "(for example 'skipped')"
            )
        if len(self._totals) >= MAX_NAMES:
            raise ValueError(
                f"counter name {name!r}: this consumer already has {MAX_NAMES} counters; a name "
                "is a kind of event, not a value"
            )

    def totals(self) -> dict[str, int]:
        """Every total so far, by name (a copy; nothing is reset)."""
        with self._lock:
            return dict(self._totals)
