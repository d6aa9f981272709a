"""What a consumer's worker threads hold and are doing, as the reactor reads it.

A worker thread (`hub.workers.worker`) moves its `Held` on with one attribute store per message,
and stores ``(started, item)`` in its ``current`` slot; the reactor thread reads the `Held` and
builds a `Busy` from that slot for the backlog figures, status, the stuck watch and shutdown
(`hub.workers.life`); a dying worker thread builds one to name the message it died on. No
lock: a reader sees the value before or after one store.
"""

from __future__ import annotations

import time

from hub.workers.workqueue import Item


class Held:
    """The messages of a worker thread's batch that it has not started yet.

    The worker sets ``position`` before each message (one attribute store); the reactor reads
    ``count`` and ``oldest_enqueued_at`` for the backlog figures.
    """

    __slots__ = ("batch", "position")

    def __init__(self, batch: list[Item]) -> None:
        self.batch = batch
        self.position = 0  # index of the first message not started

    @property
    def count(self) -> int:
        return max(0, len(self.batch) - self.position)

    @property
    def oldest_enqueued_at(self) -> float | None:
        """``time.monotonic()`` when the oldest held message was enqueued; None if none is."""
        try:
            return self.batch[self.position].enqueued_at
        except IndexError:
            return None


class Busy:
    """What a worker thread is doing right now (read by the reactor for status)."""

    __slots__ = ("item", "started")

    def __init__(self, started: float, item: Item) -> None:
        self.started = started  # time.monotonic()
        self.item = item

    @property
    def since(self) -> float:
        """When it started, as ``time.time()``."""
        return time.time() - (time.monotonic() - self.started)

    @property
    def msg_id(self) -> str:
        return self.item.message.log_id

    @property
    def topic(self) -> str:
        return self.item.message.topic
