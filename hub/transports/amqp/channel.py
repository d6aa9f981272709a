"""One consuming AMQP channel: declare and bind each queue, set its prefetch, consume, ack.

Everything here runs on the reactor thread (pika's Twisted adapter calls back on it; workers
hand acks back with ``reactor.callFromThread``). `ConsumeChannel` wraps one pika
``TwistedChannel`` of one connection and stamps each `Delivery` with its *generation* (1 for
the first channel, +1 per reconnect): a delivery tag means something only on the channel that
delivered it, so `hub.transports.amqp.connection` refuses an ack or nack whose generation is not
the current channel's, and this class refuses a tag it never delivered or already settled
(acking one twice would make the broker close the channel). Both refusals are logged and counted.

Per `QueueSpec`: a durable queue (``x-queue-type`` classic or quorum; optionally
``x-single-active-consumer``; optionally a dead-letter queue beside it, which receives what is
rejected without requeue), bound to each key on the exchange (and unbound from the keys it no
longer wants); ``basic.qos`` with the queue's
prefetch (0 = unlimited) just before its ``basic.consume``, so RabbitMQ applies it per consumer.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from pika.exchange_type import ExchangeType
from twisted.internet import defer

from hub.transports.amqp.bindings import binding_keys
from hub.transports.amqp.frames import OnDeliver

log = logging.getLogger(__name__)
DEAD_LETTER_SUFFIX = ".dead-letters"


@dataclass(frozen=True)
class QueueSpec:
    """One consumer's queue on the broker."""

    name: str
    binding_keys: tuple[str, ...]
    queue_type: str = "classic"  # or "quorum"
    prefetch: int | None = None  # None: unlimited
    single_active_consumer: bool = False
    dead_letter_queue: str | None = None
    unbind: tuple[str, ...] = ()  # keys bound before and no longer wanted (`amqp.bound`)

    @classmethod
    def for_consumer(
        cls,
        prefix: str,
        consumer: str,
        globs: Sequence[str],
        *,
        queue_type: str = "classic",
        prefetch: int | None = None,
        strict: bool = False,
    ) -> QueueSpec:
        """``<prefix>.<consumer>`` bound to the consumer's globs (`bindings.binding_keys`), its
        dead letters in ``<prefix>.<consumer>.dead-letters``; `GlobNotBindable` names a glob."""
        name = f"{prefix}.{consumer}"
        return cls(name, binding_keys(globs, strict), queue_type, prefetch,
                   dead_letter_queue=f"{name}{DEAD_LETTER_SUFFIX}")  # fmt: skip

    def arguments(self) -> dict[str, Any]:
        """The ``queue.declare`` arguments (they must match a queue that already exists)."""
        args: dict[str, Any] = {"x-queue-type": self.queue_type}
        if self.single_active_consumer:
            args["x-single-active-consumer"] = True
        if self.dead_letter_queue:
            args["x-dead-letter-exchange"] = ""  # the default exchange routes by queue name
            args["x-dead-letter-routing-key"] = self.dead_letter_queue
        return args


@dataclass(frozen=True)
class Delivery:
    """One message as the broker delivered it; ``tag`` is valid on ``generation`` only."""

    queue: str
    tag: int
    generation: int
    routing_key: str
    properties: Any  # pika.spec.BasicProperties
    body: bytes
    redelivered: bool


class Router(Protocol):
    """Where a consumer tag's deliveries can be read before pika (`protocol.HubProtocol`)."""

    def route(self, channel: int, consumer_tag: str, on_deliver: OnDeliver) -> None: ...
    def unroute(self, channel: int, consumer_tag: str | None = None) -> None: ...


