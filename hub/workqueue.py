"""The bounded hand-off between the reactor (producer) and a consumer's worker threads.

``put_many`` runs on the reactor thread; ``get_many`` and ``give_back`` on worker threads; the
rest on either. One lock guards one deque; every method holds it only for O(batch) work.

Bounding: ``put_many`` always accepts the batch it is given (the router has already decided the
message goes here, and refusing part of a batch would lose or reorder it) and returns True when
the queue is at or over its bound, which makes the router pause input. When a worker takes the
queue back below its low-water mark after that, ``on_room`` is called (on the worker thread) so
the router can resume. Overshoot is therefore at most one input batch.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import NamedTuple

from hub.message import Message


class Item(NamedTuple):
    """A message in a queue, with when it was enqueued (``time.monotonic()``)."""

    message: Message
    enqueued_at: float


class WorkQueue:
    """A bounded FIFO with close (drain then stop) and abort (stop now, keep the rest)."""

    def __init__(self, name: str, bound: int, low_water: float = 0.9) -> None:
        self.name = name
        self.bound = bound
        self.low_mark = max(0, int(bound * low_water))
        self.on_room: Callable[[], None] = lambda: None
        self._items: deque[Item] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._aborted = False
        self._signalled_full = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def oldest_enqueued_at(self) -> float | None:
        """When the oldest queued message was enqueued, or None when empty."""
        try:
            return self._items[0].enqueued_at
        except IndexError:
            return None

    @property
    def is_full(self) -> bool:
        """True while the queue is at or over its bound."""
        return len(self._items) >= self.bound

    @property
    def has_room(self) -> bool:
        """True when the queue is below its low-water mark."""
        return len(self._items) <= self.low_mark

    def put_many(self, items: Iterable[Item]) -> bool:
        """Append ``items``; return True when the queue is now at or over its bound."""
        with self._cond:
            self._items.extend(items)
            full = len(self._items) >= self.bound
            if full:
                self._signalled_full = True
            self._cond.notify()
            return full

    def get_many(self, limit: int) -> list[Item]:
        """Block until items are available; return up to ``limit`` of them, [] when stopped."""
        with self._cond:
            while not self._items and not self._closed and not self._aborted:
                self._cond.wait()
            if self._aborted or not self._items:
                return []
            count = min(limit, len(self._items))
            batch = [self._items.popleft() for _ in range(count)]
            if self._items:
                self._cond.notify()  # let a sibling worker take the next batch
            room = self._signalled_full and len(self._items) <= self.low_mark
            if room:
                self._signalled_full = False
        if room:
            self.on_room()
        return batch

    def give_back(self, items: list[Item]) -> None:
        """Put unprocessed ``items`` back at the head, in order (a worker told to stop)."""
        with self._cond:
            self._items.extendleft(reversed(items))

    def close(self) -> None:
        """No more input: workers drain what is queued, then ``get_many`` returns []."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def abort(self) -> None:
        """Stop handing out items now; what is queued stays for ``drain_remaining``."""
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def drain_remaining(self) -> list[Item]:
        """Remove and return everything still queued (after ``abort``)."""
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items
