"""``hub.publish()`` over AMQP: fedora-messaging's wire format, with publisher confirms.

``publish`` runs on any thread (a consumer's worker thread, mostly): it encodes there and hands
the message to the reactor with ``reactor.callFromThread``; the reactor publishes it on the
connection's confirm-mode channel. A publish the broker confirms is counted as ``published``;
one it refuses, or one made while disconnected, as ``publish_dropped``, logged with its topic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from hub.transports.amqp.connection import AmqpConnection
from hub.transports.amqp.wire import Encoded, encode

log = logging.getLogger(__name__)


class AmqpPublisher:
    """The hub's `Output` on AMQP."""

    def __init__(self, reactor: Any, connection: Callable[[], AmqpConnection | None]) -> None:
        self.reactor = reactor
        self.connection = connection  # the input's current connection (None before start)
        self._lock = threading.Lock()
        self._sent = 0
        self._dropped = 0

    def start(self) -> None:
        """Nothing to open: the input's connection carries the publishing channel."""

    def stop(self) -> None:
        """Nothing to close here (the input closes the connection)."""

    def figures(self) -> dict[str, int]:
        with self._lock:
            return {"published": self._sent, "publish_dropped": self._dropped}

    def publish(self, topic: str, body: Any) -> None:
        """Publish ``body`` on ``topic`` (any thread); counted when the broker answers."""
        message = encode(topic, body)
        self.reactor.callFromThread(self._publish, message)

    def _publish(self, message: Encoded) -> None:
        connection = self.connection()
        if connection is None:
            self._count(dropped=True, topic=message.routing_key, why="not connected")
            return
        sent = connection.publish(message)
        sent.addCallbacks(
            lambda _: self._count(dropped=False),
            lambda f: self._count(dropped=True, topic=message.routing_key, why=str(f.value)),
        )

    def _count(self, *, dropped: bool, topic: str = "", why: str = "") -> None:
        with self._lock:
            if dropped:
                self._dropped += 1
            else:
                self._sent += 1
        if dropped:
            log.warning("publish: dropped a message on %s: %s", topic, why)
