"""One consumer's backlog: an in-memory window (a `WorkQueue`) in front of the shared log.

Threads: ``resume``, ``offer_live``, ``offer``, ``commit_point`` and ``on_disk`` run on the
reactor thread; ``take`` (and the refill it does) on the consumer's worker threads. ``lock``
makes the switch between *live* (the router puts new items straight into the window) and
*spilled* (new items stay on disk; workers read them back in order) atomic with respect to both.

Every spool gets a batch only once the reactor has written it to the log (``offer``): a record
is on disk (in the page cache, which outlives the process) before any consumer can start on it,
so a ``kill -9`` never leaves a message one consumer finished and the others can never get.
Spilled workers read records back, and so never look for one not yet written. Spilling costs the
reactor nothing: it just stops appending to the window.

A worker that finds the window low while spilled reads the next records from disk
(``disk_from`` up to ``offered_end``, the end of the last batch offered here), decodes them and
keeps the ones for this consumer; when it reaches ``offered_end`` the spool is live again.
Records past ``offered_end`` that were never offered did not match this consumer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from hub.errors import DecodeError
from hub.storage.logreader import LogReader
from hub.storage.records import Record
from hub.transports.zeromq.codec import decode
from hub.workers.workqueue import Item, WorkQueue

log = logging.getLogger(__name__)

READ_CHUNK = 2_000  # records read from disk per refill step


class Spool:
    """The window + disk cursor of one consumer."""

    def __init__(
        self, name: str, queue: WorkQueue, *, reader: LogReader, accepts: Callable[[str], bool]
    ) -> None:
        self.name = name
        self.queue = queue
        self.reader = reader
        self.accepts = accepts  # topic -> bool (the consumer's matcher)
        self.lock = threading.Lock()
        self.spilled = False
        self.disk_from = 0  # first seq not yet in the window (while spilled)
        self.offered_end = 0  # seq just past the last batch offered to this spool
        self.resume_end = 0  # log end at start-up: what lies before it was not counted here
        self.waiting = 0  # items offered while spilled, not yet read back (exact count)
        self.spills = 0
        self.read_back = 0
        self._refilling = threading.Lock()

    # -- reactor thread --------------------------------------------------------------------

    def resume(self, cursor: int, end: int) -> None:
        """Start at ``cursor`` in a log whose next seq is ``end`` (start-up)."""
        with self.lock:
            self.offered_end = self.resume_end = end
            self.spilled = cursor < end
            self.disk_from = cursor
        if self.spilled:
            log.info("consumer %s: resuming from seq %d (%d record(s) to read back)",
                     self.name, cursor, end - cursor)  # fmt: skip

    def offer(self, items: list[Item], end: int, size: int | None = None) -> None:
        """New items (already in the log, seqs below ``end``; ``size`` bytes if known): window
        them, or leave them on disk once the window is full."""
        with self.lock:
            self.offered_end = end
            if self.spilled:
                self.waiting += len(items)
                return
            if self.queue.is_full:
                self.spilled = True
                self.waiting += len(items)
                self.disk_from = items[0].seq
                self.spills += 1
                log.info("consumer %s: window full (%d messages); backlog continues on disk "
                         "from seq %d", self.name, len(self.queue), self.disk_from)  # fmt: skip
                return
            self.queue.put_many(items, size)

    def commit_point(self, log_end: int) -> int:
        """The first seq this consumer has not finished (``log_end`` when it is idle)."""
        with self.lock:
            first = self.queue.first_unfinished()
            if first is not None:
                return first
            return self.disk_from if self.spilled else log_end

    def on_disk(self, log_end: int) -> int:
        """How many of this consumer's messages wait on disk.

        Exact for what spilled during this run (counted as offered); for records from before a
        restart, not yet read back, the count of log records is an upper bound (the log is
        shared, and finding which of those match would mean reading them).
        """
        with self.lock:
            if not self.spilled:
                return 0
            return self.waiting + max(0, min(log_end, self.resume_end) - self.disk_from)

    # -- worker threads ----------------------------------------------------------------------

    def take(self, limit: int) -> list[Item]:
        """The next items for a worker, reading back from disk first when the window is low."""
        if self.spilled and not self.queue.closed and len(self.queue) <= self.queue.low_mark:
            self.refill()
        return self.queue.get_many(limit)

    def refill(self) -> int:
        """Move records from disk into the window until it is full or the spool is live."""
        if not self._refilling.acquire(blocking=False):
            return 0  # a sibling thread is at it; its put_many wakes us
        try:
            moved = 0
            while self.spilled and not self.queue.is_full:
                with self.lock:
                    start, end = self.disk_from, self.offered_end
                room = max(1, self.queue.bound - len(self.queue))
                records = self.reader.read(start, end, min(READ_CHUNK, room * 4))
                items = [i for i in map(self._item, records) if i is not None]
                next_from = records[-1].seq + 1 if records else end
                with self.lock:
                    self.queue.put_many(items)
                    counted = sum(1 for i in items if i.seq >= self.resume_end)
                    self.waiting = max(0, self.waiting - counted)
                    self.disk_from = next_from
                    if next_from >= self.offered_end:
                        self.spilled = False
                        self.waiting = 0
                moved += len(items)
            self.read_back += moved
            return moved
        finally:
            self._refilling.release()

    def _item(self, record: Record) -> Item | None:
        if record.target and record.target != self.name:
            return None
        try:
            topic = record.topic.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if not record.target and not self.accepts(topic):
            return None
        try:
            message = decode([record.topic, record.envelope], 1 << 62, record.received_at)
        except DecodeError as exc:
            log.error("consumer %s: undecodable record seq %d on %s (msg_id -): %s",
                      self.name, record.seq, topic, exc)  # fmt: skip
            return None
        enqueued_at = time.monotonic() - max(0.0, time.time() - record.received_at)
        return Item(message, enqueued_at, record.seq)
