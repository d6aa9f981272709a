"""A dead letter on the broker: the delivery as it came, with the hub's reasons in its headers.

Runs on the reactor thread (`copy`, when a dead-lettered delivery is finished) and on the CLI's
main thread (`describe`, `cleaned`). Pure: no I/O. The hub does not leave dead-lettering to
RabbitMQ (a reject without requeue records only ``x-death``: reason "rejected", a count, the
routing key): it publishes this copy to ``<queue>.dead-letters`` with confirms and acks the
delivery after. Every hub sharing the consumer then sees why each message failed.
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any, NamedTuple

from pika.spec import BasicProperties

from hub.transports.amqp.channel import Delivery
from hub.transports.amqp.wire import Encoded

# The headers a dead letter carries; TOPIC is also what a replayed message is routed by.
TOPIC = "consumer_hub_topic"
CONSUMER = "consumer_hub_consumer"
ERROR = "consumer_hub_error"
TRACEBACK = "consumer_hub_traceback"
ATTEMPTS = "consumer_hub_attempts"
FAILED_AT = "consumer_hub_failed_at"
HOST = "consumer_hub_host"
REASONS = (CONSUMER, ERROR, TRACEBACK, ATTEMPTS, FAILED_AT, HOST)
MAX_ERROR_CHARS = 2_000
MAX_TRACEBACK_CHARS = 16_000  # the end of it: where the exception is


class Why(NamedTuple):
    """Why a delivery is dead-lettered."""

    consumer: str
    error: str
    traceback: str = ""
    attempts: int = 0  # 0: never given to the consumer (it could not be decoded)


def copy(delivery: Delivery, topic: str, why: Why, failed_at: dt.datetime) -> Encoded:
    """The delivery to publish to its dead-letter queue: body and properties as they came,
    the hub's reasons added to the headers."""
    given = delivery.properties
    headers: dict[str, Any] = dict(given.headers or {})
    headers.update({
        TOPIC: topic, CONSUMER: why.consumer, ERROR: why.error[:MAX_ERROR_CHARS],
        TRACEBACK: why.traceback[-MAX_TRACEBACK_CHARS:], ATTEMPTS: why.attempts,
        FAILED_AT: failed_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        HOST: socket.gethostname(),
    })  # fmt: skip
    properties = BasicProperties(
        content_type=given.content_type, content_encoding=given.content_encoding,
        headers=headers, delivery_mode=2, priority=given.priority,
        correlation_id=given.correlation_id, reply_to=given.reply_to,
        expiration=None, message_id=given.message_id, timestamp=given.timestamp,
        type=given.type, user_id=None, app_id=given.app_id,
    )  # fmt: skip
    return Encoded(topic, properties, delivery.body)


def describe(properties: Any, routing_key: str) -> dict[str, Any]:
    """What a dead letter says of itself: topic, msg_id, consumer, attempts, failed_at, host,
    error, traceback; for one RabbitMQ dead-lettered (no hub headers), ``x-death``'s."""
    headers = properties.headers or {}
    found = {"topic": headers.get(TOPIC), "msg_id": properties.message_id or "-"}
    if ERROR in headers:
        return found | {key.removeprefix("consumer_hub_"): _text(headers.get(key))
                        for key in REASONS}  # fmt: skip
    deaths = headers.get("x-death") or [{}]
    keys = deaths[0].get("routing-keys") or [routing_key]
    reason = f"{_text(deaths[0].get('reason', '?'))} x{deaths[0].get('count', 1)} (RabbitMQ)"
    return found | {"topic": found["topic"] or _text(keys[0]), "error": reason}


def cleaned(properties: Any) -> dict[str, Any]:
    """A dead letter's headers for its replay: the hub's reasons and ``x-death`` removed, the
    topic kept (the replay reaches the consumer's queue by name, not by topic)."""
    headers = dict(properties.headers or {})
    for key in (*REASONS, "x-death", "x-first-death-exchange", "x-first-death-queue",
                "x-first-death-reason"):  # fmt: skip
        headers.pop(key, None)
    return headers


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
