"""``consumer-hub deadletters list|show|replay|purge --consumer NAME`` for an AMQP consumer: its
dead letters live on the broker, in ``<queue_prefix>.<NAME>.dead-letters``, shared by every hub.

Runs on the CLI's main thread, with a blocking pika connection (TLS is plain ``amqp://`` only
here: for ``amqps://`` use RabbitMQ's own tools). ``list`` reads the queue without consuming it
(every message is returned to it), each with the hub's reasons (consumer, error, traceback,
attempts, when, which host: `hub.transports.amqp.deadletter`); ``show MSG_ID`` prints one whole;
``replay`` moves dead letters back into the consumer's own queue (the default exchange, by
queue name: no other consumer bound to the topic gets them again; the topic travels in the
``consumer_hub_topic`` header, the reasons are removed), each acked from the dead-letter queue
only once the broker confirmed its copy; ``purge`` empties the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

import orjson
import pika

from hub.config import AmqpConfig
from hub.errors import ConfigError
from hub.transports.amqp.channel import DEAD_LETTER_SUFFIX
from hub.transports.amqp.deadletter import TOPIC, cleaned, describe

MAX_READ = 10_000  # a listing reads at most this many dead letters


def queues(amqp: AmqpConfig, consumer: str) -> tuple[str, str]:
    """(the consumer's queue, its dead-letter queue)."""
    name = f"{amqp.queue_prefix}.{consumer}"
    return name, f"{name}{DEAD_LETTER_SUFFIX}"


def why(letter: dict[str, Any]) -> str:
    """One line of why a dead letter failed."""
    attempts = letter.get("attempts")
    return f"{attempts}x {letter['error']}" if attempts else str(letter["error"])


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

    def rows(self, limit: int) -> list[dict[str, Any]]:
        """What the first ``limit`` dead letters say of themselves (`deadletter.describe`) with
        their ``body`` and ``headers``, left in the queue."""
        connection, channel = self._channel()
        found: list[dict[str, Any]] = []
        try:
            while len(found) < min(limit, MAX_READ):
                method, properties, body = channel.basic_get(self.dead, auto_ack=False)
                if method is None:
                    break
                letter = describe(properties, method.routing_key)
                found.append(letter | {"body": body, "headers": properties.headers or {}})
        finally:
            connection.close()  # every message read goes back to the queue
        return found

    def show(self, msg_id: str) -> dict[str, Any] | None:
        """The dead letter whose msg_id is ``msg_id`` (the first of them), or None."""
        return next((row for row in self.rows(MAX_READ) if row["msg_id"] == msg_id), None)

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
                topic = describe(properties, method.routing_key)["topic"]
                properties.headers = {**cleaned(properties), TOPIC: topic}
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


def printable(letter: dict[str, Any]) -> str:
    """``deadletters show`` of a broker dead letter: its fields, body and traceback."""
    fields = {k: v for k, v in letter.items() if k not in ("body", "headers", "traceback")}
    lines = [f"{key}: {value}" for key, value in fields.items()]
    try:
        body = orjson.dumps(orjson.loads(letter["body"]), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        body = repr(letter["body"])
    headers = {k: v for k, v in letter["headers"].items() if not k.startswith("consumer_hub_")}
    lines += ["headers:", orjson.dumps(headers, option=orjson.OPT_INDENT_2, default=str).decode(),
              "body:", body, "traceback:", letter.get("traceback") or "(none)"]  # fmt: skip
    return "\n".join(lines)
