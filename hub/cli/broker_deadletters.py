"""``consumer-hub deadletters list|replay|purge --consumer NAME`` for an AMQP consumer: its dead
letters live on the broker, in ``<queue_prefix>.<NAME>.dead-letters``, shared by every hub.

Runs on the CLI's main thread, with a blocking pika connection (TLS is plain ``amqp://`` only
here: for ``amqps://`` use RabbitMQ's own tools). ``list`` reads the queue without consuming it
(every message is returned to it); ``replay`` moves dead letters back into the consumer's own
queue (the default exchange, by queue name: no other consumer bound to the topic gets them
again; the topic travels in the ``consumer_hub_topic`` header), each acked from the dead-letter
queue only once the broker confirmed its copy; ``purge`` empties the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

import pika

from hub.config import AmqpConfig
from hub.errors import ConfigError
from hub.transports.amqp.channel import DEAD_LETTER_SUFFIX
from hub.transports.amqp.source import TOPIC_HEADER

MAX_READ = 10_000  # a listing reads at most this many dead letters


def queues(amqp: AmqpConfig, consumer: str) -> tuple[str, str]:
    """(the consumer's queue, its dead-letter queue)."""
    name = f"{amqp.queue_prefix}.{consumer}"
    return name, f"{name}{DEAD_LETTER_SUFFIX}"


def describe(properties: Any, routing_key: str) -> tuple[str, str, str]:
    """(topic, msg_id, why) of a dead letter, from RabbitMQ's ``x-death`` header."""
    deaths = (properties.headers or {}).get("x-death") or [{}]
    keys = deaths[0].get("routing-keys") or [routing_key]
    reason = deaths[0].get("reason", "?")
    return str(keys[0]), str(properties.message_id or "-"), f"{reason} x{deaths[0].get('count', 1)}"


class BrokerDeadLetters:
    """One consumer's dead-letter queue, through a blocking connection."""

    def __init__(self, amqp: AmqpConfig, consumer: str) -> None:
        self.amqp = amqp
        self.queue, self.dead = queues(amqp, consumer)

    def _channel(self) -> tuple[Any, Any]:
        if self.amqp.url.startswith("amqps://"):
            raise ConfigError("deadletters on amqps://: use rabbitmqadmin or the management UI")
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp.url))
        channel = connection.channel()
        channel.queue_declare(self.dead, passive=True)
        return connection, channel

    def rows(self, limit: int) -> list[tuple[str, str, str]]:
        """(topic, msg_id, why) of the first ``limit`` dead letters, left in the queue."""
        connection, channel = self._channel()
        found: list[tuple[str, str, str]] = []
        try:
            while len(found) < min(limit, MAX_READ):
                method, properties, _ = channel.basic_get(self.dead, auto_ack=False)
                if method is None:
                    break
                found.append(describe(properties, method.routing_key))
        finally:
            connection.close()  # every message read goes back to the queue
        return found

    def replay(self) -> int:
        """Move every dead letter back to the consumer's queue; how many."""
        connection, channel = self._channel()
        channel.confirm_delivery()
        moved = 0
        try:
            while True:
                method, properties, body = channel.basic_get(self.dead, auto_ack=False)
                if method is None:
                    return moved
                topic, _, _ = describe(properties, method.routing_key)
                properties.headers = {**(properties.headers or {}), TOPIC_HEADER: topic}
                channel.basic_publish("", self.queue, body, properties, mandatory=True)
                channel.basic_ack(method.delivery_tag)  # only after the confirm above
                moved += 1
        finally:
            connection.close()

    def purge(self) -> int:
        """Delete every dead letter; how many."""
        connection, channel = self._channel()
        try:
            return int(channel.queue_purge(self.dead).method.message_count)
        finally:
            connection.close()
