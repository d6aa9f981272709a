"""hub.transports.amqp.deadletter: the copy keeps the delivery and adds why; reading it back."""

from __future__ import annotations

import datetime as dt

from pika.spec import BasicProperties

from hub.transports.amqp.channel import Delivery
from hub.transports.amqp.deadletter import MAX_TRACEBACK_CHARS, Why, cleaned, copy, describe
from hub.transports.amqp.wire import encode

WHEN = dt.datetime(2026, 12, 1, 10, 0, 5, tzinfo=dt.UTC)


def test_the_copy_keeps_body_id_and_headers_and_adds_the_hubs_reasons() -> None:
    """Body, message id and fedora-messaging headers unchanged; topic, consumer, error, the
    end of the traceback, attempts, time and host added; describe() reads them back."""
    sent = encode("org.x.a", {"n": 1}, headers={"x-site": "iad2"})
    got = Delivery("q", 7, 1, "org.x.a", sent.properties, sent.body, False)
    trace = "Traceback\n" + "x" * MAX_TRACEBACK_CHARS + "\nValueError: boom"
    letter = copy(got, "org.x.a", Why("badges", "ValueError('boom')", trace, 5), WHEN)
    assert letter.body == sent.body and letter.properties.message_id == sent.properties.message_id
    assert letter.properties.delivery_mode == 2
    headers = letter.properties.headers
    assert headers["x-site"] == "iad2" and headers["fedora_messaging_schema"] == "base.message"
    said = describe(letter.properties, "q.dead-letters")
    assert said["topic"] == "org.x.a" and said["msg_id"] == sent.properties.message_id
    assert (said["consumer"], said["error"], said["attempts"]) == (
        "badges",
        "ValueError('boom')",
        5,
    )
    assert said["failed_at"] == "2026-12-01T10:00:05+00:00" and said["host"]
    assert said["traceback"].endswith("ValueError: boom")
    assert len(said["traceback"]) == MAX_TRACEBACK_CHARS
    assert set(cleaned(letter.properties)) == {*sent.properties.headers, "consumer_hub_topic"}


def test_a_letter_rabbitmq_dead_lettered_is_described_from_x_death() -> None:
    """No hub headers (a copy that was not confirmed): topic and reason from x-death."""
    properties = BasicProperties(message_id="m1", headers={"x-death": [
        {"reason": "rejected", "count": 2, "routing-keys": ["org.x.b"]}]})  # fmt: skip
    said = describe(properties, "q.dead-letters")
    assert said == {"topic": "org.x.b", "msg_id": "m1", "error": "rejected x2 (RabbitMQ)"}
    assert cleaned(properties) == {}
