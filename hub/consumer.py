"""The plugin contract: subclass `Consumer`, set ``topics``, write ``consume()`` (or
``consume_batch()``, or both).

``__init__`` runs on the main thread when the hub loads plugins; ``setup``, ``consume``,
``consume_batch`` and ``teardown`` run on the consumer's own worker thread(s), never on the
reactor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

from hub.counters import Counters
from hub.message import Message


class HubHandle(Protocol):
    """What a consumer may ask of the hub, from any thread."""

    @property
    def outputs(self) -> frozenset[str]:
        """The transports this hub can send on (``zmq``, ``amqp``)."""

    @property
    def state_dir(self) -> str:
        """The hub's ``state_dir``: a consumer may keep its own files under it (the archive's
        embedded SQLite database, for one)."""

    def publish(self, topic: str, body: Any) -> None:
        """Send a new message on the transport ``publish_to`` names (fire and forget: counted
        as published or dropped)."""

    def forward(self, message: Message, to: str) -> None:
        """Send ``message`` on transport ``to`` as it is (topic, body, msg_id, time, headers)
        and return once that transport took it (AMQP: the broker confirmed it); raise
        `hub.errors.PublishFailed`, or its subclass `PublishRefused`, when it did not."""


class Consumer:
    """Base class of consumer plugins.

    Class attributes:
        topics: glob patterns (see ``hub.routing.topics``); ``["*"]`` means every topic. The
            ``topics`` key of the consumer's config, when set, replaces them.

    Instance attributes, set by the hub before ``setup()``:
        name: the consumer's name in the configuration.
        config: the consumer's ``config:`` mapping (read-only).
        hub: a `HubHandle`; ``self.hub.publish(topic, body)`` and ``self.hub.forward(message,
            to)`` are safe from any thread.
        log: a logger named ``consumers.<name>``.
        counters: a `hub.counters.Counters`: ``self.counters.add("skipped")`` counts an event of
            the plugin's own (not a message outcome), safe from any thread; exported per
            consumer as ``counters`` in /status, ``consumer_hub_consumer_events_total{event}``
            and statsd ``consumer.<name>.events.<event>``. Totals are kept per consumer name for
            the life of the process: a reload's new instance goes on from the old one's.

    Do not override ``__init__``; do start-up work in ``setup()``.
    """

    topics: ClassVar[Sequence[str]] = ()

    def __init__(self, name: str, config: dict[str, Any], hub: HubHandle) -> None:
        self.name = name
        self.config = config
        self.hub = hub
        self.log = logging.getLogger(f"consumers.{name}")
        self.counters = Counters()  # the hub gives the name's lasting one before setup()

    def setup(self) -> None:
        """Called once, on the consumer's own thread, before the first message."""

    def consume(self, message: Message) -> None:
        """Handle one message. Raise `hub.Retry`, `hub.Drop` or `hub.Halt` to say otherwise.

        Any other exception is logged with consumer, topic and msg_id and retried with backoff
        up to ``retry.max_attempts``; then the message is counted as failed and dead-lettered.
        With ``threads > 1`` this is called concurrently from several threads.
        """
        raise NotImplementedError

    def consume_batch(self, messages: list[Message]) -> Sequence[BaseException | None] | None:
        """Optional: handle several messages at once (one database transaction for all, say).

        When a class defines it, the hub calls it instead of ``consume()`` with what the window
        holds, at most ``batch_size`` messages, waiting at most ``batch_wait_s`` for a batch to
        fill. Return None when every message is done, or one result per message, in order:
        None for done, or the exception ``consume()`` would have raised for it (``hub.Retry``,
        ``hub.Drop``, ``hub.Reject``, ``hub.Halt``, any error); such a message is then retried
        alone through ``consume()``, dropped or dead-lettered, and the rest are done.

        Raising fails no message: each of the batch is then delivered alone, through
        ``consume()``. Raise ``hub.Unavailable`` when what you write to is down: the hub waits
        with backoff and calls again with the same batch, counting no attempt. A class with
        only ``consume_batch()`` gets each lone delivery as a batch of one.
        """
        raise NotImplementedError

    def teardown(self) -> None:
        """Called once on shutdown, after the last message, on the consumer's own thread."""
