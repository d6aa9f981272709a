"""`ProducerLife`: one producer's state and figures, the one owner of both.

Runs on the reactor thread: the producer's thread reports through ``reactor.callFromThread``
(`hub.workers.producer.ProducerReport`), and /status, /metrics, statsd, ``top`` and the stuck
log read it here. States (`ProducerState`): ``starting`` until ``setup()`` returned, then
``idle`` (waiting for its next poll) and ``polling``; ``stuck`` is ``polling`` for longer than
``stuck_after_s`` (the interval unless configured), defined once in `ProducerLife.state`;
``dead`` once its thread died (until the supervisor restarts it), ``stopped`` after
``teardown()``. Counters only grow: reading them never resets them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from hub.plugins.producers import LoadedProducer
from hub.workers.producer import ProducerEvent, ProducerReport, ProducerThread


class ProducerState(Enum):
    """What a producer is doing, as /status shows it."""

    STARTING = "starting"
    IDLE = "idle"
    POLLING = "polling"
    STUCK = "stuck"
    STOPPED = "stopped"
    DEAD = "dead"


STATES = tuple(state.value for state in ProducerState)


class ProducerLife:
    """One producer: its thread, its recorded state and its counters (reactor)."""

    def __init__(self, loaded: LoadedProducer, thread: ProducerThread) -> None:
        self.loaded = loaded
        self.thread = thread
        self.recorded = ProducerState.STARTING  # what the thread last reported
        self.polling_since: float | None = None  # time.time() when the poll in hand began
        self.last_run_at: float | None = None
        self.last_duration_s: float | None = None
        self.next_at: float | None = None
        self.error: str | None = None  # the last poll failure or death, repr()
        self.polls = 0
        self.failures = 0
        self.overruns = 0
        self.deaths = 0

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def alive(self) -> bool:
        """True while its thread runs (as far as the reactor has heard)."""
        return self.recorded not in (ProducerState.STOPPED, ProducerState.DEAD)

    def state(self, now: float) -> ProducerState:
        """The state at ``now`` (``time.time()``): ``stuck`` is defined here, once."""
        since = self.polling_since
        polling = self.recorded is ProducerState.POLLING
        if polling and since is not None and now - since > self.loaded.stuck_after_s:
            return ProducerState.STUCK
        return self.recorded

    def stuck_for(self, now: float) -> float | None:
        """How long the poll in hand has run, when it is stuck; else None."""
        if self.state(now) is ProducerState.STUCK and self.polling_since is not None:
            return now - self.polling_since
        return None

    def restarted(self) -> None:
        """The supervisor started a new thread: it is set up already, so it waits to poll."""
        self.recorded = ProducerState.IDLE if self.thread.set_up else ProducerState.STARTING

    def on_report(self, report: ProducerReport) -> None:
        """An event of its thread, on the reactor."""
        event = report.event
        if report.next_at is not None:
            self.next_at = report.next_at
        if event is ProducerEvent.STARTED:
            self.recorded = ProducerState.IDLE
        elif event is ProducerEvent.POLLING:
            self.recorded, self.polling_since = ProducerState.POLLING, report.at
            self.last_run_at = report.at
        elif event is ProducerEvent.POLLED:
            self._polled(report)
        elif event is ProducerEvent.DIED:
            self.recorded, self.polling_since = ProducerState.DEAD, None
            self.deaths += 1
            self.error = repr(report.error)
        elif event is ProducerEvent.STOPPED:
            self.recorded, self.next_at = ProducerState.STOPPED, None

    def _polled(self, report: ProducerReport) -> None:
        self.recorded, self.polling_since = ProducerState.IDLE, None
        self.polls += 1
        self.last_duration_s = report.duration_s
        self.overruns += report.overrun
        if report.error is not None:
            self.failures += 1
            self.error = repr(report.error)

    def snapshot(self, now: float) -> dict[str, Any]:
        """Everything about this producer, JSON-ready."""
        state = self.state(now)
        return {
            "class": self.loaded.config.cls,
            "kind": str(self.loaded.kind),
            "interval_s": self.loaded.interval,
            "stuck_after_s": self.loaded.stuck_after_s,
            "state": state.value,
            "stuck": state is ProducerState.STUCK,
            "polling_for_s": now - self.polling_since if self.polling_since is not None else None,
            "last_run_at": self.last_run_at,
            "last_duration_s": self.last_duration_s,
            "next_at": self.next_at,
            "polls": self.polls,
            "failures": self.failures,
            "overruns": self.overruns,
            "deaths": self.deaths,
            "error": self.error,
        }
