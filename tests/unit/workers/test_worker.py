"""hub.workers.worker: setup/consume/teardown order, outcomes and reports, on a fake thread."""

from __future__ import annotations

from typing import Any

from hub import Consumer, Drop, Halt, Message, Reject, Retry
from hub.config import ConsumerConfig, RetryConfig
from hub.observe.stats import Stats
from hub.plugins.loader import LoadedConsumer
from hub.routing.topics import TopicMatcher
from hub.storage.spool import Spool
from hub.workers.delivery import DeadLetter, Delivery, Fate
from hub.workers.worker import ConsumerWorkers, LifeEvent, Outcome
from hub.workers.workqueue import Item, WorkQueue


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
        if action == "halt-done":
            raise Halt("stop after this one", requeue=False)
        if action == "reject":
            raise Reject("can never be sent")
        if action == "retry" and self.calls.count("retry") < 2:
            raise Retry(delay=0)
        if action == "die":
            raise SystemExit("plugin called sys.exit()")

    def teardown(self) -> None:
        self.calls.append("teardown")


class FakeDeadLetters:
    """Records dead letters in a list."""

    def __init__(self) -> None:
        self.rows: list[DeadLetter] = []

    def add(self, letter: DeadLetter) -> None:
        self.rows.append(letter)


DEAD = FakeDeadLetters()


def run(
    bodies: list[Any], attempts: int = 1
) -> tuple[Scripted, WorkQueue, list[Outcome], list[tuple]]:
    consumer = Scripted("s", {}, hub=None)  # type: ignore[arg-type]
    loaded = LoadedConsumer("s", consumer, ("*",), TopicMatcher(["*"]), ConsumerConfig(cls="x"))
    queue = WorkQueue("s", 100)
    queue.put_many(
        [Item(Message("t", {"msg": b, "timestamp": 1.0}), 0.0, n) for n, b in enumerate(bodies)]
    )
    queue.close()
    outcomes: list[Outcome] = []
    events: list[tuple] = []
    spool = Spool("s", queue, reader=None, accepts=lambda topic: True)  # type: ignore[arg-type]
    retry = RetryConfig(max_attempts=attempts, initial_delay_s=0, jitter=0)
    DEAD.rows.clear()
    workers = ConsumerWorkers(
        loaded,
        spool,
        delivery=Delivery("s", consumer.consume, config=retry, dead_letters=DEAD),  # type: ignore[arg-type]
        report=lambda name, report: outcomes.extend(report.as_outcomes()),
        events=lambda event, index, error: events.append((_label(event, index), error)),
        thread_factory=InlineThread,
    )
    workers.start()
    return consumer, queue, outcomes, events


def _label(event: LifeEvent, index: int) -> str:
    """An event as the tests name it: "started", "halted", "stopped", "died:<thread>"."""
    return f"died:{index}" if event is LifeEvent.DIED else event.value


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


def test_halt_without_requeue_finishes_the_message_then_stops() -> None:
    """Halt(requeue=False): the halting message is finished (not given back), counted halted
    once; those behind it stay queued."""
    _, queue, outcomes, events = run([1, "halt-done", 2, 3])
    assert [o.kind for o in outcomes] == ["done", "halted"]
    assert ("halted", None) in events
    assert queue.first_unfinished() == 2, "the halting message (seq 1) is finished"
    assert [i.message.body for i in queue.drain_remaining()] == [2, 3]


def test_failures_are_retried_then_dead_lettered_with_the_traceback() -> None:
    """An exception is retried up to max_attempts, then stored as a dead letter; next goes on."""
    consumer, queue, outcomes, _ = run(["boom", 1], attempts=3)
    assert consumer.calls[1:] == ["boom", "boom", "boom", 1, "teardown"]
    assert [(o.kind, o.attempts) for o in outcomes] == [("failed", 3), ("done", 1)]
    (row,) = DEAD.rows
    assert row[0] == "s" and "ValueError('boom')" in row[4] and "Traceback" in row[5]
    assert queue.first_unfinished() is None


def test_reject_dead_letters_at_once_without_the_remaining_attempts() -> None:
    """hub.Reject: one attempt, then a dead letter whose error is the reason; next goes on."""
    consumer, _, outcomes, _ = run(["reject", 1], attempts=5)
    assert consumer.calls[1:] == ["reject", 1, "teardown"]
    assert [(o.kind, o.attempts) for o in outcomes] == [("failed", 1), ("done", 1)]
    (row,) = DEAD.rows
    assert row.error == "Reject: can never be sent" and row.attempts == 1


def test_retry_outcome_is_attempted_again_until_it_succeeds() -> None:
    """hub.Retry(delay=0) re-delivers the same message; success on attempt 2 is done."""
    consumer, _, outcomes, _ = run(["retry", 2], attempts=5)
    assert consumer.calls[1:4] == ["retry", "retry", 2]
    assert [(o.kind, o.attempts) for o in outcomes] == [("done", 2), ("done", 1)]
    assert DEAD.rows == []


def test_a_thread_killed_by_consume_reports_died_and_gives_the_message_back() -> None:
    """SystemExit from consume() kills the thread: "died:0" is reported, nothing is lost."""
    _, queue, outcomes, events = run([1, "die", 2])
    assert [o.kind for o in outcomes] == ["done"]
    assert events[-1][0] == "died:0" and isinstance(events[-1][1], SystemExit)
    assert queue.first_unfinished() == 1
    assert [i.message.body for i in queue.drain_remaining()] == ["die", 2]


def test_reports_sent_mid_batch_count_each_message_once(monkeypatch: Any) -> None:
    """With a report every 2 messages, 7 messages give 7 outcomes, each once, in order."""
    monkeypatch.setattr("hub.workers.worker.REPORT_EVERY_N", 2)
    _, queue, outcomes, _ = run([1, 2, "boom", 3, 4, "drop", 5])
    assert [o.seq for o in outcomes] == list(range(7))
    assert [o.kind for o in outcomes].count("done") == 5
    assert queue.first_unfinished() is None


def test_outcomes_carry_a_fate_that_counts_under_plain_strings() -> None:
    """Every kind is a `Fate` (a StrEnum): equal to its string, and counted under the plain
    string, so the counters and the JSON built from them never hold an enum member."""
    _, _, outcomes, _ = run([1, "boom", "drop", "halt"])
    assert [o.kind for o in outcomes] == [Fate.DONE, Fate.FAILED, Fate.DROPPED, Fate.HALTED]
    assert all(type(o.kind) is Fate for o in outcomes)
    stats = Stats()
    stats.on_outcomes("s", outcomes, 1.0)
    assert {type(key) for key in stats.consumer("s").counters} == {str}
    assert stats.consumer_figures("s", 1.0)["failed"] == 1
