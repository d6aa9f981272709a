"""consumers.bridge: forwards to the configured output, refuses what it cannot be, never loops."""

from __future__ import annotations

from typing import Any

import pytest

from consumers.bridge import Bridge
from hub import Drop, Message, Reject
from hub.errors import PublishFailed, PublishRefused
from hub.transports.base import BRIDGED


class FakeHub:
    """Records forward() calls; raises ``error`` when set."""

    def __init__(self, outputs: set[str], error: Exception | None = None) -> None:
        self.outputs = frozenset(outputs)
        self.error = error
        self.forwarded: list[tuple[Message, str]] = []

    def publish(self, topic: str, body: Any) -> None:
        raise AssertionError("a bridge never publishes new messages")

    def forward(self, message: Message, to: str) -> None:
        if self.error is not None:
            raise self.error
        self.forwarded.append((message, to))


def bridge(to: Any, hub: FakeHub) -> Bridge:
    consumer = Bridge("b", {"to": to}, hub)
    consumer.setup()
    return consumer


def test_each_message_is_forwarded_to_the_configured_transport() -> None:
    """consume() hands the message itself to hub.forward(..., to)."""
    hub = FakeHub({"amqp", "zmq"})
    message = Message("org.x", {"msg": {}, "msg_id": "1"})
    bridge("amqp", hub).consume(message)
    assert hub.forwarded == [(message, "amqp")]


@pytest.mark.parametrize(("to", "outputs", "says"), [
    (None, {"amqp"}, "must be one of: amqp, zmq"),
    ("rabbit", {"amqp"}, "must be one of"),
    ("amqp", {"zmq"}, "no amqp output: add an amqp section"),
    ("zmq", {"amqp"}, "no zmq output: add a publish_endpoint"),
])  # fmt: skip
def test_setup_refuses_a_target_the_hub_cannot_send_on(
    to: Any, outputs: set[str], says: str
) -> None:
    """A missing, unknown or unconfigured ``to`` fails setup() with what to change."""
    with pytest.raises(ValueError, match=says):
        bridge(to, FakeHub(outputs))


def test_a_message_a_bridge_carried_already_is_dropped_not_carried_back() -> None:
    """The consumer_hub_bridged header means another bridge wrote it: Drop, nothing forwarded."""
    hub = FakeHub({"zmq"})
    carried = Message("org.x", {"msg": {}, "headers": {BRIDGED: "amqp"}})
    with pytest.raises(Drop, match="carried it already"):
        bridge("zmq", hub).consume(carried)
    assert hub.forwarded == []


def test_a_refused_message_is_rejected_and_a_failed_one_retried() -> None:
    """PublishRefused becomes hub.Reject (dead letter now); PublishFailed propagates (retry)."""
    message = Message("org.x", {"msg": {}})
    with pytest.raises(Reject, match="too long"):
        bridge("amqp", FakeHub({"amqp"}, PublishRefused("too long"))).consume(message)
    with pytest.raises(PublishFailed, match="down"):
        bridge("amqp", FakeHub({"amqp"}, PublishFailed("down"))).consume(message)
