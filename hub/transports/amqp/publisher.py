"""``hub.publish()`` over AMQP: fedora-messaging's wire format, with publisher confirms.

``publish`` runs on any thread (a consumer's worker thread, mostly): it encodes there and hands
the message to the reactor with ``reactor.callFromThread``; the reactor publishes it on the
connection's confirm-mode channel. A publish the broker confirms is counted as ``published``;
one it refuses, or one made while disconnected, as ``publish_dropped``, logged with its topic.

``forward`` (a bridge's ``hub.forward()``, on the reactor) sends a message on as it is
(`wire.forwarded`) and returns a Deferred instead of counting a failure as a drop: the caller
still holds the message and tries again (`PublishFailed`) or gives up on it (`PublishRefused`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from hub.errors import PublishFailed, PublishRefused
from hub.message import Message
from hub.transports.amqp.connection import AmqpConnection
from hub.transports.amqp.errors import EncodeError, PublishRejected
from hub.transports.amqp.wire import Encoded, encode, forwarded
from hub.transports.base import BRIDGED

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

    def forward(self, message: Message) -> defer.Deferred[None]:
        """Send ``message`` on as it is (reactor); fires once the broker confirmed it."""
        try:
            encoded = forwarded(message, BRIDGED)
        except EncodeError as exc:
            return defer.fail(PublishRefused(str(exc)))
        connection = self.connection()
        if connection is None:
            return defer.fail(PublishFailed("not connected to the broker"))
        sent = connection.publish(encoded)
        sent.addCallback(lambda _: self._count(dropped=False))
        done: defer.Deferred[None] = sent.addErrback(_forward_failed)
        return done

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


def _forward_failed(failure: Any) -> None:
    if failure.check(PublishRejected):
        raise PublishRefused(str(failure.value))
    raise PublishFailed(str(failure.value))
