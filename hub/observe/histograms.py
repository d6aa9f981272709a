"""Cumulative timing histograms of every finished message: queue wait, consume duration, latency.

Runs on the reactor thread only (`hub.observe.stats.Stats` calls it from ``on_report`` and
``on_outcomes``, which workers reach through ``reactor.callFromThread``), so plain ``+=`` is safe.

Unlike the timing windows (a sample, for the percentiles in /status and statsd), these count
*every* message that finished with ``consume()`` done, failed (dead-lettered) or dropped
(``hub.Drop``): a histogram's ``count`` is exactly done + failed + dropped{cause="consumer"} of the
same consumer (halted and interrupted messages are delivered again, so they are not counted).
The latency histogram counts those of them whose envelope carries a ``timestamp``. Counts never
reset. The hot path stays in C: the values of a report come from ``map`` over its lists, and are
sorted into buckets in bulk (`Histogram`).

Buckets (upper bounds in seconds, chosen for a message-bus consumer; docs/metrics.md says why):
    queue wait   1 ms .. 1 h: a live consumer waits milliseconds, a spilled one drains a backlog
                 on disk for minutes or hours;
    duration     0.5 ms .. 60 s: a log line takes well under a millisecond, a database write or
                 an HTTP call tens of milliseconds to seconds, a stuck call is past ``60``;
    latency      5 ms .. 1 h: the publisher's clock to ``consume()`` done, the bus hop plus wait.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from itertools import repeat
from operator import attrgetter, sub
from typing import Any

from hub.workers.delivery import Fate, Outcome
from hub.workers.report import Report

WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
                3600.0)  # fmt: skip
DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    5.0, 10.0, 30.0, 60.0)  # fmt: skip
LATENCY_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                   900.0, 3600.0)  # fmt: skip
FOLD_AT = 4096  # pending values per histogram before they are sorted into buckets
COUNTED = frozenset((Fate.DONE, Fate.FAILED, Fate.DROPPED))  # the fates a histogram counts

_ENQUEUED_AT = attrgetter("enqueued_at")
_TIMESTAMP = attrgetter("message.timestamp")  # `hub.message.Message.timestamp`: validated
_ENVELOPE = attrgetter("message.envelope")
_NUMBERS = frozenset((float, int))  # not bool: `hub.message.Message.timestamp` refuses it


class Histogram:
    """Cumulative counts per bucket, their sum and their number, since the hub started.

    `add` only extends a list of pending values; once ``FOLD_AT`` are pending, or when the
    figures are read, `fold` sorts them and finds each bound's cumulative count with one
    ``bisect`` per bucket, not per value. A value below 0 (a latency whose publisher's clock is
    ahead of ours) counts as 0: in the first bucket, adding nothing to the sum.
    """

    __slots__ = ("bounds", "count", "cumulative", "pending", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.cumulative = [0] * len(self.bounds)  # per bound: values <= it
        self.pending: list[float] = []  # added, not yet counted
        self.sum = 0.0
        self.count = 0

    def add(self, values: Iterable[float]) -> None:
        """Count every value of ``values`` (seconds)."""
        pending = self.pending
        pending.extend(values)
        if len(pending) >= FOLD_AT:
            self.fold()

    def fold(self) -> None:
        """Count the pending values into the buckets, the sum and the count."""
        pending = self.pending
        if not pending:
            return
        pending.sort()
        negative = bisect.bisect_left(pending, 0.0)
        self.sum += sum(pending) - sum(pending[:negative])
        self.count += len(pending)
        cumulative = self.cumulative
        for index, bound in enumerate(self.bounds):
            cumulative[index] += bisect.bisect_right(pending, bound)
        pending.clear()

    def figures(self) -> dict[str, Any]:
        """``count``, ``sum`` and ``buckets``: [upper bound, values <= it] pairs, cumulative and
        without +Inf (whose count is ``count``), for /status and the Prometheus exporter."""
        self.fold()
        buckets = [[bound, n] for bound, n in zip(self.bounds, self.cumulative, strict=True)]
        return {"count": self.count, "sum": self.sum, "buckets": buckets}


class Timings:
    """The three histograms of one consumer."""

    __slots__ = ("duration", "latency", "wait")

    def __init__(self) -> None:
        self.wait = Histogram(WAIT_BUCKETS)
        self.duration = Histogram(DURATION_BUCKETS)
        self.latency = Histogram(LATENCY_BUCKETS)

    def observe_report(self, report: Report, offset: float) -> None:
        """Every done message of ``report``; ``offset`` turns monotonic ends into wall time."""
        starts, ends = report.starts, report.ends
        self.wait.add(map(sub, starts, map(_ENQUEUED_AT, report.items)))
        self.duration.add(map(sub, ends, starts))
        wall = map(offset.__add__, ends)
        sent = list(map(dict.get, map(_ENVELOPE, report.items), repeat("timestamp")))
        if set(map(type, sent)) <= _NUMBERS:  # the common case: every one is a number
            self.latency.add(map(sub, wall, sent))
            return
        sent = list(map(_TIMESTAMP, report.items))  # None where missing or not a number
        self.latency.add([at - t for at, t in zip(wall, sent, strict=True) if t is not None])

    def observe_outcomes(self, outcomes: Iterable[Outcome]) -> None:
        """Every done, failed or dropped one of ``outcomes`` (the others are delivered again)."""
        counted = [o for o in outcomes if o.kind in COUNTED]
        if not counted:
            return
        self.wait.add([o.wait_s for o in counted])
        self.duration.add([o.duration_s for o in counted])
        self.latency.add([o.latency_s for o in counted if o.latency_s is not None])

    def figures(self) -> dict[str, dict[str, Any]]:
        """The /status keys of the three histograms."""
        return {
            "queue_wait_hist": self.wait.figures(),
            "duration_hist": self.duration.figures(),
            "latency_hist": self.latency.figures(),
        }
