"""hub.workers.batch: consume_batch() calls, per-message results, outages and fills, on a fake
thread."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from hub import Consumer, Drop, Halt, Message, Unavailable
from hub.config import ConsumerConfig, RetryConfig
from hub.errors import PluginLoadError
from hub.plugins.loader import LoadedConsumer, load_consumer
from hub.routing.topics import TopicMatcher
from hub.storage.spool import Spool
from hub.workers.batch import BatchCall, delivery_for
from hub.workers.delivery import Delivery
from hub.workers.worker import ConsumerWorkers, Outcome
from hub.workers.workqueue import Item, WorkQueue
from tests.unit.workers.test_worker import DEAD, InlineThread


class Batched(Consumer):
    """Writes batches; ``script`` says what each call does with its batch."""

    topics = ["*"]

    def setup(self) -> None:
        self.batches: list[list[Any]] = []
        self.alone: list[Any] = []
        self.outages = 0
        self.abort: Any = None

    def consume_batch(self, messages: list[Message]) -> Sequence[BaseException | None] | None:
        bodies = [m.body for m in messages]
        self.batches.append(bodies)
        if "down" in bodies and self.outages < 2:
            self.outages += 1
            if self.abort is not None:
                self.abort()
            raise Unavailable("database down")
        if "explode" in bodies and len(bodies) > 1:
            raise RuntimeError("one bad row fails the transaction")
        if "garbage" in bodies:
            return "not a list"  # type: ignore[return-value]
        return [_result(body) for body in bodies]

    def consume(self, message: Message) -> None:
        self.alone.append(message.body)
        if message.body in ("boom", "explode"):
            raise ValueError(message.body)


class BatchOnly(Batched):
    """Has consume_batch() only: a lone delivery is a batch of one."""

    consume = Consumer.consume  # type: ignore[assignment]


def _result(body: Any) -> BaseException | None:
    return {"boom": ValueError("boom"), "drop": Drop("unwanted"), "halt": Halt("stop")}.get(body)


def run(bodies: list[Any], cls: type[Batched] = Batched, size: int = 10, abort: bool = False,
        attempts: int = 1) -> tuple[Batched, WorkQueue, list[Outcome], list[str]]:  # fmt: skip
    """Run ``bodies`` through a consumer of class ``cls`` to the end; its calls and outcomes."""
    consumer = cls("b", {}, hub=None)  # type: ignore[arg-type]
    config = ConsumerConfig(cls="x", batch_size=size, batch_wait_s=0)
    loaded = LoadedConsumer("b", consumer, ("*",), TopicMatcher(["*"]), config)
    queue = WorkQueue("b", 100)
    queue.put_many([Item(Message("t", {"msg": b}), 0.0, n) for n, b in enumerate(bodies)])
    if not abort:
        queue.close()
    outcomes: list[Outcome] = []
    events: list[str] = []
    spool = Spool("b", queue, reader=None, accepts=lambda topic: True)  # type: ignore[arg-type]
    retry = RetryConfig(max_attempts=attempts, initial_delay_s=0, jitter=0)
    DEAD.rows.clear()
    delivery, batches = delivery_for(loaded, queue, retry, DEAD)
    workers = ConsumerWorkers(loaded, spool, delivery=delivery, batches=batches,
                              report=lambda name, report: outcomes.extend(report.as_outcomes()),
                              events=lambda event, index, error: events.append(event.value),
                              thread_factory=InlineThread)  # fmt: skip
    consumer.setup()
    consumer.setup = lambda: None  # type: ignore[method-assign]
    consumer.abort = workers.abort if abort else None
    workers.start()
    return consumer, queue, outcomes, events


def test_one_call_for_what_the_window_holds_bounded_by_batch_size() -> None:
    """The window's messages go to consume_batch() in calls of at most batch_size, all done."""
    consumer, _, outcomes, events = run(list(range(7)), size=3)
    assert consumer.batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert [o.kind for o in outcomes] == ["done"] * 7
    assert consumer.alone == []
    assert events == ["started", "stopped"]


def test_messages_done_together_share_the_call_duration() -> None:
    """Each message of a batch is reported with the duration of the one call it was in."""
    _, _, outcomes, _ = run([1, 2, 3])
    assert len({o.duration_s for o in outcomes}) == 1


def test_a_failed_message_is_retried_alone_and_the_rest_are_done() -> None:
    """Per-message results: the error goes down the slow path alone, a Drop is dropped."""
    consumer, _, outcomes, _ = run([1, "boom", "drop", 4], attempts=2)
    assert consumer.batches == [[1, "boom", "drop", 4]]
    assert consumer.alone == ["boom"]  # its second attempt, through consume()
    kinds = {o.seq: o.kind for o in outcomes}
    assert kinds == {0: "done", 1: "failed", 2: "dropped", 3: "done"}
    assert [row.msg_id for row in DEAD.rows] == [None]  # the one dead letter: "boom"


