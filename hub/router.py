"""The enqueuer: decode each message once, route it by topic into every matching consumer's
queue, and pause input while any queue is full.

Runs on the reactor thread (``on_batch`` is called by `hub.zmq_input.ZmqInput`; ``on_room`` is
delivered from worker threads through ``reactor.callFromThread``). The topic -> consumers
decision is cached per topic, so routing costs one dict lookup per message plus one list append
per matching consumer; queue locks are taken once per consumer per batch, not per message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.badinput import BadInputLog
from hub.codec import decode
from hub.errors import DecodeError
from hub.stats import Stats
from hub.topics import TopicMatcher
from hub.workqueue import Item, WorkQueue
from hub.zmq_input import Batch

log = logging.getLogger(__name__)

CACHE_LIMIT = 50_000  # distinct topics remembered before the cache starts over


@dataclass(frozen=True, eq=False)
class Route:
    """One consumer as the router sees it: what it wants and where it goes."""

    name: str
    matcher: TopicMatcher
    queue: WorkQueue


class Router:
    """Decode, match, enqueue; pause and resume input."""

    def __init__(
        self,
        stats: Stats,
        bad_input: BadInputLog,
        max_message_bytes: int,
        clock: Callable[[], float],
        pause_input: Callable[[], None],
        resume_input: Callable[[], None],
    ) -> None:
        self.stats = stats
        self.bad_input = bad_input
        self.max_message_bytes = max_message_bytes
        self.clock = clock
        self.pause_input = pause_input
        self.resume_input = resume_input
        self.routes: dict[str, Route] = {}
        self.paused_since: float | None = None
        self._cache: dict[str, tuple[Route, ...]] = {}

    def set_routes(self, routes: dict[str, Route]) -> None:
        """Replace the set of consumers (start-up and reload); forgets cached decisions."""
        self.routes = dict(routes)
        self._cache.clear()
        self.on_room()

    def match(self, topic: str) -> tuple[Route, ...]:
        """The routes whose patterns match ``topic`` (cached)."""
        found = self._cache.get(topic)
        if found is None:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            found = tuple(r for r in self.routes.values() if r.matcher.matches(topic))
            self._cache[topic] = found
        return found

    def on_batch(self, batch: Batch) -> None:
        """Decode and route one batch of raw messages from the SUB socket."""
        received_at = time.time()
        enqueued_at = time.monotonic()
        self.stats.on_received(len(batch))
        pending: dict[Route, list[Item]] = {}
        unmatched = 0
        for frames in batch:
            try:
                message = decode(frames, self.max_message_bytes, received_at)
            except DecodeError as error:
                self.stats.on_decode_error(error.cause)
                self.bad_input.report(error, frames)
                continue
            routes = self.match(message.topic)
            if not routes:
                unmatched += 1
                continue
            item = Item(message, enqueued_at)
            for route in routes:
                pending.setdefault(route, []).append(item)
        if unmatched:
            self.stats.on_unmatched(unmatched)
        self._enqueue(pending)

    def _enqueue(self, pending: dict[Route, list[Item]]) -> None:
        full = False
        for route, items in pending.items():
            self.stats.on_enqueued(route.name, len(items))
            full = route.queue.put_many(items) or full
        if full and self.paused_since is None:
            self.paused_since = self.clock()
            self.pause_input()
            behind = [r.name for r in self.routes.values() if r.queue.is_full]
            log.warning("input paused: queue full for %s", ", ".join(behind))

    def on_room(self) -> None:
        """A queue went below its low-water mark: resume input if every queue has room."""
        if self.paused_since is None:
            return
        if not all(r.queue.has_room for r in self.routes.values()):
            return
        paused_for = self.clock() - self.paused_since
        self.paused_since = None
        self.stats.on_paused(paused_for)
        log.info("input resumed after %.3f s paused", paused_for)
        self.resume_input()
