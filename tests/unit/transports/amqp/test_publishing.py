"""hub.transports.amqp.publishing: confirms, the errors a publish can end in, reopening."""

from __future__ import annotations

from typing import Any

import pytest
from pika.exceptions import ChannelClosedByBroker, NackError, UnroutableError
from twisted.internet import defer
from twisted.python.failure import Failure

from hub.transports.amqp.errors import NotConnected, PublishRejected
from hub.transports.amqp.publishing import PublishChannel
from hub.transports.amqp.wire import encode


class FakeChannel:
    """A confirm-mode channel whose confirms the test decides."""

    def __init__(self) -> None:
        self.is_open = True
        self.on_closed: defer.Deferred[Any] = defer.Deferred()
        self.confirms: list[defer.Deferred[Any]] = []
        self.sent: list[tuple[str, str, bytes, bool]] = []

    def confirm_delivery(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def basic_publish(
        self, exchange: str, key: str, body: bytes, props: Any, mandatory: bool = False
    ) -> Any:
        self.sent.append((exchange, key, body, mandatory))
        self.confirms.append(defer.Deferred())
        return self.confirms[-1]


class FakeProto:
    def __init__(self) -> None:
        self.is_open = True
        self.channels: list[FakeChannel] = []

    def channel(self) -> defer.Deferred[FakeChannel]:
        self.channels.append(FakeChannel())
        return defer.succeed(self.channels[-1])


def opened() -> tuple[FakeProto, PublishChannel]:
    proto = FakeProto()
    publisher = PublishChannel(proto, "amq.topic")
    publisher.open()
    return proto, publisher


def outcome(d: defer.Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    return results[0]


def test_the_deferred_fires_only_when_the_broker_confirms() -> None:
    """publish() sends to the exchange at once and fires on the broker's ack."""
    proto, publisher = opened()
    sent = publisher.publish(encode("a.b", {"k": 1}))
    assert not sent.called
    assert proto.channels[0].sent == [("amq.topic", "a.b", b'{"k": 1}', False)]
    proto.channels[0].confirms[0].callback("ack")
    assert outcome(sent) is None


def test_a_publish_to_a_queue_goes_by_name_through_the_default_exchange_mandatory() -> None:
    """publish(queue=...) sends to "" with the queue's name as key, mandatory (no silent loss
    when the queue is gone)."""
    proto, publisher = opened()
    publisher.publish(encode("a.b", {"k": 1}), queue="q.dead-letters")
    assert proto.channels[0].sent == [("", "q.dead-letters", b'{"k": 1}', True)]


@pytest.mark.parametrize(
    ("error", "expected", "detail"),
    [
        (NackError([]), PublishRejected, "rejected"),
        (UnroutableError([]), PublishRejected, "rejected"),
        (ChannelClosedByBroker(403, "ACCESS_REFUSED"), PublishRejected, "forbidden"),
        (ChannelClosedByBroker(406, "PRECONDITION_FAILED"), NotConnected, "not confirmed"),
    ],
)
def test_each_way_a_publish_can_fail_has_its_error(
    error: Exception, expected: type[Exception], detail: str
) -> None:
    """Nack, return, 403 are rejections; any other closed channel means 'unconfirmed'."""
    proto, publisher = opened()
    sent = publisher.publish(encode("a.b", {}))
    proto.channels[0].confirms[0].errback(Failure(error))
    failure = outcome(sent)
    assert failure.check(expected) and detail in str(failure.value)


def test_a_channel_the_broker_closes_is_replaced_while_the_connection_lives() -> None:
    """After the broker closes the channel, publishing fails fast until a new one is open."""
    proto, publisher = opened()
    first = proto.channels[0]
    first.is_open = False
    first.on_closed.callback(ChannelClosedByBroker(403, "ACCESS_REFUSED"))
    assert len(proto.channels) == 2 and publisher.channel is proto.channels[1]
    assert publisher.reopened == 1
    publisher.close()
    proto.channels[1].is_open = False
    proto.channels[1].on_closed.callback(None)
    assert len(proto.channels) == 2
    assert outcome(publisher.publish(encode("a.b", {}))).check(NotConnected)
