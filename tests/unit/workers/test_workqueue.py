"""hub.workers.workqueue: bounding, close/abort semantics."""

from __future__ import annotations

import threading

from hub.message import Message
from hub.workers.workqueue import Item, WorkQueue


def items(n: int, start: int = 0) -> list[Item]:
    return [Item(Message(f"t.{i}", {"msg": i}), float(i)) for i in range(start, start + n)]


def test_put_reports_full_at_the_bound() -> None:
    """put_many says full at the bound, accepting the whole batch; get_many keeps order."""
    queue = WorkQueue("q", bound=10)
    assert queue.put_many(items(9)) is False
    assert queue.put_many(items(3, 9)) is True  # accepts the whole batch: 12 > bound
    assert [i.message.body for i in queue.get_many(2)] == [0, 1]
    assert queue.is_full  # 10 left: still at the bound
    queue.get_many(1)
    assert not queue.is_full and len(queue) == 9


def test_close_drains_then_returns_empty() -> None:
    """After close(), queued items are still handed out, then [] ends the worker loop."""
    queue = WorkQueue("q", bound=5)
    queue.put_many(items(3))
    queue.close()
    assert len(queue.get_many(10)) == 3
    assert queue.get_many(10) == []


def test_abort_stops_now_and_keeps_the_rest() -> None:
    """abort() makes get_many return [] at once; give_back restores order for drain."""
    queue = WorkQueue("q", bound=5)
    queue.put_many(items(4))
    taken = queue.get_many(3)
    queue.give_back(taken[1:])
    queue.abort()
    assert queue.get_many(10) == []
    assert [i.message.body for i in queue.drain_remaining()] == [1, 2, 3]
    assert queue.oldest_enqueued_at is None


def _takers(queue: WorkQueue, count: int, limit: int) -> tuple[list[threading.Thread], list]:
    """``count`` threads that take batches of up to ``limit`` until ``get_many`` returns []."""
    got: list = []

    def take() -> None:
        while batch := queue.get_many(limit):
            got.append([i.message.body for i in batch])

    threads = [threading.Thread(target=take, name=f"taker:{n}") for n in range(count)]
    for thread in threads:
        thread.start()
    return threads, got


def test_waiting_workers_are_woken_by_work_and_by_close_and_nothing_is_lost() -> None:
    """Three blocked threads, 20,000 items in small batches from this thread: each item is
    taken exactly once, each thread's batches in order; close wakes every one of them."""
    queue = WorkQueue("q", bound=1 << 30)
    threads, got = _takers(queue, 3, limit=7)
    for start in range(0, 20_000, 13):
        queue.put_many(items(min(13, 20_000 - start), start))
    queue.close()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    taken = [n for batch in got for n in batch]
    assert sorted(taken) == list(range(20_000))
    assert all(batch == sorted(batch) for batch in got)


def test_abort_wakes_a_blocked_worker_with_nothing() -> None:
    """A thread blocked on an empty queue returns [] once the queue is aborted."""
    queue = WorkQueue("q", bound=10)
    threads, got = _takers(queue, 1, limit=5)
    queue.abort()
    threads[0].join(10)
    assert not threads[0].is_alive() and got == []
