"""The enqueuer: decode each message once, offer it to every matching consumer's spool, write
the batch to the durable log; pause input only when the log's disk budget is exhausted.

Order matters for latency: a consumer whose window is live gets the batch *before* the log write
(its worker starts while the reactor writes), a spilled one only after it (its worker reads the
log back, so the records must be there first). See `hub.storage.spool`.

Runs on the reactor thread (``on_batch`` is called by `hub.transports.zeromq.input.ZmqInput`;
``check_room`` by the service's tick). The topic -> consumers `Decision` is cached per topic, and a
batch is grouped by decision, so routing costs two dict lookups and one list append per message
however many consumers it goes to; the log costs one write per input batch, and spool locks are
taken once per consumer per batch, not per message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain

from hub.errors import DecodeError, StoreError
from hub.message import Message
from hub.observe.stats import Stats
from hub.routing.badinput import BadInputLog
from hub.routing.topics import TopicMatcher
from hub.storage.spool import Spool
from hub.storage.store import SegmentLog
from hub.transports.zeromq.codec import decode
from hub.transports.zeromq.gaps import GapTracker
from hub.transports.zeromq.input import Batch
from hub.workers.workqueue import SEQ, SIZE, Item

log = logging.getLogger(__name__)

CACHE_LIMIT = 50_000  # distinct topics remembered before the cache starts over


@dataclass(frozen=True)
class Unwritten:
    """An input batch on its way to the log: its records, and the spools that get it after."""

    entries: list[tuple[float, str, bytes, bytes]]
    spilled: list[tuple[Route, list[Item]]]  # spools that read it back: offered once written
    end: int  # the log's next seq once it is written


@dataclass(frozen=True, eq=False)
class Route:
    """One consumer as the router sees it: what it wants and where it goes."""

    name: str
    matcher: TopicMatcher
    spool: Spool


@dataclass(frozen=True, eq=False)
class Decision:
    """Where messages on a topic go. Topics that go to the same consumers share one Decision,
    hashed by identity, so a batch is grouped by decision at one dict lookup a message."""

    routes: tuple[Route, ...]


class Router:
    """Decode, match, log, offer; pause and resume input on the disk budget."""

    def __init__(
        self,
        stats: Stats,
        bad_input: BadInputLog,
        max_message_bytes: int,
        clock: Callable[[], float],
        pause_input: Callable[[], None],
        resume_input: Callable[[], None],
        store: SegmentLog,
        max_disk_bytes: int,
        gaps: GapTracker | None = None,
    ) -> None:
        self.store = store
        self.max_disk_bytes = max_disk_bytes
        self.gaps = gaps
        self.stats = stats
        self.bad_input = bad_input
        self.max_message_bytes = max_message_bytes
        self.clock = clock
        self.pause_input = pause_input
        self.resume_input = resume_input
        self.routes: dict[str, Route] = {}
        self.paused_since: float | None = None
        self.unwritten: Unwritten | None = None  # a batch the log refused, retried each tick
        self._cache: dict[str, Decision] = {}  # topic -> its decision
        self._decisions: dict[tuple[Route, ...], Decision] = {}  # one Decision per routes

    def set_routes(self, routes: dict[str, Route]) -> None:
        """Replace the set of consumers (start-up and reload); forgets cached decisions."""
        self.routes = dict(routes)
        self._cache.clear()
        self._decisions.clear()

    def match(self, topic: str) -> tuple[Route, ...]:
        """The routes whose patterns match ``topic`` (cached)."""
        return self._decide(topic).routes

    def _decide(self, topic: str) -> Decision:
        found = self._cache.get(topic)
        if found is None:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
                self._decisions.clear()
            routes = tuple(r for r in self.routes.values() if r.matcher.matches(topic))
            found = self._decisions.setdefault(routes, Decision(routes))
            self._cache[topic] = found
        return found

    def on_batch(self, batch: Batch) -> None:
        """Decode, log and route one batch of raw messages from the SUB socket."""
        received_at = time.time()
        enqueued_at = time.monotonic()
        self.stats.on_received(len(batch))
        groups: dict[Decision, list[Item]] = {}  # in log order within each
        entries: list[tuple[float, str, bytes, bytes]] = []
        decoded: list[Message] = []
        seq = self.store.next_seq
        unmatched = 0
        cache, limit = self._cache, self.max_message_bytes
        for frames in batch:
            try:
                message = decode(frames, limit, received_at)
            except DecodeError as error:
                self.stats.on_decode_error(error.cause)
                self.bad_input.report(error, frames)
                continue
            decoded.append(message)
            decision = cache.get(message.topic) or self._decide(message.topic)
            if not decision.routes:
                unmatched += 1
                continue
            entries.append((received_at, "", frames[0], frames[1]))
            items = groups.get(decision)
            if items is None:
                items = groups[decision] = []
            items.append(Item(message, enqueued_at, seq))
            seq += 1
        self._offer(_per_route(groups), entries)
        if unmatched:
            self.stats.on_unmatched(unmatched)
        if self.gaps is not None:  # bookkeeping: after the workers have their messages
            self.gaps.observe(decoded)

    def inject(self, name: str, frames: list[bytes], received_at: float) -> bool:
        """Append one message for consumer ``name`` only (a replayed dead letter)."""
        route = self.routes.get(name)
        if route is None or self.unwritten is not None:
            return False
        message = decode(frames, 1 << 62, received_at)
        item = Item(message, time.monotonic(), self.store.next_seq)
        self._offer({route: [item]}, [(received_at, name, frames[0], frames[1])])
        return True

    def _offer(
        self, pending: dict[Route, list[Item]], entries: list[tuple[float, str, bytes, bytes]]
    ) -> None:
        end = self.store.next_seq + len(entries)
        sizes: dict[int, int] = {}  # id of an item list -> its bytes: consumers share lists
        later = [
            (r, items)
            for r, items in pending.items()
            if not r.spool.offer_live(items, end, _size(items, sizes))
        ]
        self._write(Unwritten(entries, later, end))
        for route, items in pending.items():
            self.stats.on_enqueued(route.name, len(items))
        if self.store.disk_bytes >= self.max_disk_bytes and self.paused_since is None:
            self.stats.hub["disk_full_pauses"] += 1
            self._pause()
            log.error("input paused: the log holds %d bytes, its budget is %d; waiting for "
                      "consumers to catch up", self.store.disk_bytes,
                      self.max_disk_bytes)  # fmt: skip

    def _write(self, batch: Unwritten) -> bool:
        """Append ``batch`` to the log, then offer it to the spilled spools. If the disk
        refuses it, keep it, pause input and say so; True once written."""
        try:
            self.store.append(batch.entries)  # a live window may already be consuming it
        except StoreError as error:
            self.stats.hub["log_write_errors"] += 1
            if self.unwritten is None:
                log.error("input paused: cannot write %d message(s) to the log: %s; retrying "
                          "every second", len(batch.entries), error)  # fmt: skip
            self.unwritten = batch
            self._pause()
            return False
        if self.unwritten is not None:
            log.info("the log is writable again: %d message(s) written", len(batch.entries))
            self.unwritten = None
        for route, items in batch.spilled:
            route.spool.offer(items, batch.end)
        return True

    def _pause(self) -> None:
        if self.paused_since is None:
            self.paused_since = self.clock()
            self.pause_input()

    def close(self) -> None:
        """Shutdown: one last try at a batch the log refused; what still cannot be written is
        lost for the spilled consumers it was for: counted as dropped and logged."""
        batch = self.unwritten
        if batch is None or self._write(batch):
            return
        for route, items in batch.spilled:
            self.stats.on_dropped(route.name, "log_write", len(items))
            log.error("consumer %s: %d message(s) lost: the log could not be written and the "
                      "hub is stopping", route.name, len(items))  # fmt: skip

    def check_room(self) -> None:
        """Retry a batch the log refused; resume input once it is written and the log is back
        under 90% of its disk budget."""
        if self.unwritten is not None and not self._write(self.unwritten):
            return
        if self.paused_since is None:
            return
        if self.store.disk_bytes > self.max_disk_bytes * 0.9:
            return
        paused_for = self.clock() - self.paused_since
        self.paused_since = None
        self.stats.on_paused(paused_for)
        log.info("input resumed after %.3f s paused", paused_for)
        self.resume_input()


def _size(items: list[Item], sizes: dict[int, int]) -> int:
    """The bytes of ``items``, summed once per list."""
    size = sizes.get(id(items))
    if size is None:
        size = sizes[id(items)] = sum(map(SIZE, items))
    return size


def _per_route(groups: dict[Decision, list[Item]]) -> dict[Route, list[Item]]:
    """Each consumer's messages of a batch, in log order. When the whole batch goes to the same
    consumers (the common case) they all share one list: read-only from here on."""
    if len(groups) == 1:
        ((decision, items),) = groups.items()
        return dict.fromkeys(decision.routes, items)
    runs: dict[Route, list[list[Item]]] = {}
    for decision, items in groups.items():
        for route in decision.routes:
            runs.setdefault(route, []).append(items)
    return {
        route: lists[0] if len(lists) == 1 else sorted(chain.from_iterable(lists), key=SEQ)
        for route, lists in runs.items()
    }
