"""Counters and timing windows, owned by the reactor thread.

Every method runs on the reactor thread (workers reach it through ``reactor.callFromThread``),
so plain ``+=`` is safe. Counters only ever grow; ``snapshot()`` copies, it never resets: a
metrics sink that wants deltas keeps the last value it sent. Timings are kept twice: every
finished message goes into a consumer's histograms (`hub.observe.histograms`, exported to
Prometheus), and a sample of them into windows that keep the last ``WINDOW_SIZE`` samples younger
than ``WINDOW_S`` seconds and report p50/p90/p99/max over them (/status and statsd).
"""

from __future__ import annotations

import math
import operator
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.observe.histograms import Timings
from hub.workers.delivery import Outcome
from hub.workers.report import Report

WINDOW_SIZE = 4096
WINDOW_S = 60.0
SAMPLES_PER_BATCH = 64  # timing samples kept per reported batch (see on_outcomes)
SAMPLE_EVERY = 32  # of a report of more than this many done messages, at most one in this many
HISTORY = 600  # one sample a tick (1 s): ten minutes of rates and backlog


class TimingWindow:
    """A bounded sliding window of durations, in seconds."""

    def __init__(self, size: int = WINDOW_SIZE, horizon_s: float = WINDOW_S) -> None:
        self.horizon_s = horizon_s
        self._samples: deque[tuple[float, float]] = deque(maxlen=size)

    def add(self, now: float, value: float) -> None:
        self._samples.append((now, value))

    def add_many(self, now: float, values: Iterable[float]) -> None:
        self._samples.extend([(now, v) for v in values])

    def summary(self, now: float) -> dict[str, float | int | None]:
        """count, p50, p90, p99 and max over the window (None when it is empty)."""
        cutoff = now - self.horizon_s
        values = sorted(v for t, v in self._samples if t >= cutoff)
        if not values:
            return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
        return {
            "count": len(values),
            "p50": _percentile(values, 0.50),
            "p90": _percentile(values, 0.90),
            "p99": _percentile(values, 0.99),
            "max": values[-1],
        }


