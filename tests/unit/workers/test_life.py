"""hub.workers.life: a consumer's backlog, its states from its threads' events, and the one drain
sequence (deadline, abort, abandon) shutdown and reload share, on a fake reactor clock."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from twisted.internet import defer, task

from hub.config import ConsumerConfig
from hub.errors import PluginLoadError
from hub.message import Message
from hub.observe.metricdefs import STATES
from hub.observe.snapshot import not_ready
from hub.workers.life import ABANDON_AFTER_S, ConsumerLife, ConsumerState, Drained
from hub.workers.progress import Busy, Held
from hub.workers.retry import RetryState
from hub.workers.worker import LifeEvent
from hub.workers.workqueue import Item, WorkQueue


def _item(enqueued_at: float) -> Item:
    message = Message(topic="t", envelope={"msg": {}, "msg_id": "m-1"})
    return Item(message, enqueued_at)


class FakeWorkers:
    """Records what a life asks of its threads; ``held``/``busy`` as a test sets them."""

    def __init__(self, held: list[Held | None] | None = None, on_disk: int = 0) -> None:
        self.held: list[Held | None] = held or [None]
        self.busy: list[Busy | None] = [None]
        self.spool = SimpleNamespace(on_disk=lambda end: on_disk)
        self.calls: list[str] = []
        self.restarts_flushed = 0

    def start(self) -> None:
        self.calls.append("start")

    def close(self) -> None:
        self.calls.append("close")

    def abort(self) -> None:
        self.calls.append("abort")


def _life(
    queue: WorkQueue | None = None, workers: FakeWorkers | None = None, clock: Any = None
) -> ConsumerLife:
    workers = workers or FakeWorkers()
    loaded = SimpleNamespace(name="c", config=ConsumerConfig(cls="x", stuck_after_s=10.0))
    return ConsumerLife(
        loaded=loaded,  # type: ignore[arg-type]
        queue=queue or WorkQueue("c", 100),
        workers=workers,  # type: ignore[arg-type]
        clock=clock or task.Clock(),
        flush_restarts=lambda: setattr(workers, "restarts_flushed", workers.restarts_flushed + 1),
    )


def test_messages_held_in_a_worker_batch_count_as_backlog() -> None:
    """Queued items plus those a thread took in its batch but has not started."""
    queue = WorkQueue("c", 100)
    queue.put_many([_item(20.0), _item(21.0)])
    held = Held([_item(9.0), *[_item(10.0 + n) for n in range(5)]])
    held.position = 1  # the first one is under way
    backlog = _life(queue, FakeWorkers([held, None])).backlog(0)
    assert (backlog.memory, backlog.oldest_enqueued_at) == (7, 10.0)
    held.position = 6  # the whole batch started: nothing held
    backlog = _life(queue, FakeWorkers([held])).backlog(0)
    assert (backlog.memory, backlog.oldest_enqueued_at) == (2, 20.0)


def test_an_empty_consumer_has_no_backlog_and_no_oldest() -> None:
    """Nothing queued, nothing held: zero and None."""
    backlog = _life().backlog(0)
    assert (backlog.memory, backlog.total, backlog.oldest_enqueued_at) == (0, 0, None)


def test_the_backlog_is_memory_plus_disk() -> None:
    """The one backlog figure adds what waits on disk to what waits in memory."""
    queue = WorkQueue("c", 100)
    queue.put_many([_item(1.0)] * 3)
    backlog = _life(queue, FakeWorkers(on_disk=40)).backlog(100)
    assert (backlog.memory, backlog.disk, backlog.total) == (3, 40, 43)


def test_a_worker_is_stuck_only_past_stuck_after_s() -> None:
    """One consume() running longer than stuck_after_s is stuck; a younger one is not."""
    workers = FakeWorkers()
    life = _life(workers=workers)
    workers.busy = [Busy(time.monotonic() - 5.0, _item(0.0))]
    assert life.stuck(time.time()) == []
    workers.busy = [Busy(time.monotonic() - 11.0, _item(0.0))]
    assert [b.msg_id for b in life.stuck(time.time())] == ["m-1"]


def test_events_move_the_state_and_fire_started_and_stopped() -> None:
    """STARTED -> running (started fires), HALTED -> halted, STOPPED keeps halted and fires."""
    life = _life()
    started = life.start()
    assert life.state is ConsumerState.STARTING and life.workers.calls == ["start"]  # type: ignore[attr-defined]
    life.on_event(LifeEvent.STARTED, None)
    assert started.called and life.state is ConsumerState.RUNNING
    life.on_event(LifeEvent.HALTED, None)
    life.on_event(LifeEvent.STOPPED, None)
    assert life.state is ConsumerState.HALTED and life.stopped.called


def test_a_failed_setup_fails_started_with_a_plugin_load_error() -> None:
    """setup() raising makes the state failed and started an errback naming the consumer."""
    life = _life()
    errors: list[Any] = []
    life.start().addErrback(errors.append)
    life.on_event(LifeEvent.STARTED, RuntimeError("no database"))
    assert life.state is ConsumerState.FAILED and errors[0].check(PluginLoadError)
    assert "setup() raised RuntimeError('no database')" in str(errors[0].value)


def test_a_drain_in_time_leaves_no_timer() -> None:
    """Threads that exit before the deadline: in time, no abort, no timer left."""
    clock = task.Clock()
    life = _life(clock=clock)
    done = defer.ensureDeferred(life.drain(5.0))
    assert life.state is ConsumerState.STOPPING and life.workers.calls == ["close"]  # type: ignore[attr-defined]
    life.on_event(LifeEvent.STOPPED, None)
    assert done.result is Drained.IN_TIME and clock.getDelayedCalls() == []
    assert life.state is ConsumerState.STOPPED


def test_the_deadline_aborts_and_runs_pending_restarts() -> None:
    """At the deadline the threads are aborted and pending restarts run (to see the abort)."""
    clock = task.Clock()
    workers = FakeWorkers()
    life = _life(workers=workers, clock=clock)
    done = defer.ensureDeferred(life.drain(5.0))
    clock.advance(5.0)
    assert workers.calls == ["close", "abort"] and workers.restarts_flushed == 1
    life.on_event(LifeEvent.STOPPED, None)
    assert done.result is Drained.ABORTED


def test_a_thread_still_in_consume_after_the_abort_is_abandoned() -> None:
    """ABANDON_AFTER_S after the deadline the life stops waiting: abandoned, stopped fires."""
    clock = task.Clock()
    workers = FakeWorkers()
    workers.busy = [Busy(time.monotonic(), _item(0.0))]
    life = _life(workers=workers, clock=clock)
    done = defer.ensureDeferred(life.drain(5.0))
    clock.advance(5.0)
    assert not done.called
    clock.advance(ABANDON_AFTER_S)
    assert done.result is Drained.ABANDONED and life.state is ConsumerState.ABANDONED
    assert life.stopped.called


def test_states_are_their_strings() -> None:
    """ConsumerState is a StrEnum: a state equals its value, which /status shows, and the
    states are those the metrics catalogue exports."""
    assert ConsumerState.RUNNING == "running" and ConsumerState.RUNNING.value == "running"
    assert str(ConsumerState.ABANDONED) == "abandoned"
    assert tuple(ConsumerState) == STATES


def test_an_outage_being_waited_out_makes_the_hub_not_ready() -> None:
    """A thread waiting out hub.Unavailable shows in retrying and is a /ready reason."""
    workers = FakeWorkers()
    waiting = RetryState(msg_id="m-1", topic="t", attempt=2, next_at=0.0,
                         error="Unavailable: database down", unavailable=True)  # fmt: skip
    workers.delivery = SimpleNamespace(retrying=[waiting, None])  # type: ignore[attr-defined]
    life = _life(workers=workers)
    life.state = ConsumerState.RUNNING
    assert life.retrying()[0]["unavailable"] is True
    reasons = not_ready(True, True, [life], time.time())
    assert reasons == ["consumer c waits: Unavailable: database down"]
