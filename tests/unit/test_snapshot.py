"""hub.snapshot: the backlog counts every message waiting to start; pauses count as they run."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from hub.message import Message
from hub.metricdefs import samples, statsd_name
from hub.snapshot import hub_snapshot, queued
from hub.stats import Stats
from hub.worker import Held
from hub.workqueue import Item, WorkQueue


def _runtime(queue: WorkQueue, held: list[Held | None]) -> Any:
    return SimpleNamespace(queue=queue, workers=SimpleNamespace(held=held))


def _item(enqueued_at: float) -> Item:
    message = Message(topic="t", envelope={"msg": {}})
    return Item(message, enqueued_at)


def test_messages_held_in_a_worker_batch_count_as_backlog() -> None:
    """Queued items plus those a thread took in its batch but has not started."""
    queue = WorkQueue("c", 100)
    queue.put_many([_item(20.0), _item(21.0)])
    held = Held([_item(9.0), *[_item(10.0 + n) for n in range(5)]])
    held.position = 1  # the first one is under way
    backlog, oldest = queued(_runtime(queue, [held, None]))
    assert (backlog, oldest) == (7, 10.0)
    held.position = 6  # the whole batch started: nothing held
    assert queued(_runtime(queue, [held])) == (2, 20.0)


def test_an_empty_consumer_has_no_backlog_and_no_oldest() -> None:
    """Nothing queued, nothing held: zero and None."""
    assert queued(_runtime(WorkQueue("c", 10), [None])) == (0, None)


def test_a_pause_under_way_counts_in_input_paused_s() -> None:
    """input_paused_s includes the current pause, not only the ones that ended."""
    stats = Stats()
    stats.on_paused(2.0)
    running = hub_snapshot(stats, 0.0, True, None, 10.0)
    paused = hub_snapshot(stats, 0.0, True, time.monotonic() - 3.0, 10.0)
    assert running["input_paused_s"] == 2.0 and not running["input_paused"]
    assert paused["input_paused"] and 5.0 <= paused["input_paused_s"] < 6.0


def test_process_figures_are_left_out_when_proc_cannot_be_read(monkeypatch: Any) -> None:
    """Out of file descriptors (EMFILE reading /proc): the snapshot still builds, and the two
    process figures are None, so no sink exports a made-up value."""

    def no_descriptors(pid: int) -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr("hub.snapshot.psutil.Process", no_descriptors)
    hub = hub_snapshot(Stats(), 0.0, True, None, 10.0)
    assert (hub["rss_bytes"], hub["open_fds"]) == (None, None) and hub["received"] == 0
    names = {statsd_name(s) for s in samples({"hub": hub})}
    assert "received" in names and not names & {"rss_bytes", "open_fds"}
