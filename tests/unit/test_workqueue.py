"""hub.workqueue: bounding, low-water resume signal, close/abort semantics."""

from __future__ import annotations

from hub.message import Message
from hub.workqueue import Item, WorkQueue


def items(n: int, start: int = 0) -> list[Item]:
    return [Item(Message(f"t.{i}", {"msg": i}), float(i)) for i in range(start, start + n)]


def test_put_reports_full_and_get_signals_room_below_low_water() -> None:
    """put_many says full at the bound; on_room fires once the queue drains to 90%."""
    queue = WorkQueue("q", bound=10)
    rooms: list[int] = []
    queue.on_room = lambda: rooms.append(len(queue))
    assert queue.put_many(items(9)) is False
    assert queue.put_many(items(3, 9)) is True  # accepts the whole batch: 12 > bound
    assert [i.message.body for i in queue.get_many(2)] == [0, 1]
    assert rooms == []  # 10 left: still above the low-water mark of 9
    queue.get_many(1)
    assert rooms == [9]
    queue.get_many(1)
    assert rooms == [9], "on_room fires once per full episode"


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