def _sample(outcomes: Sequence[Outcome]) -> Sequence[Outcome]:
    """All of a small batch; of a large one, an evenly spaced sample plus the slowest."""
    if len(outcomes) <= SAMPLES_PER_BATCH:
        return outcomes
    step = -(-len(outcomes) // SAMPLES_PER_BATCH)  # ceil: at most SAMPLES_PER_BATCH
    return [*outcomes[::step], max(outcomes, key=lambda o: o.duration_s)]


def _add_timings(stats: ConsumerStats, now: float, timed: Sequence[Outcome]) -> None:
    """Queue wait, duration and (where known) latency of ``timed`` into the windows."""
    stats.wait.add_many(now, [o.wait_s for o in timed])
    stats.duration.add_many(now, [o.duration_s for o in timed])
    stats.latency.add_many(now, [o.latency_s for o in timed if o.latency_s is not None])


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ordered, non-empty list."""
    rank = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[rank]


@dataclass
class ConsumerStats:
    """What happened to one consumer's messages."""

    counters: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    wait: TimingWindow = field(default_factory=TimingWindow)
    duration: TimingWindow = field(default_factory=TimingWindow)
    latency: TimingWindow = field(default_factory=TimingWindow)
    timings: Timings = field(default_factory=Timings)  # every message, not a sample
    history: deque[tuple[float, int, int, int]] = field(
        default_factory=lambda: deque(maxlen=HISTORY)
    )  # (time, enqueued, done+failed+dropped, backlog)


class Stats:
    """Every counter and timing of the hub. Reactor thread only."""

    def __init__(self) -> None:
        self.hub: Counter[str] = Counter()
        self.decode_errors: Counter[str] = Counter()
        self.consumers: dict[str, ConsumerStats] = {}
        self.history: deque[tuple[float, int]] = deque(maxlen=HISTORY)  # (time, received)
        self.dead_letters: Counter[str] = Counter()  # rows waiting in the store, per consumer

    def consumer(self, name: str) -> ConsumerStats:
        """The stats of ``name``, created on first use (kept across reloads)."""
        stats = self.consumers.get(name)
        if stats is None:
            stats = self.consumers[name] = ConsumerStats()
        return stats

    def on_received(self, count: int) -> None:
        self.hub["received"] += count

    def on_decode_error(self, cause: str) -> None:
        self.decode_errors[cause] += 1

    def on_unmatched(self, count: int) -> None:
        self.hub["unmatched"] += count

    def on_enqueued(self, name: str, count: int) -> None:
        self.consumer(name).counters["enqueued"] += count

    def on_dropped(self, name: str, cause: str, count: int = 1) -> None:
        self.consumer(name).dropped[cause] += count

    def set_dead_letters(self, counts: dict[str, int]) -> None:
        """The dead letters found in the store at start-up."""
        self.dead_letters = Counter(counts)

    def on_dead_letter_replayed(self, name: str) -> None:
        self.dead_letters[name] -= 1

    def on_disk_full_pause(self) -> None:
        self.hub["disk_full_pauses"] += 1

    def on_log_write_error(self) -> None:
        self.hub["log_write_errors"] += 1

    def on_upstream_gap(self, lost: int) -> None:
        self.hub["upstream_gaps"] += lost

    def on_upstream_restart(self) -> None:
        self.hub["upstream_restarts"] += 1

    def on_paused(self, seconds: float) -> None:
        self.hub["input_paused_s"] += seconds  # type: ignore[assignment]
        self.hub["input_pauses"] += 1

    def on_outcomes(self, name: str, outcomes: Sequence[Outcome], now: float) -> None:
        """A worker's batch of results (delivered via callFromThread).

        Every outcome is counted, and every done, failed or dropped one goes into the
        histograms; of a batch larger than ``SAMPLES_PER_BATCH`` only an evenly
        spaced sample goes into the timing windows (they keep the last ``WINDOW_SIZE`` samples
        anyway), plus the slowest one, so ``max`` still sees a stall: the reactor's cost per
        delivery stays small with many consumers.
        """
        if not outcomes:
            return
        stats = self.consumer(name)
        kinds = Counter(str(o.kind) for o in outcomes)  # plain str keys: Fate is a StrEnum
        dropped = kinds.pop("dropped", 0)
        if dropped:
            stats.dropped["consumer"] += dropped
        stats.counters.update(kinds)
        if kinds.get("failed"):
            self.dead_letters[name] += kinds["failed"]
        retries = sum(o.attempts for o in outcomes) - len(outcomes)
        if retries:
            stats.counters["retries"] += retries
        stats.timings.observe_outcomes(outcomes)
        _add_timings(stats, now, [o for o in _sample(outcomes) if o.kind != "halted"])

    def on_report(self, name: str, report: Report, now: float) -> None:
        """A worker's report (via callFromThread): its done messages in bulk, then the rest.

        Every message is counted and goes into the histograms (`hub.observe.histograms`, all in
        bulk); the timing windows get every done one of a small report, of a larger one an evenly
        spaced sample (one in ``SAMPLE_EVERY`` or fewer, at most ``SAMPLES_PER_BATCH``) plus the
        slowest duration, worked out here from the two clock readings the worker kept per message
        (`hub.workers.report`). Busy consumers send many small reports: building an `Outcome` for
        each cost more than the messages' own delivery.
        """
        done = len(report.items)
        if done:
            stats = self.consumer(name)
            stats.counters["done"] += done
            step = max(SAMPLE_EVERY, -(-done // SAMPLES_PER_BATCH))
            picked = range(0, done, step) if done > SAMPLE_EVERY else range(done)
            offset = time.time() - time.monotonic()  # monotonic -> wall clock
            stats.timings.observe_report(report, offset)
            _add_timings(stats, now, [report.outcome(i, offset) for i in picked])
            if len(picked) < done:  # the slowest, so that max sees a stall
                stats.duration.add(now, max(map(operator.sub, report.ends, report.starts)))
        self.on_outcomes(name, report.outcomes, now)

    def tick(self, now: float, backlogs: dict[str, int]) -> None:
        """Record one history point (called once a second)."""
        self.history.append((now, self.hub["received"]))
        for name, backlog in backlogs.items():
            stats = self.consumer(name)
            c = stats.counters
            handled = c["done"] + c["failed"] + sum(stats.dropped.values())
            stats.history.append((now, c["enqueued"], handled, backlog))

    def rate(self, name: str | None, window_s: float = 10.0) -> tuple[float, float]:
        """Messages a second (in, out) over the last ``window_s`` of history."""
        if name is None:
            points = [(t, n, 0) for t, n in self.history]
        else:
            points = [(t, e, h) for t, e, h, _ in self.consumer(name).history]
        if len(points) < 2:
            return 0.0, 0.0
        end = points[-1]
        start = next((p for p in points if p[0] >= end[0] - window_s), points[0])
        span = end[0] - start[0]
        if span <= 0:
            return 0.0, 0.0
        return (end[1] - start[1]) / span, (end[2] - start[2]) / span

    def consumer_figures(self, name: str, now: float) -> dict[str, Any]:
        """Counters, rates and timing summaries of one consumer (a copy)."""
        stats = self.consumer(name)
        rate_in, rate_out = self.rate(name)
        return {
            "enqueued": stats.counters["enqueued"],
            "done": stats.counters["done"],
            "failed": stats.counters["failed"],
            "halted": stats.counters["halted"],
            "retries": stats.counters["retries"],
            "dropped": dict(stats.dropped),
            "in_per_s": rate_in,
            "out_per_s": rate_out,
            "queue_wait_s": stats.wait.summary(now),
            "duration_s": stats.duration.summary(now),
            "latency_s": stats.latency.summary(now),
            **stats.timings.figures(),
            "backlog_history": [b for _, _, _, b in stats.history],
        }
