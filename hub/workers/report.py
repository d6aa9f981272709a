"""What a worker thread hands back to the reactor: the messages it finished since its last report.

Built on one consumer worker thread (`hub.workers.worker` appends to its lists directly), then
handed whole to the reactor thread through ``reactor.callFromThread`` and never touched by the
worker again (it starts a new one). Read on the reactor by `hub.observe.stats.Stats.on_report`.

The common case (``consume()`` returned on the first attempt) costs the worker three list
appends: the item and two ``time.monotonic()`` readings. Queue wait, duration and end-to-end
latency are worked out on the reactor: in bulk for every message (`hub.observe.histograms`), as
`Outcome` objects for a sample only (`hub.observe.stats`). Every other end
(done after a retry, dropped, failed, halted, interrupted) is an `hub.workers.delivery.Outcome`,
whose kind is its `hub.workers.delivery.Fate`.
"""

from __future__ import annotations

import time

from hub.workers.delivery import Fate, Outcome
from hub.workers.workqueue import SEQ, Item


class Report:
    """Messages one worker thread finished: ``done`` ones in bulk, the rest as outcomes."""

    __slots__ = ("ends", "items", "opened", "outcomes", "starts")

    def __init__(self) -> None:
        self.items: list[Item] = []  # consume() returned on the first attempt
        self.starts: list[float] = []  # time.monotonic() when each consume() started
        self.ends: list[float] = []  # ... and when it returned
        self.outcomes: list[Outcome] = []  # every other end
        self.opened = time.monotonic()

    def __len__(self) -> int:
        return len(self.items) + len(self.outcomes)

    def add_done(self, items: list[Item], start: float, end: float) -> None:
        """``items`` done together, in one call that ran from ``start`` to ``end``."""
        self.items.extend(items)
        self.starts.extend([start] * len(items))
        self.ends.extend([end] * len(items))

    def seqs(self) -> list[int]:
        """The log positions of every message in the report (to mark them finished)."""
        return [*map(SEQ, self.items), *(o.seq for o in self.outcomes)]

    def outcome(self, index: int, offset: float) -> Outcome:
        """Done message ``index`` as an `Outcome`; ``offset`` is ``time.time() -
        time.monotonic()``, to turn its end into wall-clock time for the latency."""
        item, start, end = self.items[index], self.starts[index], self.ends[index]
        sent = item.message.timestamp
        latency = end + offset - sent if sent is not None else None
        return Outcome(Fate.DONE, start - item.enqueued_at, end - start, latency, item.seq)

    def as_outcomes(self) -> list[Outcome]:
        """Every message as an `Outcome`, in log order (for tests and tools, not the hot path)."""
        offset = time.time() - time.monotonic()
        done = [self.outcome(i, offset) for i in range(len(self.items))]
        return sorted(done + self.outcomes, key=lambda o: o.seq)
