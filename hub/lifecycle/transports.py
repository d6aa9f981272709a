"""The hub's transports as configured: the ZeroMQ input, the AMQP input, and ``hub.publish()``.

Runs on the reactor thread (built and started at start-up, stopped at shutdown). This is where
`hub.transports.base`'s seam is wired: ZeroMQ consumers are fed through the enqueuer and the
local log (``zmq``, started only when ``endpoints`` are configured); AMQP consumers each get a
`hub.transports.amqp.source.BrokerSource` from ``broker_source`` and are fed by ``amqp``;
``output`` is what consumers get as ``self.hub``: every output (ZeroMQ when a
``publish_endpoint`` is set or ``publish_to`` is ``zmq``; AMQP when configured), ``publish()``
going to ``publish_to``'s and ``forward()`` to the one it names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import zmq
from twisted.internet import defer

from hub.config import HubConfig
from hub.lifecycle.security import Security
from hub.plugins.loader import LoadedConsumer
from hub.transports.amqp.bound import FILE_NAME as BOUND_FILE
from hub.transports.amqp.bound import BoundKeys
from hub.transports.amqp.input import AmqpInput
from hub.transports.amqp.publisher import AmqpPublisher
from hub.transports.amqp.source import BrokerSource, Counts
from hub.transports.base import Output
from hub.transports.outputs import Outputs
from hub.transports.zeromq.input import Batch, ZmqInput
from hub.transports.zeromq.publisher import Publisher


class Transports:
    """Every configured input, and the output."""

    def __init__(
        self,
        config: HubConfig,
        reactor: Any,
        *,
        context: zmq.SyncContext,
        on_batch: Callable[[Batch], None],
        on_failure: Callable[[Exception], None],
        security: Security | None = None,
    ) -> None:
        self.config = config
        self.curve = security.curve if security is not None else None
        sign = security.sign if security is not None else None
        self.zmq = ZmqInput(reactor, context, config=config, on_batch=on_batch,
                            on_failure=on_failure, curve=self.curve)  # fmt: skip
        self.amqp = (
            AmqpInput(reactor, config.amqp, on_failure=on_failure,
                      bound=BoundKeys(Path(config.state_dir) / BOUND_FILE))
            if config.amqp else None
        )  # fmt: skip
        outputs: dict[str, Output] = {}
        if config.publish_endpoint is not None or config.publish_to == "zmq":
            outputs["zmq"] = Publisher(reactor, context, config, self.curve, sign)
        if self.amqp is not None:
            amqp = self.amqp
            outputs["amqp"] = AmqpPublisher(reactor, lambda: amqp.connection)
        self.output = Outputs(
            reactor, outputs, config.publish_to or "zmq", state_dir=config.state_dir
        )

    @property
    def connected(self) -> bool:
        """Every configured input is connected (``/ready``, READY=1)."""
        zmq_up = self.zmq.connected or not self.config.endpoints
        return zmq_up and (self.amqp is None or self.amqp.connected)

    def broker_source(
        self, consumer: LoadedConsumer, *, counts: Counts, max_message_bytes: int
    ) -> BrokerSource:
        """An AMQP consumer's source (its queue is consumed once ``start`` runs)."""
        assert self.amqp is not None  # config.transports.resolve: source amqp needs amqp
        return self.amqp.source_for(consumer, counts=counts, max_message_bytes=max_message_bytes)

    def start(self, zmq_subscriptions: Iterable[str]) -> None:
        """Open every input (the service's last step before it is ready)."""
        if self.config.endpoints:
            self.zmq.start(zmq_subscriptions)
        if self.amqp is not None:
            self.amqp.start()

    def subscribe(self, zmq_subscriptions: Iterable[str]) -> None:
        """The ZeroMQ consumers changed (reload)."""
        if self.config.endpoints:
            self.zmq.subscribe(zmq_subscriptions)

    def halted(self, consumer: str) -> None:
        """A consumer halted: an AMQP one stops consuming and returns what it holds to its
        queue (a ZeroMQ one keeps its backlog in the log)."""
        if self.amqp is not None:
            self.amqp.halt(consumer)

    def consume(self, consumer: str) -> defer.Deferred[Any]:
        """A reload started ``consumer``: an AMQP one consumes its queue from now on (fires
        once it does)."""
        if self.amqp is not None and self._amqp(consumer):
            return self.amqp.consume(consumer)
        return defer.succeed(None)

    def cancel(self, consumer: str) -> None:
        """A reload removes or replaces ``consumer``: an AMQP one stops consuming its queue."""
        if self.amqp is not None and self._amqp(consumer):
            self.amqp.cancel(consumer)

    def release(self, consumer: str) -> int:
        """An AMQP ``consumer`` drained: its unfinished deliveries go back to its queue."""
        return self.amqp.release(consumer) if self.amqp is not None else 0

    def _amqp(self, consumer: str) -> bool:
        return any(s.name == consumer for s in self.amqp.sources.values()) if self.amqp else False

    def refresh(self) -> None:
        """Once a second: the brokers' ready counts (the AMQP consumers' backlog)."""
        if self.amqp is not None:
            self.amqp.refresh()

    async def stop_inputs(self) -> None:
        """Shutdown begins: nothing new comes in (ZeroMQ closed, AMQP consumers cancelled)."""
        self.zmq.stop()
        if self.amqp is not None:
            await self.amqp.stop_consuming()

    async def stop(self) -> None:
        """After the consumers drained: unfinished AMQP deliveries go back to their queues."""
        if self.amqp is not None:
            await self.amqp.stop()
        self.output.stop()
