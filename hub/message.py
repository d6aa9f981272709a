"""The `Message` a consumer receives.

Built on the reactor thread (`hub.transports.zeromq.codec.decode`) or a worker thread (read back
from the log), then read on any thread. Immutable by convention and shared: the same instance goes
to every consumer whose topics match, on their own threads. Never assign to its attributes; ``body``
and ``envelope`` are the decoded JSON and must be treated as read-only (copy before mutating):
copying per consumer is the cost the old hubs paid on the reactor.

A plain ``__slots__`` class rather than a frozen dataclass: one is built per received message,
and a frozen dataclass's ``__init__`` (``object.__setattr__`` per field) cost 3.5x as much
(docs/benchmarks.md, "Hot path, round 2").
"""

from __future__ import annotations

from typing import Any


class Message:
    """One fedmsg message, decoded once. Read-only by convention (see the module docstring)."""

    __slots__ = ("envelope", "received_at", "size", "topic")

    topic: str
    envelope: dict[str, Any]
    received_at: float
    size: int

    def __init__(
        self, topic: str, envelope: dict[str, Any], received_at: float = 0.0, size: int = 0
    ) -> None:
        self.topic = topic
        self.envelope = envelope
        self.received_at = received_at
        self.size = size

    def __repr__(self) -> str:
        return (
            f"Message(topic={self.topic!r}, received_at={self.received_at!r}, size={self.size!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # as before: the envelope is a dict

    def _key(self) -> tuple[str, dict[str, Any], float, int]:
        return (self.topic, self.envelope, self.received_at, self.size)

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
