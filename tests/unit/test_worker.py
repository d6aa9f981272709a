"""hub.worker: setup/consume/teardown order, outcomes and reports, on a fake thread."""

from __future__ import annotations

from typing import Any

from hub import Consumer, Drop, Halt, Message
from hub.config import ConsumerConfig
from hub.loader import LoadedConsumer
from hub.topics import TopicMatcher
from hub.worker import ConsumerWorkers, Outcome
from hub.workqueue import Item, WorkQueue


class InlineThread:
    """A fake thread whose start() runs the target at once, on the test's thread."""

    def __init__(self, target: Any, args: tuple, name: str, daemon: bool) -> None:
        self.target, self.args, self.name = target, args, name

    def start(self) -> None:
        self.target(*self.args)


class Scripted(Consumer):
    topics = ["*"]

    def setup(self) -> None:
        self.calls = ["setup"]

    def consume(self, message: Message) -> None:
        self.calls.append(message.body)
        action = message.body
        if action == "boom":
            raise ValueError("boom")
        if action == "drop":
            raise Drop("not wanted")
        if action == "halt":
            raise Halt("stop here")

    def teardown(self) -> None:
        self.calls.append("teardown")


def run(bodies: list[Any]) -> tuple[Scripted, WorkQueue, list[Outcome], list[tuple]]:
    consumer = Scripted("s", {}, hub=None)  # type: ignore[arg-type]
    loaded = LoadedConsumer("s", consumer, ("*",), TopicMatcher(["*"]), ConsumerConfig(cls="x"))
    queue = WorkQueue("s", 100)
    queue.put_many(Item(Message("t", {"msg": b, "timestamp": 1.0}), 0.0) for b in bodies)
    queue.close()
    outcomes: list[Outcome] = []
    events: list[tuple] = []
    workers = ConsumerWorkers(
        loaded,
        queue,
        lambda name, batch: outcomes.extend(batch),
        lambda name, event, error: events.append((event, error)),
        thread_factory=InlineThread,
    )
    workers.start()
    return consumer, queue, outcomes, events


def test_setup_then_every_message_then_teardown() -> None:
    """Lifecycle order on the worker thread, and one done outcome per message."""
    consumer, _, outcomes, events = run([1, 2, 3])
    assert consumer.calls == ["setup", 1, 2, 3, "teardown"]
    assert [o.kind for o in outcomes] == ["done"] * 3
    assert events == [("started", None), ("stopped", None)]
    assert all(o.latency_s is not None and o.latency_s > 0 for o in outcomes)


def test_an_exception_is_counted_failed_and_the_worker_goes_on() -> None:
    """consume() raising does not stop the worker: the next message is consumed."""
    consumer, _, outcomes, _ = run([1, "boom", "drop", 2])
    assert consumer.calls[1:5] == [1, "boom", "drop", 2]
    assert [o.kind for o in outcomes] == ["done", "failed", "dropped", "done"]


def test_halt_stops_the_consumer_and_keeps_the_message_and_backlog() -> None:
    """Halt: the worker stops, the halting message and those behind it stay queued."""
    _, queue, outcomes, events = run([1, "halt", 2, 3])
    assert [o.kind for o in outcomes] == ["done", "halted"]
    assert ("halted", None) in events
    assert [i.message.body for i in queue.drain_remaining()] == ["halt", 2, 3]
