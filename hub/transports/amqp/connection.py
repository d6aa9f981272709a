"""The AMQP connection on the reactor: connect with backoff, consume, publish with confirms.

Everything here runs on the reactor thread; call every method from it (a worker hands an ack or
a publish over with ``reactor.callFromThread``). It knows nothing of consumers or workers: it
takes a clock/reactor, a URL and callables, and gives `Delivery` objects to ``on_delivery``.

It is pika's Twisted adapter (`protocol.HubProtocol`, whose frame reader takes the deliveries),
not fedora-messaging's protocol, because the hub decides each ack itself, on its own threads
(docs/amqp.md, "The connection"). An attempt opens the TCP (or TLS) connection, the AMQP
handshake, the consuming channel (`ConsumeChannel`: declares, binds, prefetch, consume) and the
publishing channel (`PublishChannel`: confirm mode), all within ``connect_timeout_s``. If any
of it fails, or later the connection drops, the broker cancels a consumer (its queue was
deleted) or the consuming channel closes, the connection is closed and the next attempt is made
after ``backoff.delay(n)``; each success redeclares everything and starts a new generation.
Heartbeats are pika's, on reactor timers: they run on while consumers work on their threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Sequence
from typing import Any

import pika.exceptions
from twisted.internet import defer, endpoints

from hub.transports.amqp.channel import ConsumeChannel, Delivery, QueueSpec
from hub.transports.amqp.errors import NotConnected, reason_of
from hub.transports.amqp.params import (
    DEFAULT_BACKOFF,
    Backoff,
    TlsFiles,
    endpoint,
    parameters,
    redacted,
)
from hub.transports.amqp.protocol import HubProtocol
from hub.transports.amqp.publishing import PublishChannel
from hub.transports.amqp.wire import Encoded

log = logging.getLogger(__name__)


class AmqpConnection:
    """One broker connection, kept up until `stop`; ``connected`` when consuming."""

    def __init__(  # noqa: PLR0913 - the rest are keyword-only settings with defaults
        self,
        reactor: Any,
        url: str,
        queues: Sequence[QueueSpec],
        on_delivery: Callable[[Delivery], None],
        on_failure: Callable[[Exception], None],
        *,
        exchange: str = "amq.topic",
        tls: TlsFiles | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        connect_timeout_s: float = 30.0,
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self.reactor, self.url, self.queues = reactor, url, tuple(queues)
        self.on_delivery, self.on_failure = on_delivery, on_failure
        self.exchange, self.tls, self.backoff = exchange, tls, backoff
        self.connect_timeout_s = connect_timeout_s
        self.on_state = on_state or (lambda up: None)
        self.params = parameters(url, tls)
        self.generation = 0  # of the current consuming channel; every channel gets a new one
        self.attempts = 0  # failed attempts since the last success
        self.connections = 0
        self.refused = 0  # acks/nacks not sent: older generation, unknown tag, no channel
        self.last_error: str | None = None
        self._proto: HubProtocol | None = None
        self._consume: ConsumeChannel | None = None
        self._publish: PublishChannel | None = None
        self._retry: Any = None
        self._ready = self._stopping = False
        self.halted: set[str] = set()  # queues not consumed any more (their consumer halted)

    @property
    def connected(self) -> bool:
        """True while a connection is up with every queue declared and consumed."""
        return self._ready and self._consume is not None and self._consume.channel.is_open

    @property
    def can_publish(self) -> bool:
        """True while a publishing channel is open (one is reopened soon after the broker
        closes it, e.g. for a forbidden publish)."""
        channel = self._publish.channel if self._publish is not None else None
        return bool(channel is not None and channel.is_open)

    @property
    def read_by_hub(self) -> int:
        """Deliveries of the current connection read by the hub's frame reader, not pika."""
        return self._proto.reader.delivered if self._proto is not None else 0

    def start(self) -> None:
        """Make the first connection attempt (later ones follow failures by themselves)."""
        self._attempt()

    def _attempt(self) -> None:
        self._retry = None
        if self._stopping:
            return
        opened = self._open()
        opened.addTimeout(self.connect_timeout_s, self.reactor)
        opened.addCallbacks(self._up, self._failed)

    @defer.inlineCallbacks
    def _open(self) -> Generator[Any, Any, tuple[Any, ConsumeChannel, PublishChannel]]:
        target = endpoint(self.reactor, self.params, self.tls, self.connect_timeout_s)
        proto = HubProtocol(self.params, custom_reactor=self.reactor)
        self._proto = proto
        yield endpoints.connectProtocol(target, proto)
        yield proto.ready
        self.generation += 1
        consume = ConsumeChannel((yield proto.channel()), self.generation, self._deliver, proto)
        self._consume = consume  # current at once: what it delivers during setup can be acked
        yield consume.setup(self.exchange, [q for q in self.queues if q.name not in self.halted])
        publish = yield PublishChannel(proto, self.exchange).open()
        return proto, consume, publish

    def _up(self, opened: tuple[Any, ConsumeChannel, PublishChannel]) -> None:
        proto, consume, publish = opened
        if self._stopping:  # stop() came while this attempt was under way
            self._close(proto)
            return
        self._publish, self._ready = publish, True
        self.attempts, self.last_error = 0, None
        self.connections += 1
        proto.closed.addBoth(self._lost, proto)
        consume.ended.addCallback(self._consumer_ended, consume)
        consume.channel.on_closed.addBoth(self._channel_closed, consume)
        log.info("AMQP connected to %s: %d queue(s), channel generation %d",
                 redacted(self.url), len(self.queues), self.generation)  # fmt: skip
        self.on_state(True)

    def _failed(self, failure: Any) -> None:
        if self._stopping:
            self._abort(self._proto)
            self._proto, self._consume = None, None
            return
        self.attempts += 1
        lost = getattr(self._proto, "lost_reason", None)
        early = failure.check(pika.exceptions.AMQPConnectionError) and lost is not None
        self.last_error = reason_of(lost if early else failure.value)
        self._abort(self._proto)
        self._proto, self._consume = None, None
        delay = self.backoff.delay(self.attempts)
        log.warning("AMQP connection to %s failed (attempt %d): %s; next attempt in %.1f s",
                    redacted(self.url), self.attempts, self.last_error, delay)  # fmt: skip
        self._schedule(delay)

    def _schedule(self, delay: float) -> None:
        if not self._stopping and self._retry is None:
            self._retry = self.reactor.callLater(delay, self._attempt)

    def _lost(self, reason: Any, proto: Any) -> None:
        if proto is not self._proto:
            return
        self._proto, self._consume, self._publish, self._ready = None, None, None, False
        self.on_state(False)
        if self._stopping:
            return
        self.attempts += 1
        self.last_error = reason_of(reason)
        delay = self.backoff.delay(self.attempts)
        log.warning("AMQP connection to %s lost: %s; reconnecting in %.1f s",
                    redacted(self.url), self.last_error, delay)  # fmt: skip
        self._schedule(delay)

    def _consumer_ended(self, why: str, consume: ConsumeChannel) -> None:
        if self._still_up(consume) and not consume.cancelling:
            log.warning("AMQP %s; reconnecting to redeclare", why)
            self._close(self._proto)

    def _channel_closed(self, reason: Any, consume: ConsumeChannel) -> None:
        if self._still_up(consume):
            log.warning("AMQP consuming channel closed: %s; reconnecting", reason_of(reason))
            self._close(self._proto)

    def _still_up(self, consume: ConsumeChannel) -> bool:
        """True if ``consume`` is current and its connection open (else `_lost` handles it)."""
        proto = self._proto
        return consume is self._consume and not self._stopping and bool(proto and proto.is_open)

    def _deliver(self, delivery: Delivery) -> None:
        try:
            self.on_delivery(delivery)
        except Exception as exc:  # a defect downstream: stop for good rather than run on
            log.exception("AMQP delivery handler failed; the AMQP input stops")
            self._stopping = True
            self._close(self._proto)
            self.on_failure(exc)

    def ack(self, tags: int | Sequence[int], generation: int) -> bool:
        """Ack deliveries; refused (logged, counted, False) unless from the current channel."""
        many = [tags] if isinstance(tags, int) else list(tags)
        consume = self._current(many[0], generation, "ack") if many else self._consume
        return not many or self._counted(consume is not None and consume.ack(many))

    def nack(self, tag: int, generation: int, requeue: bool) -> bool:
        """Nack a delivery (requeue, or dead-letter/drop); refused like `ack`."""
        consume = self._current(tag, generation, "nack")
        return self._counted(consume is not None and consume.nack(tag, requeue))

    def _counted(self, sent: bool) -> bool:
        self.refused += not sent
        return sent

    def _current(self, tag: int, generation: int, what: str) -> ConsumeChannel | None:
        consume = self._consume
        if consume is not None and generation == consume.generation:
            return consume
        log.warning("not sending %s for delivery tag %d of channel generation %d: the current "
                    "generation is %s; the broker redelivers it", what, tag, generation,
                    consume.generation if consume else "none (disconnected)")  # fmt: skip
        return None

    def halt(self, queue: str) -> None:
        """Stop consuming ``queue`` now and after every reconnect (its consumer halted)."""
        self.halted.add(queue)
        self._cancel(queue)

    def consume_queue(self, spec: QueueSpec) -> defer.Deferred[Any]:
        """Consume ``spec`` from now on and after every reconnect (a reload started it): declared,
        bound, old keys unbound, consumed; fires when done (at once when disconnected)."""
        self.queues = (*(q for q in self.queues if q.name != spec.name), spec)
        self.halted.discard(spec.name)
        consume = self._consume
        if consume is None or not consume.channel.is_open:  # the next connect declares it
            return defer.succeed(None)
        added = consume.add(self.exchange, spec)
        return added.addErrback(lambda f: self._consumer_ended(f"adding: {f.value!r}", consume))

    def forget_queue(self, queue: str) -> None:
        """Stop consuming ``queue`` for good (a reload removed it); its deliveries stay ackable."""
        self.queues = tuple(q for q in self.queues if q.name != queue)
        self._cancel(queue)

    def _cancel(self, queue: str) -> None:
        if self._consume is not None:
            cancelled = self._consume.cancel_queue(queue)
            cancelled.addErrback(lambda f: log.warning("cancel of %s: %s", queue, f.value))

    def ready(self, queue: str) -> defer.Deferred[int]:
        """Messages ready in ``queue`` (a passive declare); `NotConnected` with no channel."""
        if not self.connected or self._consume is None:
            return defer.fail(NotConnected(f"not connected to {redacted(self.url)}"))
        declared = self._consume.channel.queue_declare(queue, passive=True)
        counted: defer.Deferred[int] = declared.addCallback(lambda f: f.method.message_count)
        return counted

    def publish(self, message: Encoded, queue: str | None = None) -> defer.Deferred[None]:
        """Publish to the exchange (or to ``queue`` by name) with confirms
        (`PublishChannel.publish`); fails at once with `NotConnected` while there is no
        connection (the caller decides to retry)."""
        if self._publish is None:
            return defer.fail(NotConnected(f"not connected to {redacted(self.url)}"))
        return self._publish.publish(message, queue)

    def stop_consuming(self) -> defer.Deferred[None]:
        """Cancel every consumer (shutdown begins: no reconnect from now on); acks still work."""
        self._stopping = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._consume is None or not self._consume.channel.is_open:
            return defer.succeed(None)
        return self._consume.cancel().addErrback(lambda f: log.warning("cancel: %s", f.value))

    def stop(self) -> defer.Deferred[Any]:
        """Close the connection for good; what is unacked goes back to the queues."""
        self.stop_consuming()
        proto, self._proto = self._proto, None
        was_up = self._ready
        if self._publish is not None:
            self._publish.close()
        self._consume, self._publish, self._ready = None, None, False
        if not was_up:  # nothing, or an attempt under way: cut it
            self._abort(proto)
            return defer.succeed(None)
        self.on_state(False)
        return self._close(proto).addErrback(lambda _: None)

    def _close(self, proto: Any) -> defer.Deferred[Any]:
        if proto is None or not proto.is_open:  # closed, or already closing
            return defer.succeed(None)
        try:
            return proto.close() or defer.succeed(None)
        except pika.exceptions.ConnectionWrongStateError:
            return defer.succeed(None)

    @staticmethod
    def _abort(proto: Any) -> None:
        transport = getattr(proto, "transport", None)
        if transport is not None:
            transport.abortConnection()
