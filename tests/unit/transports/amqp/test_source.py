"""hub.transports.amqp.source: a delivery is acked only once finished, dead letters and
undecodable deliveries go to the dead-letter queue with why, a halt returns the rest."""

from __future__ import annotations

from typing import Any

from hub.transports.amqp.channel import Delivery
from hub.transports.amqp.deadletter import Why
from hub.transports.amqp.source import BrokerSource
from hub.transports.amqp.wire import encode
from hub.workers.delivery import DeadLetter


class Settler:
    """Records what the source asked of the connection."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def ack(self, tags: int | list[int], generation: int) -> bool:
        self.calls.append(("ack", tags))
        return True

    def nack(self, tag: int, generation: int, requeue: bool) -> bool:
        self.calls.append(("nack", tag, requeue))
        return True

    def dead_letter(self, delivery: Delivery, topic: str, why: Why) -> None:
        self.calls.append(("dead", delivery.tag, topic, why))


class Counts:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def on_received(self, count: int) -> None: ...

    def on_decode_error(self, cause: str) -> None:
        self.seen.append(("decode", cause))

    def on_unmatched(self, count: int) -> None:
        self.seen.append(("unmatched", count))

    def on_enqueued(self, name: str, count: int) -> None: ...


def delivery(tag: int, topic: str = "org.x.a", body: bytes | None = None) -> Delivery:
    sent = encode(topic, {"n": tag})
    return Delivery("q", tag, 1, topic, sent.properties, sent.body if body is None else body,
                    False)  # fmt: skip


def source() -> tuple[BrokerSource, Settler, Counts]:
    settler, counts = Settler(), Counts()
    made = BrokerSource(
        "c", accepts=lambda topic: topic.startswith("org.x"), window=10, settler=settler,
        counts=counts, call_from_thread=lambda f, *a: f(*a), max_message_bytes=1 << 20,
    )  # fmt: skip
    return made, settler, counts


def test_only_finished_deliveries_are_acked_and_dead_letters_go_with_their_reasons() -> None:
    """Nothing is acked on arrival; a finished one is acked; a dead-lettered one goes to
    dead_letter() with the error, traceback and attempts instead of being acked."""
    made, settler, _ = source()
    made.offer(delivery(1))
    made.offer(delivery(2))
    made.offer(delivery(3))
    assert settler.calls == []
    first, second, _ = made.take(10)
    made.add(DeadLetter("c", "org.x.a", None, b"{}", "boom", "Traceback...", 3, second.seq))
    made.queue.finish([first.seq, second.seq])
    assert settler.calls == [
        ("dead", 2, "org.x.a", Why("c", "boom", "Traceback...", 3)),
        ("ack", [1]),
    ]
    assert made.return_unfinished() == 1
    assert settler.calls[-1] == ("nack", 3, True)


def test_deliveries_not_for_the_consumer_are_acked_and_undecodable_ones_dead_lettered() -> None:
    """A topic outside the glob: acked, counted unmatched; a body that is not JSON: to the
    dead-letter queue saying why, counted under its cause; neither reaches the window."""
    made, settler, counts = source()
    made.offer(delivery(1, topic="org.y.a"))
    made.offer(delivery(2, body=b"{not json"))
    assert settler.calls[0] == ("ack", 1)
    _, tag, topic, why = settler.calls[1]
    assert (tag, topic, why.attempts) == (2, "org.x.a", 0)
    assert why.error.startswith("cannot decode: json:")
    assert counts.seen == [("unmatched", 1), ("decode", "json")]
    assert len(made.queue) == 0


def test_deliveries_of_one_reactor_turn_enter_the_window_together() -> None:
    """With call_soon, what one read delivered goes into the window in one put when the turn
    ends (one wake-up of the worker), in order; a halt before then nacks them all the same."""
    settler, counts = Settler(), Counts()
    soon: list[Any] = []
    made = BrokerSource(
        "c", accepts=lambda topic: True, window=10, settler=settler, counts=counts,
        call_from_thread=lambda f, *a: f(*a), max_message_bytes=1 << 20, call_soon=soon.append,
    )  # fmt: skip
    for tag in (1, 2, 3):
        made.offer(delivery(tag))
    assert (len(soon), len(made.queue)) == (1, 0)
    soon.pop()()
    assert [item.message.body for item in made.take(10)] == [{"n": 1}, {"n": 2}, {"n": 3}]
    made.offer(delivery(4))
    assert made.return_unfinished() == 4
    soon.pop()()
    assert len(made.queue) == 0
