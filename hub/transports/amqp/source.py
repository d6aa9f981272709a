"""One AMQP consumer's source: the broker's deliveries into its window, acks once finished.

Threads: ``offer``, ``settle``, ``return_unfinished`` and ``set_ready`` run on the reactor
(deliveries come from `hub.transports.amqp.connection`, acks go back to it); ``take`` and the
window's ``finish`` run on the consumer's worker threads, which hand what they finished to the
reactor with ``reactor.callFromThread``.

This is the broker side of the seam in `hub.transports.base`: the broker keeps the backlog, so
nothing is written to the local log. Each delivery gets a seq of this source's own (the window
tracks commits by seq, as for the log) mapped to its delivery tag and channel generation. A
message is acknowledged only once it is finished: done, dropped on purpose, or dead-lettered --
a dead letter (and a delivery that cannot be decoded) goes to the consumer's dead-letter queue
(``<queue>.dead-letters``) with the hub's reasons (`hub.transports.amqp.deadletter`), where
every hub sharing the consumer sees it. What
is not finished at a halt or a shutdown goes back to the queue (nack with requeue); a delivery
whose channel is gone is not acked at all (the broker redelivers it). What one reactor turn
delivers (a socket read's worth) goes into the window in one put, at the end of the turn
(``call_soon``): one wake-up of the worker, and so one report and one ack, for the lot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from hub.errors import DecodeError
from hub.message import Message
from hub.transports.amqp.channel import Delivery
from hub.transports.amqp.deadletter import TOPIC as TOPIC_HEADER
from hub.transports.amqp.deadletter import Why
from hub.transports.amqp.wire import decode
from hub.workers.delivery import DeadLetter
from hub.workers.workqueue import Item, WorkQueue

log = logging.getLogger(__name__)


class Settler(Protocol):
    """The connection's side of acknowledging (`hub.transports.amqp.connection`)."""

    def ack(self, tags: int | list[int], generation: int) -> bool: ...
    def nack(self, tag: int, generation: int, requeue: bool) -> bool: ...
    def dead_letter(self, delivery: Delivery, topic: str, why: Why) -> None: ...


class Counts(Protocol):
    """What a source counts (`hub.observe.stats.Stats`)."""

    def on_received(self, count: int) -> None: ...
    def on_decode_error(self, cause: str) -> None: ...
    def on_unmatched(self, count: int) -> None: ...
    def on_enqueued(self, name: str, count: int) -> None: ...


class BrokerWindow(WorkQueue):
    """A consumer's window whose ``finish`` also tells the source (worker thread)."""

    def __init__(self, name: str, bound: int, *, finished: Callable[[list[int]], None]) -> None:
        super().__init__(name, bound)
        self.finished = finished

    def finish(self, seqs: list[int]) -> None:
        super().finish(seqs)
        self.finished(seqs)


