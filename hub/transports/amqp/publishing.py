"""The publishing channel of one AMQP connection: confirm mode, one Deferred per message.

Runs on the reactor thread only (``hub.publish()`` on a worker thread encodes with `wire.encode`
and hands the result over with ``reactor.callFromThread``). The channel is in publisher-confirm
mode: each `PublishChannel.publish` Deferred fires when the broker has taken responsibility for
the message, or errbacks `PublishRejected` (nacked, returned, or forbidden: RabbitMQ answers a
publish the user may not make by closing the channel with 403) or `NotConnected` (no channel,
or it closed before the confirm: the message may or may not have arrived; publish it again).
If the broker closes this channel while the connection stays up, another is opened at once, so
a forbidden topic costs its own publish, not a reconnect (and a redelivery of every unacked
message, as closing the connection would).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import pika.exceptions
from twisted.internet import defer

from hub.transports.amqp.errors import NotConnected, PublishRejected
from hub.transports.amqp.wire import Encoded

log = logging.getLogger(__name__)


class PublishChannel:
    """A confirm-mode channel on ``proto`` publishing to ``exchange``; reopened when closed."""

    def __init__(self, proto: Any, exchange: str) -> None:
        self.proto = proto
        self.exchange = exchange
        self.channel: Any = None
        self.reopened = 0
        self._closing = False

    @defer.inlineCallbacks
    def open(self) -> Generator[Any, Any, PublishChannel]:
        """Open the channel and put it in confirm mode."""
        channel = yield self.proto.channel()
        yield channel.confirm_delivery()
        channel.on_closed.addBoth(self._closed, channel)
        self.channel = channel
        return self

    def _closed(self, reason: Any, channel: Any) -> None:
        if channel is not self.channel:
            return
        self.channel = None
        if self._closing or not self.proto.is_open:
            return
        log.warning("AMQP publishing channel closed: %r; opening another", reason)
        self.reopened += 1
        self.open().addErrback(lambda f: log.warning("AMQP publishing channel: %r", f.value))

    def publish(self, message: Encoded, queue: str | None = None) -> defer.Deferred[None]:
        """Publish ``message`` (to the exchange; or, given ``queue``, straight to that queue
        through the default exchange, mandatory: a missing queue fails it); the Deferred fires
        once the broker confirms it."""
        channel = self.channel
        if channel is None or not channel.is_open:
            return defer.fail(NotConnected("no publishing channel open"))
        exchange, key = (self.exchange, message.routing_key) if queue is None else ("", queue)
        sent = channel.basic_publish(
            exchange, key, message.body, message.properties, mandatory=queue is not None
        )
        done: defer.Deferred[None] = sent.addCallbacks(
            lambda _: None, _failed, errbackArgs=(message.routing_key,)
        )
        return done

    def close(self) -> None:
        """No reopening from now on (the connection is closing)."""
        self._closing = True


def _failed(failure: Any, topic: str) -> None:
    value = failure.value
    if failure.check(pika.exceptions.NackError, pika.exceptions.UnroutableError):
        raise PublishRejected(f"the broker rejected the message on {topic!r}: {value!r}")
    if isinstance(value, pika.exceptions.ChannelClosed) and value.reply_code == 403:
        raise PublishRejected(f"publishing on {topic!r} is forbidden: {value.reply_text}")
    raise NotConnected(f"publish on {topic!r} not confirmed: {value!r}")
