"""hub.transports.amqp.publisher: forward() confirms, and says which failures may be retried."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer

from hub.errors import PublishFailed, PublishRefused
from hub.message import Message
from hub.transports.amqp.errors import NotConnected, PublishRejected
from hub.transports.amqp.publisher import AmqpPublisher
from hub.transports.amqp.wire import Encoded
from hub.transports.base import BRIDGED


class Connection:
    """Answers each publish with the next of ``answers``; keeps what was published."""

    def __init__(self, *answers: defer.Deferred[None]) -> None:
        self.answers = list(answers)
        self.sent: list[Encoded] = []

    def publish(self, message: Encoded) -> defer.Deferred[None]:
        self.sent.append(message)
        return self.answers.pop(0)


def outcome(publisher: AmqpPublisher, message: Message) -> Any:
    """What forward()'s Deferred fired with: None, or the failure's exception."""
    results: list[Any] = []
    publisher.forward(message).addCallbacks(results.append, lambda f: results.append(f.value))
    return results[0]


MESSAGE = Message("org.x.a", {"msg": {"n": 1}, "msg_id": "2026-1", "timestamp": 100.0})


def test_forward_counts_a_confirmed_message_and_keeps_its_id() -> None:
    """Confirmed: the Deferred fires, published counts it; the message id is the msg_id."""
    connection = Connection(defer.succeed(None))
    publisher = AmqpPublisher(None, lambda: connection)  # type: ignore[arg-type]
    assert outcome(publisher, MESSAGE) is None
    (sent,) = connection.sent
    assert sent.properties.message_id == "2026-1" and sent.properties.headers[BRIDGED] == "amqp"
    assert publisher.figures() == {"published": 1, "publish_dropped": 0}


def test_forward_failures_are_retryable_or_refused_and_never_counted_as_drops() -> None:
    """Not connected or unconfirmed: PublishFailed; rejected or unencodable: PublishRefused."""
    connection = Connection(defer.fail(NotConnected("gone")), defer.fail(PublishRejected("403")))
    publisher = AmqpPublisher(None, lambda: connection)  # type: ignore[arg-type]
    first, second = outcome(publisher, MESSAGE), outcome(publisher, MESSAGE)
    assert type(first) is PublishFailed and "gone" in str(first)
    assert type(second) is PublishRefused and "403" in str(second)
    assert type(outcome(publisher, Message("org.x", {"msg": [1]}))) is PublishRefused
    nowhere = AmqpPublisher(None, lambda: None)  # type: ignore[arg-type]
    assert type(outcome(nowhere, MESSAGE)) is PublishFailed
    assert publisher.figures() == {"published": 0, "publish_dropped": 0}