class BrokerSource:
    """Deliveries of one queue -> `Item`s in the window; finished seqs -> acks."""

    def __init__(  # noqa: PLR0913 - keyword-only narrow parts
        self,
        name: str,
        *,
        accepts: Callable[[str], bool],
        window: int,
        settler: Settler,
        counts: Counts,
        call_from_thread: Callable[..., object],
        max_message_bytes: int,
        call_soon: Callable[[Callable[[], None]], object] | None = None,
    ) -> None:
        self.name = name
        self.accepts = accepts  # the consumer's glob: a binding key may be broader
        self.settler = settler
        self.counts = counts
        self.call_from_thread = call_from_thread
        self.call_soon = call_soon  # reactor.callLater(0, ...): deliveries go in per read
        self._pending: list[Item] = []  # offered during this reactor turn, not yet in the window
        self.max_message_bytes = max_message_bytes
        self.queue = BrokerWindow(name, window, finished=self._finished)
        self.ready = 0  # messages ready in the broker's queue (the last count read)
        self._deliveries: dict[int, Delivery] = {}  # seq -> its delivery, until settled
        self._next = 0
        self._rejected: dict[int, DeadLetter] = {}  # dead-lettered seqs, not to be acked
        self._lock = threading.Lock()  # _rejected: added on worker threads

    # -- worker threads -------------------------------------------------------------------

    def take(self, limit: int) -> list[Item]:
        return self.queue.get_many(limit)

    def add(self, letter: DeadLetter) -> None:
        """Dead-letter ``letter`` (`hub.workers.delivery.DeadLetters`): when finished it goes
        to the dead-letter queue with the hub's reasons instead of being acked."""
        with self._lock:
            self._rejected[letter.seq] = letter

    def _finished(self, seqs: list[int]) -> None:
        self.call_from_thread(self.settle, seqs)

    # -- reactor --------------------------------------------------------------------------

    def on_disk(self, log_end: int) -> int:
        """Messages waiting outside memory: ready in the broker's queue."""
        return self.ready

    def set_ready(self, count: int) -> None:
        self.ready = count

    def offer(self, delivery: Delivery) -> None:
        """One delivery: into the window, or settled at once when it is not for the
        consumer (acked, counted) or cannot be decoded (rejected, counted by cause)."""
        self.counts.on_received(1)
        topic = (delivery.properties.headers or {}).get(TOPIC_HEADER) or delivery.routing_key
        try:
            message = decode(topic, delivery.properties, delivery.body, self.max_message_bytes,
                             time.time())  # fmt: skip
        except DecodeError as error:
            self.counts.on_decode_error(error.cause)
            log.warning("consumer %s: rejected a delivery on %s (msg_id %s): %s", self.name,
                        delivery.routing_key, _msg_id(delivery), error)  # fmt: skip
            self.settler.dead_letter(delivery, topic, Why(self.name, f"cannot decode: {error}"))
            return
        if not self.accepts(message.topic):
            self.counts.on_unmatched(1)
            self.settler.ack(delivery.tag, delivery.generation)
            return
        self._put(message, delivery)

    def _put(self, message: Message, delivery: Delivery) -> None:
        seq = self._next
        self._next += 1
        self._deliveries[seq] = delivery
        self.counts.on_enqueued(self.name, 1)
        item = Item(message, time.monotonic(), seq)
        if self.call_soon is None:
            self.queue.put_many([item])
            return
        if not self._pending:  # the first of this turn: the rest of the read joins it
            self.call_soon(self._put_pending)
        self._pending.append(item)

    def _put_pending(self) -> None:
        """What one reactor turn delivered, into the window at once: one wake-up of the worker
        for a whole socket read, not one a message (the worker then takes, and reports, them
        together, so they are acked together)."""
        pending, self._pending = self._pending, []
        if pending:
            self.queue.put_many(pending)

    def settle(self, seqs: list[int]) -> None:
        """Finished messages: ack them, or dead-letter the dead-lettered ones."""
        with self._lock:
            rejected = {seq: self._rejected.pop(seq) for seq in seqs if seq in self._rejected}
        acks: dict[int, list[int]] = {}  # generation -> tags, acked together
        for seq in seqs:
            delivery = self._deliveries.pop(seq, None)
            if delivery is None:
                continue
            letter = rejected.get(seq)
            if letter is None:
                acks.setdefault(delivery.generation, []).append(delivery.tag)
                continue
            why = Why(self.name, letter.error, letter.traceback, letter.attempts)
            self.settler.dead_letter(delivery, letter.topic, why)
        for generation, tags in acks.items():
            self.settler.ack(tags, generation)

    def return_unfinished(self) -> int:
        """Halt or shutdown: every delivery not finished goes back to the queue; how many."""
        self.queue.drain_remaining()
        self._pending = []
        deliveries, self._deliveries = self._deliveries, {}
        for delivery in deliveries.values():
            self.settler.nack(delivery.tag, delivery.generation, True)
        if deliveries:
            log.info("consumer %s: %d unfinished message(s) returned to its queue", self.name,
                     len(deliveries))  # fmt: skip
        return len(deliveries)


def _msg_id(delivery: Delivery) -> Any:
    return getattr(delivery.properties, "message_id", None) or "-"
