"""The enqueuer: decode each message once, write the batch to the durable log, then offer it to
every matching consumer's spool; pause input only when the log's disk budget is exhausted or the
disk refuses a write.

Runs on the reactor thread (``on_batch`` is called by the transport's input, e.g.
`hub.transports.zeromq.input.ZmqInput`; ``check_room`` by the service's one-second tick).

Order: decode and route the whole batch, write it to the log in one ``write()``, and only then
offer it to the spools. A record is in the page cache (which outlives the process) before any
consumer can start on it, so a ``kill -9`` at any moment never leaves a message one consumer
finished while the others can never get it (the kill -9 torture test found that hole when live
windows got a batch before its write). Routing goes by `hub.routing.router.Decision`: a
message costs two dict lookups and one list append however many consumers it goes to, and the
spool locks are taken once per consumer per batch, not per message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Protocol

from hub.errors import DecodeError, StoreError
from hub.message import Message
from hub.observe.stats import Stats
from hub.routing.badinput import BadInputLog
from hub.routing.router import Decision, Route, Router
from hub.workers.workqueue import SEQ, SIZE, Item

log = logging.getLogger(__name__)

Batch = list[list[bytes]]  # raw messages, each a list of frames
Entry = tuple[float, str, bytes, bytes]  # a log record: received_at, target, topic, envelope
Decode = Callable[[list[bytes], int, float], Message]  # (frames, max bytes, received_at)
Decoded = tuple[list[bytes], Message]  # a message and the frames it came in (for the log)


class Log(Protocol):
    """What the enqueuer needs of the durable log (`hub.storage.store.SegmentLog`)."""

    @property
    def next_seq(self) -> int: ...
    @property
    def disk_bytes(self) -> int: ...
    def append(self, entries: Iterable[Entry]) -> int: ...


class Pausable(Protocol):
    """The input whose reading the enqueuer pauses and resumes."""

    def pause(self) -> None: ...
    def resume(self) -> None: ...


@dataclass(frozen=True)
class Unwritten:
    """An input batch on its way to the log, and each consumer's share of it."""

    entries: list[Entry]
    shares: list[tuple[Route, list[Item]]]  # offered once the batch is written
    end: int  # the log's next seq once it is written


class Enqueuer:
    """Decode, route, log, offer; pause and resume input on the disk budget."""

    def __init__(  # noqa: PLR0913 - keyword-only narrow parts, wired by the service
        self,
        *,
        router: Router,
        decode: Decode,
        log: Log,
        stats: Stats,
        bad_input: BadInputLog,
        input: Pausable,
        max_message_bytes: int,
        max_disk_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        observe: Callable[[list[Message]], None] | None = None,
    ) -> None:
        self.router = router
        self.decode = decode
        self.log = log
        self.stats = stats
        self.bad_input = bad_input
        self.input = input
        self.max_message_bytes = max_message_bytes
        self.max_disk_bytes = max_disk_bytes
        self.clock = clock
        self.observe = observe  # sees every decoded message after routing (upstream gaps)
        self.paused_since: float | None = None
        self.unwritten: Unwritten | None = None  # a batch the log refused, retried each tick

    def on_batch(self, batch: Batch) -> None:
        """Decode, log and route one batch of raw messages from the input."""
        self.route(self.decoded(batch))

    def decoded(self, batch: Batch) -> list[Decoded]:
        """Each message of ``batch`` that decodes, with its frames; the rest counted, logged."""
        received_at = time.time()
        self.stats.on_received(len(batch))
        decode, limit = self.decode, self.max_message_bytes
        out: list[Decoded] = []
        for frames in batch:
            try:
                out.append((frames, decode(frames, limit, received_at)))
            except DecodeError as error:
                self.stats.on_decode_error(error.cause)
                self.bad_input.report(error, frames)
        return out

    def route(self, decoded: list[Decoded]) -> None:
        """Log and route decoded messages (checked first, with `hub.signatures.gate`)."""
        enqueued_at = time.monotonic()
        groups: dict[Decision, list[Item]] = {}  # in log order within each
        entries: list[Entry] = []
        seq = self.log.next_seq
        unmatched = 0
        cache, decide = self.router.cache, self.router.decide
        for frames, message in decoded:
            decision = cache.get(message.topic) or decide(message.topic)
            if not decision.routes:
                unmatched += 1
                continue
            entries.append((message.received_at, "", frames[0], frames[1]))
            items = groups.get(decision)
            if items is None:
                items = groups[decision] = []
            items.append(Item(message, enqueued_at, seq))
            seq += 1
        self._enqueue(_per_route(groups), entries)
        if unmatched:
            self.stats.on_unmatched(unmatched)
        if self.observe is not None:  # bookkeeping: after the consumers have their messages
            self.observe([message for _, message in decoded])

    def inject(self, name: str, frames: list[bytes], received_at: float) -> bool:
        """Append one message for consumer ``name`` only (a replayed dead letter); False when
        ``name`` is not routed or the log refuses writes just now. Raises `DecodeError`."""
        route = self.router.routes.get(name)
        if route is None or self.unwritten is not None:
            return False
        message = self.decode(frames, 1 << 62, received_at)
        item = Item(message, time.monotonic(), self.log.next_seq)
        self._enqueue({route: [item]}, [(received_at, name, frames[0], frames[1])])
        return True

    def _enqueue(self, shares: dict[Route, list[Item]], entries: list[Entry]) -> None:
        self._write(Unwritten(entries, list(shares.items()), self.log.next_seq + len(entries)))
        for route, items in shares.items():
            self.stats.on_enqueued(route.name, len(items))
        if self.log.disk_bytes >= self.max_disk_bytes and self.paused_since is None:
            self.stats.on_disk_full_pause()
            self._pause()
            log.error("input paused: the log holds %d bytes, its budget is %d; waiting for "
                      "consumers to catch up", self.log.disk_bytes,
                      self.max_disk_bytes)  # fmt: skip

    def _write(self, batch: Unwritten) -> bool:
        """Append ``batch`` to the log, then offer each consumer its share. If the disk refuses
        it, keep it, pause input and say so; True once written."""
        try:
            self.log.append(batch.entries)
        except StoreError as error:
            self.stats.on_log_write_error()
            if self.unwritten is None:
                log.error("input paused: cannot write %d message(s) to the log: %s; retrying "
                          "every second", len(batch.entries), error)  # fmt: skip
            self.unwritten = batch
            self._pause()
            return False
        if self.unwritten is not None:
            log.info("the log is writable again: %d message(s) written", len(batch.entries))
            self.unwritten = None
        sizes: dict[int, int] = {}  # id of an item list -> its bytes: consumers share lists
        for route, items in batch.shares:
            route.spool.offer(items, batch.end, _size(items, sizes))
        return True

    def _pause(self) -> None:
        if self.paused_since is None:
            self.paused_since = self.clock()
            self.input.pause()

    def close(self) -> None:
        """Shutdown: one last try at a batch the log refused; what still cannot be written is
        lost for the consumers it was for: counted as dropped and logged."""
        batch = self.unwritten
        if batch is None or self._write(batch):
            return
        for route, items in batch.shares:
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
        if self.log.disk_bytes > self.max_disk_bytes * 0.9:
            return
        paused_for = self.clock() - self.paused_since
        self.paused_since = None
        self.stats.on_paused(paused_for)
        log.info("input resumed after %.3f s paused", paused_for)
        self.input.resume()


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
