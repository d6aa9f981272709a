"""Workers report outcomes in batches, and an idle worker still reports within REPORT_EVERY_S."""

from __future__ import annotations

import time
from types import SimpleNamespace

from hub.message import Message
from hub.worker import REPORT_EVERY_S, ConsumerWorkers, Outcome
from hub.workqueue import Item, WorkQueue


class _Noop:
    def setup(self) -> None: ...
    def consume(self, message: Message) -> None: ...
    def teardown(self) -> None: ...


def _workers(queue: WorkQueue, reports: list[list[Outcome]]) -> ConsumerWorkers:
    loaded = SimpleNamespace(name="c", instance=_Noop(), config=SimpleNamespace(threads=1))
    return ConsumerWorkers(loaded, queue, lambda _n, o: reports.append(list(o)), lambda *a: None)  # type: ignore[arg-type]


def _items(count: int) -> list[Item]:
    return [Item(Message("t", {"msg": {}}), time.monotonic()) for _ in range(count)]


def test_idle_worker_reports_within_the_interval() -> None:
    """Three messages then silence: all three outcomes are reported within REPORT_EVERY_S."""
    queue, reports = WorkQueue("c", 100), []
    workers = _workers(queue, reports)
    workers.start()
    queue.put_many(_items(3))
    deadline = time.monotonic() + 10 * REPORT_EVERY_S
    while sum(map(len, reports)) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sum(map(len, reports)) == 3
    workers.close()
    workers.threads[0].join(5)
    assert not workers.threads[0].is_alive()


def test_close_drains_and_reports_everything() -> None:
    """Messages queued before close() are all consumed and reported before the thread ends."""
    queue, reports = WorkQueue("c", 10_000), []
    queue.put_many(_items(1000))
    workers = _workers(queue, reports)
    workers.close()
    workers.start()
    workers.threads[0].join(5)
    assert sum(map(len, reports)) == 1000
