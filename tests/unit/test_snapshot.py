"""hub.snapshot: the backlog counts every message waiting to start, wherever it waits."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hub.message import Message
from hub.snapshot import queued
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
    backlog, oldest = queued(_runtime(queue, [Held(5, 10.0), None]))
    assert (backlog, oldest) == (7, 10.0)


def test_an_empty_consumer_has_no_backlog_and_no_oldest() -> None:
    """Nothing queued, nothing held: zero and None."""
    assert queued(_runtime(WorkQueue("c", 10), [None])) == (0, None)
