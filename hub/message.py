"""The `Message` a consumer receives.

Immutable and shared: the same instance goes to every consumer whose topics match, on their own
threads. ``body`` and ``envelope`` are the decoded JSON and must be treated as read-only (copy
before mutating): copying per consumer is the cost the old hubs paid on the reactor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Message:
    """One fedmsg message, decoded once."""

    topic: str
    envelope: dict[str, Any] = field(repr=False)
    received_at: float = 0.0
    size: int = 0

    @property
    def body(self) -> Any:
        """The envelope's ``msg``: what the publisher sent."""
        return self.envelope["msg"]

    @property
    def msg_id(self) -> str | None:
        """The envelope's ``msg_id``, or None when the publisher sent none."""
        value = self.envelope.get("msg_id")
        return value if isinstance(value, str) else None

    @property
    def timestamp(self) -> float | None:
        """The publisher's send time (seconds since the epoch), when the envelope has one."""
        value = self.envelope.get("timestamp")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return None

    @property
    def log_id(self) -> str:
        """The msg_id for log lines: never empty."""
        return self.msg_id or "-"
