"""Rate-limited logging of malformed input, with a short sample of what arrived.

Runs on the reactor thread. One warning per cause per ``interval_s`` at most; the next one says
how many were suppressed meanwhile. Counting is the job of `hub.observe.stats.Stats`, not of this
log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hub.errors import DecodeError

log = logging.getLogger(__name__)

SAMPLE_BYTES = 120


def sample(frames: list[bytes]) -> str:
    """A short, printable preview of the frames of a bad message."""
    parts = []
    for frame in frames[:3]:
        text = repr(frame[:SAMPLE_BYTES])
        parts.append(text + ("..." if len(frame) > SAMPLE_BYTES else ""))
    more = f" (+{len(frames) - 3} frames)" if len(frames) > 3 else ""
    return "[" + ", ".join(parts) + "]" + more


class BadInputLog:
    """Logs at most one line per cause per interval."""

    def __init__(self, clock: Callable[[], float], interval_s: float = 10.0) -> None:
        self.clock = clock
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def report(self, error: DecodeError, frames: list[bytes]) -> None:
        """Log ``error`` unless its cause was logged less than ``interval_s`` ago."""
        now = self.clock()
        last = self._last.get(error.cause)
        if last is not None and now - last < self.interval_s:
            self._suppressed[error.cause] = self._suppressed.get(error.cause, 0) + 1
            return
        self._last[error.cause] = now
        suppressed = self._suppressed.pop(error.cause, 0)
        log.warning(
            "bad input (%s): %s; sample %s%s",
            error.cause,
            error.detail,
            sample(frames),
            f"; {suppressed} more suppressed" if suppressed else "",
        )
