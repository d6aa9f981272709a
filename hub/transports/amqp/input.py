"""The AMQP input: one connection consuming every AMQP consumer's queue, on the reactor.

Runs on the reactor thread. Each AMQP consumer gets its queue (`QueueSpec`) and its source
(`hub.transports.amqp.source.BrokerSource`) from ``source_for`` before ``start``; deliveries go to
the source of the queue they came from. Acks and nacks go back through here to the current
connection, which refuses one from an older channel generation (the broker redelivers that message).
A dead letter is published, with confirms, to the consumer's dead-letter queue with the hub's
reasons, and acked only then; if that publish fails it is rejected without requeue instead
(RabbitMQ dead-letters it with ``x-death`` only): never lost, at worst without its reasons, or
(a crash between the confirm and the ack) dead-lettered and redelivered both.
Once a second (the service's tick) ``refresh`` reads each queue's ready count for the backlog
figure. Shutdown: ``stop_consuming`` first (nothing new arrives while consumers drain), then each
source returns what is unfinished, then ``stop`` closes the connection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from hub.config import AmqpConfig
from hub.plugins.loader import LoadedConsumer
from hub.transports.amqp.bound import BoundKeys
from hub.transports.amqp.channel import DEAD_LETTER_SUFFIX, Delivery, QueueSpec
from hub.transports.amqp.connection import AmqpConnection
from hub.transports.amqp.deadletter import Why, copy
from hub.transports.amqp.params import TlsFiles
from hub.transports.amqp.source import BrokerSource, Counts

log = logging.getLogger(__name__)


class AmqpInput:
    """Consumes the registered queues; routes each delivery to its consumer's source."""

    def __init__(
        self,
        reactor: Any,
        config: AmqpConfig,
        *,
        on_failure: Callable[[Exception], None],
        bound: BoundKeys | None = None,
    ) -> None:
        self.reactor = reactor
        self.config = config
        self.on_failure = on_failure
        self.bound = bound or BoundKeys(None)  # what this hub bound: stale keys are unbound
        self.specs: list[QueueSpec] = []
        self.sources: dict[str, BrokerSource] = {}  # queue name -> source
        self.connection: AmqpConnection | None = None

    def source_for(
        self, consumer: LoadedConsumer, *, counts: Counts, max_message_bytes: int
    ) -> BrokerSource:
        """A new source for ``consumer``, its queue declared and consumed once started: its
        window is the prefetch (``amqp.prefetch``, else the consumer's ``queue_size``);
        ``ordered`` makes the queue single-active-consumer. Raises `GlobNotBindable`."""
        window = self.config.prefetch or consumer.config.queue_size
        spec = QueueSpec.for_consumer(
            self.config.queue_prefix, consumer.name, consumer.topics,
            queue_type=self.config.queue_type, prefetch=window,
        )  # fmt: skip
        spec = dataclasses.replace(spec, single_active_consumer=consumer.config.ordered)
        stale = self.bound.stale(spec.name, spec.binding_keys)  # its topics changed
        spec = dataclasses.replace(spec, unbind=stale)
        source = BrokerSource(
            consumer.name, accepts=consumer.matcher.matches, window=window, settler=self,
            counts=counts, call_from_thread=self.reactor.callFromThread,
            max_message_bytes=max_message_bytes,
            call_soon=lambda call: self.reactor.callLater(0, call),
        )  # fmt: skip
        self.specs = [*(s for s in self.specs if s.name != spec.name), spec]
        self.sources[spec.name] = source
        return source

    def start(self) -> None:
        """Connect (and reconnect, with backoff, for as long as the hub runs)."""
        tls = self.config.tls
        self.connection = AmqpConnection(
            self.reactor, self.config.url, self.specs, self._deliver, self.on_failure,
            exchange=self.config.exchange,
            tls=TlsFiles(tls.ca_cert, tls.certfile, tls.keyfile) if tls else None,
            on_state=lambda up: self.bound.save() if up else None,
        )  # fmt: skip
        self.connection.start()

    @property
    def connected(self) -> bool:
        return self.connection is not None and self.connection.connected

    def ack(self, tags: int | list[int], generation: int) -> bool:
        return self.connection is not None and self.connection.ack(tags, generation)

    def nack(self, tag: int, generation: int, requeue: bool) -> bool:
        return self.connection is not None and self.connection.nack(tag, generation, requeue)

    def dead_letter(self, delivery: Delivery, topic: str, why: Why) -> None:
        """Publish ``delivery`` with ``why`` to its dead-letter queue, then ack it."""
        connection = self.connection
        if connection is None:
            return  # no channel: the broker redelivers it, and it fails again
        letter = copy(delivery, topic, why, dt.datetime.now(dt.UTC))
        sent = connection.publish(letter, queue=delivery.queue + DEAD_LETTER_SUFFIX)
        sent.addCallbacks(
            lambda _: connection.ack(delivery.tag, delivery.generation),
            _copy_failed, errbackArgs=(connection, delivery, topic, why),
        )  # fmt: skip

    def halt(self, consumer: str) -> None:
        """``consumer`` halted: stop consuming its queue, return its unfinished deliveries."""
        for name, source in self.sources.items():
            if source.name == consumer:
                if self.connection is not None:
                    self.connection.halt(name)
                source.return_unfinished()

    # -- a reload (hub.lifecycle.reload) adds, removes and replaces AMQP consumers --------------

    def consume(self, consumer: str) -> defer.Deferred[Any]:
        """``consumer`` (started by a reload) consumes its queue from now on; fires once it
        does (or, disconnected, at once: the next connection declares it)."""
        spec = next(s for s in self.specs if s.name == self._queue_of(consumer))
        if self.connection is None:  # start() declares it with the rest
            return defer.succeed(None)
        consuming = self.connection.consume_queue(spec)
        consuming.addCallback(lambda _: self.bound.save())
        return consuming

    def cancel(self, consumer: str) -> None:
        """``consumer`` is being removed or replaced: nothing new reaches it; what it holds it
        still finishes, and acks."""
        if self.connection is not None:
            self.connection.forget_queue(self._queue_of(consumer))

    def release(self, consumer: str) -> int:
        """``consumer`` drained (or ran out of time): what it had not finished goes back to its
        queue, and its source is forgotten; how many went back."""
        queue = self._queue_of(consumer)
        source = self.sources.pop(queue, None)
        self.specs = [s for s in self.specs if s.name != queue]
        return source.return_unfinished() if source is not None else 0

    def _queue_of(self, consumer: str) -> str:
        return f"{self.config.queue_prefix}.{consumer}"

    def refresh(self) -> None:
        """Read each queue's ready count into its source (a failure keeps the last one)."""
        if not self.connected or self.connection is None:
            return
        for name, source in self.sources.items():
            self.connection.ready(name).addCallbacks(source.set_ready, _keep)

    def stop_consuming(self) -> defer.Deferred[None]:
        if self.connection is None:
            return defer.succeed(None)
        return self.connection.stop_consuming()

    def stop(self) -> defer.Deferred[Any]:
        """Return what is unfinished to the queues, then close the connection."""
        for source in self.sources.values():
            source.return_unfinished()
        if self.connection is None:
            return defer.succeed(None)
        return self.connection.stop()

    def _deliver(self, delivery: Delivery) -> None:
        source = self.sources.get(delivery.queue)
        if source is None:  # sent before the cancel of a consumer a reload removed took hold
            self.nack(delivery.tag, delivery.generation, True)
            return
        source.offer(delivery)


def _keep(failure: Any) -> None:
    log.debug("AMQP: cannot read a queue's ready count: %s", failure.value)


def _copy_failed(
    failure: Any, connection: AmqpConnection, delivery: Delivery, topic: str, why: Why
) -> None:
    log.warning("consumer %s: %s (msg_id %s): the dead letter with its reasons was not "
                "confirmed (%s); rejecting it, RabbitMQ dead-letters it without them",
                why.consumer, topic, delivery.properties.message_id or "-",
                failure.value)  # fmt: skip
    connection.nack(delivery.tag, delivery.generation, False)
