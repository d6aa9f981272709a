"""One consumer's life: start, run, drain to a deadline, abort, abandon; its states and events.

Runs on the reactor thread. The consumer's worker threads report their events (`LifeEvent`)
through ``reactor.callFromThread``; `ConsumerLife.on_event` turns them into its `ConsumerState`
and fires ``started`` / ``stopped``. ``drain`` is the one stop sequence, used by shutdown and by a
reload alike: close the window (the threads finish what is in memory), wait until the deadline,
then abort (stop after the message in hand), wait ``ABANDON_AFTER_S`` more, then abandon threads
still inside ``consume()``. It drops nothing: what the caller does with what is left (keep it in
the log, hand it to a successor, drop it and count it) is the caller's decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Any, NamedTuple

from twisted.internet import defer

from hub.errors import PluginLoadError
from hub.plugins.loader import LoadedConsumer
from hub.workers.progress import Busy
from hub.workers.worker import ConsumerWorkers, LifeEvent
from hub.workers.workqueue import WorkQueue

log = logging.getLogger(__name__)

ABANDON_AFTER_S = 2.0  # after the deadline: how long to wait for a thread still in consume()


class ConsumerState(StrEnum):
    """Where a consumer is in its life (``/status`` shows the value). A `StrEnum`: each state
    equals its value (``ConsumerState.RUNNING == "running"``) and serialises as it."""

    STARTING = "starting"
    RUNNING = "running"
    HALTED = "halted"
    FAILED = "failed"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ABANDONED = "abandoned"


class Drained(Enum):
    """How a drain ended."""

    IN_TIME = "in time"  # every thread finished its window and exited
    ABORTED = "aborted"  # the deadline stopped it after the message in hand
    ABANDONED = "abandoned"  # a thread was still in consume() after the abort


class Backlog(NamedTuple):
    """One consumer's backlog: in memory, on disk, and when the oldest in memory was enqueued
    (``time.monotonic()``; None when nothing waits in memory)."""

    memory: int
    disk: int
    oldest_enqueued_at: float | None

    @property
    def total(self) -> int:
        return self.memory + self.disk


class ConsumerLife:
    """A running consumer: what was loaded, its window, its threads, and its state."""

    def __init__(
        self,
        *,
        loaded: LoadedConsumer,
        queue: WorkQueue,
        workers: ConsumerWorkers,
        clock: Any,
        flush_restarts: Callable[[], None],
    ) -> None:
        self.loaded = loaded
        self.queue = queue
        self.workers = workers
        self.clock = clock  # IReactorTime: callLater
        self.flush_restarts = flush_restarts  # run pending thread restarts (they see the abort)
        self.state = ConsumerState.STARTING
        self.error: str | None = None
        self.started: defer.Deferred[str] = defer.Deferred()  # fires with the name
        self.stopped: defer.Deferred[str] = defer.Deferred()

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def stuck_after_s(self) -> float:
        return self.loaded.config.stuck_after_s

    def backlog(self, log_end: int) -> Backlog:
        """The backlog: every message of this consumer not yet started, in memory (the window,
        and what a worker took but has not started) and on disk. The one figure /status,
        /metrics, statsd, ``top``, the STATUS= line and the logs all report."""
        held = [h for h in self.workers.held if h is not None]
        times = [h.oldest_enqueued_at for h in held]
        times.append(self.queue.oldest_enqueued_at)
        oldest = min((t for t in times if t is not None), default=None)
        memory = len(self.queue) + sum(h.count for h in held)
        return Backlog(memory, self.workers.spool.on_disk(log_end), oldest)

    def is_stuck(self, busy: Busy, now: float) -> bool:
        """True when ``busy`` has been in one ``consume()`` for longer than ``stuck_after_s``
        (``now`` is ``time.time()``)."""
        return now - busy.since > self.stuck_after_s

    def stuck(self, now: float) -> list[Busy]:
        """The threads that are stuck (`is_stuck`)."""
        return [b for b in self.workers.busy if b is not None and self.is_stuck(b, now)]

    def retrying(self) -> list[dict[str, Any]]:
        """The messages this consumer's threads are waiting to attempt again."""
        return [
            {"msg_id": r.msg_id, "topic": r.topic, "attempt": r.attempt, "next_at": r.next_at,
             "error": r.error, "unavailable": r.unavailable}
            for r in self.workers.delivery.retrying if r is not None
        ]  # fmt: skip

    def unavailable(self) -> list[str]:
        """Why this consumer waits for something it needs (``hub.Unavailable``), per thread."""
        return [r.error for r in self.workers.delivery.retrying if r is not None and r.unavailable]

    def start(self) -> defer.Deferred[str]:
        """Start the threads; fires once ``setup()`` returned, fails with PluginLoadError."""
        self.workers.start()
        return self.started

    def on_event(self, event: LifeEvent, error: BaseException | None) -> None:
        """A worker thread's event, on the reactor (DIED is the supervisor's, not handled here)."""
        if event is LifeEvent.STARTED:
            if error is not None:
                self.state, self.error = ConsumerState.FAILED, repr(error)
                self.started.errback(
                    PluginLoadError(f"consumer {self.name!r}: setup() raised {error!r}")
                )
            else:
                self.state = ConsumerState.RUNNING
                self.started.callback(self.name)
        elif event is LifeEvent.HALTED:
            self.state = ConsumerState.HALTED
        elif event is LifeEvent.STOPPED:
            if self.state not in (ConsumerState.FAILED, ConsumerState.HALTED):
                self.state = ConsumerState.STOPPED
            if not self.stopped.called:
                self.stopped.callback(self.name)

    async def drain(self, deadline_s: float) -> Drained:
        """Finish the window, then stop; abort at ``deadline_s``, abandon ``ABANDON_AFTER_S``
        later. What is left in the window stays there for the caller."""
        if self.state in (ConsumerState.STARTING, ConsumerState.RUNNING):
            self.state = ConsumerState.STOPPING
        self.workers.close()
        if await within(self.clock, self.stopped, deadline_s):
            return Drained.IN_TIME
        self.workers.abort()
        self.flush_restarts()
        if await within(self.clock, self.stopped, ABANDON_AFTER_S):
            return Drained.ABORTED
        for busy in (b for b in self.workers.busy if b is not None):
            log.error("consumer %s: still in consume() of %s (msg_id %s) after the deadline; "
                      "its threads are abandoned, teardown() skipped; it is delivered again",
                      self.name, busy.topic, busy.msg_id)  # fmt: skip
        self.state = ConsumerState.ABANDONED
        if not self.stopped.called:
            self.stopped.callback(self.name)
        return Drained.ABANDONED


def within(clock: Any, deferred: defer.Deferred[Any], timeout: float) -> defer.Deferred[bool]:
    """A Deferred firing True when ``deferred`` fires within ``timeout`` s, else False."""
    result: defer.Deferred[bool] = defer.Deferred()

    def timed_out() -> None:
        if not result.called:
            result.callback(False)

    call = clock.callLater(timeout, timed_out)

    def fired(value: Any) -> Any:
        if call.active():
            call.cancel()
        if not result.called:
            result.callback(True)
        return value

    deferred.addBoth(fired)
    return result