def test_a_batch_that_raises_is_delivered_one_at_a_time() -> None:
    """consume_batch() raising fails no message: each goes through consume() alone."""
    consumer, _, outcomes, _ = run([1, "explode", 3])
    assert consumer.alone == [1, "explode", 3]
    assert {o.seq: o.kind for o in outcomes} == {0: "done", 1: "failed", 2: "done"}


def test_a_batch_only_class_gets_lone_deliveries_as_batches_of_one() -> None:
    """Without consume(), the lone delivery after a failed batch is consume_batch([message])."""
    consumer, _, outcomes, _ = run([1, "explode", 3], cls=BatchOnly)
    assert consumer.batches == [[1, "explode", 3], [1], ["explode"], [3]]
    assert {o.seq: o.kind for o in outcomes} == {0: "done", 1: "done", 2: "done"}


def test_a_result_of_the_wrong_shape_sends_each_message_alone() -> None:
    """A consume_batch() returning neither None nor one result per message: consume() each."""
    consumer, _, outcomes, _ = run([1, "garbage"])
    assert consumer.alone == [1, "garbage"]
    assert [o.kind for o in outcomes] == ["done", "done"]


def test_unavailable_is_waited_out_without_counting_an_attempt() -> None:
    """hub.Unavailable: the same batch is called again after the outage; nothing fails."""
    consumer, _, outcomes, _ = run(["down", 2], attempts=1)
    assert consumer.batches == [["down", 2]] * 3
    assert [o.kind for o in outcomes] == ["done", "done"]
    assert DEAD.rows == []


def test_shutdown_during_an_outage_gives_the_whole_batch_back() -> None:
    """Aborted while waiting out hub.Unavailable: no message is finished, all stay queued."""
    _, queue, outcomes, _ = run(["down", 2, 3], abort=True)
    assert outcomes == []
    assert [item.message.body for item in queue.drain_remaining()] == ["down", 2, 3]


def test_halt_in_the_results_stops_the_consumer_after_the_done_ones() -> None:
    """A Halt result: the messages done are reported, the halting one goes back to the queue."""
    _, queue, outcomes, events = run([1, "halt", 3])
    assert {o.seq: o.kind for o in outcomes} == {0: "done", 2: "done", 1: "halted"}
    assert "halted" in events
    assert [item.seq for item in queue.drain_remaining()] == [1]


def test_fill_tops_a_batch_up_from_the_window_within_the_wait() -> None:
    """fill(): a batch taken with one message gets those that are in the window, no more."""
    queue = WorkQueue("f", 100)
    queue.put_many([Item(Message("t", {"msg": n}), 0.0, n) for n in range(3)])
    delivery = Delivery("f", lambda m: None, config=RetryConfig(), dead_letters=DEAD)
    call = BatchCall("f", lambda ms: None, queue=queue, delivery=delivery, size=5, wait_s=0.01)
    filled = call.fill(queue.get_many(1))
    assert [item.seq for item in filled] == [0, 1, 2]
    assert len(queue) == 0


def test_plain_consume_unavailable_counts_no_attempt() -> None:
    """consume() raising Unavailable is tried again past max_attempts: the message is done."""
    calls: list[int] = []

    def consume(message: Message) -> None:
        calls.append(1)
        if len(calls) < 4:
            raise Unavailable("broker down")

    delivery = Delivery("u", consume, config=RetryConfig(max_attempts=1, initial_delay_s=0,
                        jitter=0), dead_letters=DEAD)  # fmt: skip
    delivery.retrying = [None]
    outcome = delivery.deliver(0, Item(Message("t", {"msg": 1}), 0.0, 0), [None])
    assert (outcome.kind, outcome.attempts, len(calls)) == ("done", 1, 4)


def test_batch_size_on_a_class_without_consume_batch_is_refused() -> None:
    """batch_size names a consume_batch() the class does not have: a PluginLoadError says so."""
    config = ConsumerConfig(cls="tests.unit.workers.test_worker:Scripted", batch_size=10)
    with pytest.raises(PluginLoadError, match="batch_size is set, but class Scripted has no"):
        load_consumer("s", config, hub=None)  # type: ignore[arg-type]


def test_a_class_with_only_consume_batch_loads() -> None:
    """consume_batch() alone is a complete consumer."""
    config = ConsumerConfig(cls="tests.unit.workers.test_batch:BatchOnly")
    assert load_consumer("b", config, hub=None).name == "b"  # type: ignore[arg-type]
