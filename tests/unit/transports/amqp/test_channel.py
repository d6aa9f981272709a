"""hub.transports.amqp.channel: declarations in order, deliveries stamped, settling guarded."""

from __future__ import annotations

from typing import Any

import pytest
from pika import spec
from pika.adapters.twisted_connection import ClosableDeferredQueue, ReceivedMessage
from pika.exceptions import ConsumerCancelled
from twisted.internet import defer

from hub.transports.amqp.channel import ConsumeChannel, Delivery, QueueSpec
from hub.transports.amqp.errors import GlobNotBindable


class FakeChannel:
    """Records every AMQP method called; each returns at once, as a broker on loopback would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.sources: dict[str, ClosableDeferredQueue] = {}
        self.is_open = True

    def __getattr__(self, name: str) -> Any:
        def method(*args: Any, **kwargs: Any) -> defer.Deferred[Any]:
            self.calls.append((name, args, kwargs))
            return defer.succeed(None)

        return method

    def basic_consume(self, queue: str, auto_ack: bool) -> defer.Deferred[Any]:
        self.calls.append(("basic_consume", (queue,), {"auto_ack": auto_ack}))
        self.sources[queue] = ClosableDeferredQueue()
        return defer.succeed((self.sources[queue], f"ctag-{queue}"))

    def deliver(self, queue: str, tag: int, key: str = "a.b", redelivered: bool = False) -> None:
        method = spec.Basic.Deliver(delivery_tag=tag, routing_key=key, redelivered=redelivered)
        self.sources[queue].put(ReceivedMessage(self, method, spec.BasicProperties(), b"{}"))


def consuming(*specs: QueueSpec) -> tuple[FakeChannel, ConsumeChannel, list[Delivery]]:
    fake, got = FakeChannel(), list[Delivery]()
    channel = ConsumeChannel(fake, 4, got.append)
    channel.setup("amq.topic", specs)
    return fake, channel, got


def test_queues_are_declared_bound_then_consumed_each_after_its_own_prefetch() -> None:
    """Exchange (passive for amq.*), DLQ, queue with its arguments, bindings; qos before consume."""
    dead = QueueSpec("hub.a", ("a.#", "b"), queue_type="quorum", prefetch=5,
                     single_active_consumer=True, dead_letter_queue="hub.a.dead")  # fmt: skip
    fake, _, _ = consuming(dead, QueueSpec("hub.b", ("#",)))
    names = [name for name, _, _ in fake.calls]
    assert names == ["exchange_declare", "queue_declare", "queue_declare", "queue_bind",
                     "queue_bind", "queue_declare", "queue_bind", "basic_qos", "basic_consume",
                     "basic_qos", "basic_consume"]  # fmt: skip
    assert fake.calls[0][2]["passive"] is True
    assert fake.calls[1][1] == ("hub.a.dead",) and fake.calls[2][1] == ("hub.a",)
    assert fake.calls[2][2]["durable"] is True and fake.calls[2][2]["arguments"] == {
        "x-queue-type": "quorum", "x-single-active-consumer": True,
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "hub.a.dead",
    }  # fmt: skip
    assert [kwargs for name, _, kwargs in fake.calls if name == "basic_qos"] == [
        {"prefetch_count": 5}, {"prefetch_count": 0}  # None: unlimited, reset per consumer
    ]  # fmt: skip


def test_a_consumers_queue_is_named_from_the_prefix_and_bound_to_its_globs() -> None:
    """for_consumer: <prefix>.<name>, keys from the glob table, dead letters beside it."""
    queue = QueueSpec.for_consumer("consumer-hub", "badges", ["org.x.*", "org.x.*", "a.b"],
                                   queue_type="quorum", prefetch=10)  # fmt: skip
    assert (queue.name, queue.binding_keys) == ("consumer-hub.badges", ("org.x.*.#", "a.b"))
    assert queue.dead_letter_queue == "consumer-hub.badges.dead-letters"
    assert (queue.queue_type, queue.prefetch) == ("quorum", 10)
    with pytest.raises(GlobNotBindable, match=r"'org\.x\.up\*'"):
        QueueSpec.for_consumer("consumer-hub", "badges", ["org.x.up*"], strict=True)


def test_each_delivery_carries_queue_tag_generation_and_redelivered() -> None:
    """Deliveries are handed on in order, stamped with the channel's generation."""
    fake, _, got = consuming(QueueSpec("hub.a", ("#",)))
    fake.deliver("hub.a", 1)
    fake.deliver("hub.a", 2, key="x.y", redelivered=True)
    assert [(d.queue, d.tag, d.generation, d.routing_key, d.redelivered) for d in got] == [
        ("hub.a", 1, 4, "a.b", False), ("hub.a", 2, 4, "x.y", True)
    ]  # fmt: skip


def test_a_tag_is_settled_once_and_only_if_delivered_on_an_open_channel() -> None:
    """Ack, nack: sent once per delivered tag; twice, unknown, or closed channel: refused."""
    fake, channel, _ = consuming(QueueSpec("hub.a", ("#",)))
    for tag in (1, 2, 3):
        fake.deliver("hub.a", tag)
    assert channel.ack([1]) and not channel.ack([1]) and not channel.nack(9, requeue=True)
    assert channel.nack(2, requeue=False)
    fake.is_open = False
    assert not channel.ack([3])
    sent = [(name, kw) for name, _, kw in fake.calls if name in ("basic_ack", "basic_nack")]
    assert sent == [("basic_ack", {"delivery_tag": 1}),
                    ("basic_nack", {"delivery_tag": 2, "requeue": False})]  # fmt: skip


def test_finished_tags_below_every_unsettled_one_are_acked_in_one_multiple_ack() -> None:
    """ack([2, 1, 3, 5]) with 4 and 6 outstanding: one basic.ack(3, multiple) and one for 5;
    then ack([4, 6]) with nothing else outstanding: one basic.ack(6, multiple)."""
    fake, channel, _ = consuming(QueueSpec("hub.a", ("#",)))
    for tag in range(1, 7):
        fake.deliver("hub.a", tag)
    assert channel.ack([2, 1, 3, 5]) and channel.unsettled == {4, 6}
    assert channel.ack([4, 6]) and channel.unsettled == set()
    sent = [kw for name, _, kw in fake.calls if name == "basic_ack"]
    assert sent == [{"delivery_tag": 3, "multiple": True}, {"delivery_tag": 5},
                    {"delivery_tag": 6, "multiple": True}]  # fmt: skip


def test_ended_fires_when_the_broker_cancels_a_consumer() -> None:
    """A consumer's queue object closing (e.g. queue deleted) fires ended with the reason."""
    fake, channel, _ = consuming(QueueSpec("hub.a", ("#",)))
    fake.sources["hub.a"].close(ConsumerCancelled())
    reasons: list[str] = []
    channel.ended.addCallback(reasons.append)
    assert len(reasons) == 1 and "hub.a" in reasons[0]


def test_cancel_stops_every_consumer_and_marks_the_channel_cancelling() -> None:
    """cancel() sends basic.cancel per consumer tag; ended after it is not a failure."""
    fake, channel, _ = consuming(QueueSpec("hub.a", ("#",)), QueueSpec("hub.b", ("#",)))
    channel.cancel()
    cancels = [args for name, args, _ in fake.calls if name == "basic_cancel"]
    assert cancels == [("ctag-hub.a",), ("ctag-hub.b",)] and channel.cancelling