class ConsumeChannel:
    """The consuming channel of one connection; ``ended`` fires when any of its consumers ends.

    ``on_delivery`` must not raise (`AmqpConnection` wraps it: a raise there is a defect).
    With a ``router``, each consumer's deliveries are read by the hub's frame reader
    (`hub.transports.amqp.frames`) from its ``basic.consume-ok`` to its cancel; without one (or
    for what pika still delivers), through pika's queue object.
    """

    def __init__(
        self,
        channel: Any,
        generation: int,
        on_delivery: Callable[[Delivery], None],
        router: Router | None = None,
    ) -> None:
        self.channel = channel
        self.generation = generation
        self.on_delivery = on_delivery
        self.router = router
        self.ended: defer.Deferred[str] = defer.Deferred()
        self.unsettled: set[int] = set()
        self._consumers: dict[str, str] = {}  # consumer tag -> queue name
        self._cancelling = False
        self._cancelled: set[str] = set()  # consumer tags cancelled on purpose (halt, reload)

    @defer.inlineCallbacks
    def setup(self, exchange: str, queues: Sequence[QueueSpec]) -> Generator[Any, Any, None]:
        """Declare the exchange (passively for ``amq.*``), then each queue; start consuming."""
        yield self.channel.exchange_declare(
            exchange=exchange, exchange_type=ExchangeType.topic, durable=True,
            passive=exchange.startswith("amq."),
        )  # fmt: skip
        for spec in queues:
            yield self._declare(exchange, spec)
        for spec in queues:
            yield self._consume(spec)

    @defer.inlineCallbacks
    def add(self, exchange: str, spec: QueueSpec) -> Generator[Any, Any, None]:
        """One more queue on this live channel (a reload started its consumer): declared,
        bound, its old keys unbound, consumed."""
        yield self._declare(exchange, spec)
        yield self._consume(spec)

    @defer.inlineCallbacks
    def _consume(self, spec: QueueSpec) -> Generator[Any, Any, None]:
        yield self.channel.basic_qos(prefetch_count=spec.prefetch or 0)
        source, tag = yield self.channel.basic_consume(spec.name, auto_ack=False)
        self._consumers[tag] = spec.name
        self._read(spec.name, source, tag)

    @defer.inlineCallbacks
    def _declare(self, exchange: str, spec: QueueSpec) -> Generator[Any, Any, None]:
        if spec.dead_letter_queue:
            yield self.channel.queue_declare(
                spec.dead_letter_queue, durable=True, arguments={"x-queue-type": spec.queue_type}
            )
        yield self.channel.queue_declare(spec.name, durable=True, arguments=spec.arguments())
        for key in spec.binding_keys:
            yield self.channel.queue_bind(spec.name, exchange, routing_key=key)
        for key in spec.unbind:  # unbinding a key that is not bound is no error
            yield self.channel.queue_unbind(spec.name, exchange, routing_key=key)

    def _read(self, queue: str, source: Any, tag: str) -> None:
        """Hand each delivery on as it comes; when the consumer ends (cancel, close), fire
        ``ended``. The router, if any, reads the deliveries before pika does. pika's queue
        object would hold each delivery for a ``get()`` Deferred and a generator step: its
        ``put`` is replaced on this instance by the hand-off, and one ``get()`` stays waiting,
        to be failed by the queue's ``close`` with the reason."""

        def put(item: Any) -> None:
            method = item.method
            hand_on(method.delivery_tag, bool(method.redelivered), method.routing_key,
                    item.properties, item.body)  # fmt: skip

        def closed(failure: Any) -> None:
            self._unroute(tag)
            if not self.ended.called and tag not in self._cancelled:
                self.ended.callback(f"consumer of {queue} ended: {failure.value!r}")

        hand_on = partial(self._hand_on, queue)
        while source.pending:  # anything queued before this took over
            put(source.pending.pop(0))
        source.put = put
        source.get().addCallbacks(lambda item: put(item), closed)
        if self.router is not None:
            self.router.route(self.channel.channel_number, tag, hand_on)

    def _hand_on(
        self, queue: str, tag: int, redelivered: bool, key: str, properties: Any, body: bytes
    ) -> None:
        self.unsettled.add(tag)
        self.on_delivery(Delivery(queue, tag, self.generation, key, properties, body, redelivered))

    def _unroute(self, tag: str | None = None) -> None:
        if self.router is not None:
            self.router.unroute(self.channel.channel_number, tag)

    def ack(self, tags: Sequence[int]) -> bool:
        """Ack each of ``tags`` this channel delivered and did not settle yet (False if one
        was refused). The ones below every other unsettled tag go in one ``basic.ack`` with
        ``multiple`` (it acks every tag up to it: only this channel's, only finished ones)."""
        mine = sorted(tag for tag in tags if self._settle(tag, "ack"))
        left = min(self.unsettled, default=None)
        cut = len(mine) if left is None else bisect.bisect_left(mine, left)
        if cut > 1:
            self.channel.basic_ack(delivery_tag=mine[cut - 1], multiple=True)
        elif cut == 1:
            self.channel.basic_ack(delivery_tag=mine[0])
        for tag in mine[cut:]:
            self.channel.basic_ack(delivery_tag=tag)
        return len(mine) == len(tags)

    def nack(self, tag: int, requeue: bool) -> bool:
        """Nack ``tag`` (back to the queue, or to the dead letters without requeue)."""
        if not self._settle(tag, "nack"):
            return False
        self.channel.basic_nack(delivery_tag=tag, requeue=requeue)
        return True

    def _settle(self, tag: int, what: str) -> bool:
        if tag in self.unsettled and self.channel.is_open:
            self.unsettled.discard(tag)
            return True
        log.warning(
            "not sending %s for delivery tag %d of channel generation %d: %s",
            what, tag, self.generation,
            "the channel is closed" if not self.channel.is_open else "not delivered or settled",
        )  # fmt: skip
        return False

    @defer.inlineCallbacks
    def cancel(self) -> Generator[Any, Any, None]:
        """Stop every consumer (``basic.cancel``); deliveries already made stay unsettled."""
        self._cancelling = True
        self._unroute()
        for tag in list(self._consumers):
            if self.channel.is_open:
                yield self.channel.basic_cancel(tag)
        self._consumers.clear()

    @defer.inlineCallbacks
    def cancel_queue(self, queue: str) -> Generator[Any, Any, None]:
        """Stop consuming ``queue`` only (its consumer halted, or a reload removed it); the
        others go on, and its end is not the channel's."""
        for tag, name in list(self._consumers.items()):
            if name == queue and self.channel.is_open:
                del self._consumers[tag]
                self._cancelled.add(tag)
                self._unroute(tag)
                yield self.channel.basic_cancel(tag)

    @property
    def cancelling(self) -> bool:
        return self._cancelling
