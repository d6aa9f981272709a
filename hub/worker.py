"""A consumer's dedicated, named worker threads: take a batch, consume each message, report.

Everything in `ConsumerWorkers` except ``start``/``restart``/``close``/``abort`` runs on the
consumer's own threads (``consumer:<name>:<n>``), never on the reactor and never on Twisted's
shared thread pool. Thread 0 runs ``setup()`` before any thread takes a message; the last thread
to finish runs ``teardown()``. Results go back in batches through the ``report`` callable, which
the service binds to ``reactor.callFromThread``: the worker never touches reactor-owned state.

Each message goes through `hub.delivery.Delivery` (retries, dead letters). A thread that dies
(a ``BaseException`` escaped, e.g. ``SystemExit`` from a plugin) puts its unfinished messages
back at the head of the queue and reports "died"; the supervisor (`hub.supervisor`, reactor)
calls ``restart`` after a backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from hub.backlog import Spool
from hub.delivery import Delivery, Outcome
from hub.loader import LoadedConsumer
from hub.workqueue import Item

log = logging.getLogger(__name__)

REPORT_EVERY_S = 0.05
REPORT_EVERY_N = 256

__all__ = ["Busy", "ConsumerWorkers", "Outcome"]


class Held:
    """Messages a thread has taken from the queue in its batch but not started yet.

    Read-only by convention; a slotted class, not a frozen dataclass: one is built per message
    of a batch, at a third of the cost (docs/benchmarks.md, "Hot path, round 2").
    """

    __slots__ = ("count", "oldest_enqueued_at")

    def __init__(self, count: int, oldest_enqueued_at: float) -> None:
        self.count = count
        self.oldest_enqueued_at = oldest_enqueued_at  # time.monotonic()


class Busy(NamedTuple):
    """What a worker thread is doing right now (read by the reactor for status)."""

    since: float  # time.time()
    msg_id: str
    topic: str


class ConsumerWorkers:
    """The thread(s) serving one consumer's spool."""

    def __init__(
        self,
        consumer: LoadedConsumer,
        spool: Spool,
        delivery: Delivery,
        report: Callable[[str, list[Outcome]], None],
        lifecycle: Callable[[str, str, BaseException | None], None],
        thread_factory: Callable[..., threading.Thread] = threading.Thread,
    ) -> None:
        self.consumer = consumer
        self.spool = spool
        self.queue = spool.queue
        self.delivery = delivery
        self.report = report  # (consumer name, outcomes), from a worker thread
        self.lifecycle = lifecycle  # (name, "started"|"stopped"|"halted"|"died:<n>", error)
        self.thread_factory = thread_factory
        self.threads: list[threading.Thread] = []
        self.busy: list[Busy | None] = []
        self._dying: dict[int, Busy] = {}  # thread index -> the message it died on
        self.held: list[Held | None] = []  # per thread: taken from the queue, not yet started
        self._setup_done = threading.Event()
        self._setup_error: BaseException | None = None
        self._alive = 0
        self._alive_lock = threading.Lock()
        self._batch = 64 if consumer.config.threads == 1 else 1

    @property
    def name(self) -> str:
        return self.consumer.name

    def start(self) -> None:
        """Start the threads; thread 0 runs ``setup()`` first and reports "started"."""
        count = self.consumer.config.threads
        self.busy = [None] * count
        self.held = [None] * count
        self.delivery.retrying = [None] * count
        self._alive = count
        for index in range(count):
            self._spawn(index, first=True)

    def _spawn(self, index: int, first: bool) -> None:
        thread = self.thread_factory(
            target=self._run, args=(index, first), name=f"consumer:{self.name}:{index}",
            daemon=True,
        )  # fmt: skip
        if first:
            self.threads.append(thread)
        else:
            self.threads[index] = thread
        thread.start()

    def restart(self, index: int) -> None:
        """Replace thread ``index`` after it died (reactor, on the supervisor's word)."""
        log.info("consumer %s: restarting worker thread %d", self.name, index)
        self._spawn(index, first=False)

    def close(self) -> None:
        """Finish the backlog in memory, then stop."""
        self.queue.close()

    def abort(self) -> None:
        """Stop after the message in hand; the backlog stays queued (and on disk)."""
        self.queue.abort()
        self.delivery.stopping.set()
        self._setup_done.set()

    def _run(self, index: int, first: bool) -> None:
        if first and index == 0:
            self._setup()
        self._setup_done.wait()
        try:
            if self._setup_error is None:
                self._loop(index)
        except BaseException as exc:  # the thread dies; the supervisor restarts it
            self.busy[index] = None
            where = self._dying.pop(index, None)
            log.critical("consumer %s: worker thread %d died in %s: %r", self.name, index,
                         f"consume() of {where.topic} (msg_id {where.msg_id})" if where
                         else "the worker loop", exc)  # fmt: skip
            self.lifecycle(self.name, f"died:{index}", exc)
            return
        self._exit()

    def _setup(self) -> None:
        try:
            self.consumer.instance.setup()
        except BaseException as exc:
            log.exception("consumer %s: setup() failed", self.name)
            self._setup_error = exc
        self._setup_done.set()
        self.lifecycle(self.name, "started", self._setup_error)

    def _loop(self, index: int) -> None:
        pending: list[Outcome] = []
        last_report = time.monotonic()
        while batch := self.spool.take(self._batch):
            for position, item in enumerate(batch):
                if self.delivery.stopping.is_set():  # aborted: the rest stays for next start
                    self.held[index] = None
                    self.queue.give_back(batch[position:])
                    break
                rest = len(batch) - position - 1
                self.held[index] = Held(rest, batch[position + 1].enqueued_at) if rest else None
                outcome = self._attempt(index, item, batch[position:], pending)
                if outcome.kind in ("halted", "interrupted"):
                    self._stop_early(index, outcome, batch[position:], pending)
                    return
                pending.append(outcome)
                # checked per message, not per batch: a slow consumer's counts stay current
                now = time.monotonic()
                if (
                    len(pending) >= REPORT_EVERY_N
                    or now - last_report >= REPORT_EVERY_S
                    or (not rest and not len(self.queue))
                ):
                    self._flush(pending)
                    pending, last_report = [], now
        self._flush(pending)

    def _attempt(self, index: int, item: Item, rest: list[Item], pending: list[Outcome]) -> Outcome:
        """Deliver one message; if a BaseException kills the thread, give back what it holds."""
        try:
            return self._consume(index, item)
        except BaseException:  # the thread dies: hand back what it holds
            self.held[index] = None
            self._flush(pending)
            self.queue.give_back(rest)
            raise

    def _stop_early(
        self, index: int, outcome: Outcome, rest: list[Item], pending: list[Outcome]
    ) -> None:
        """Halted, or shut down during a retry wait: unfinished messages go back, in order."""
        self.held[index] = None
        self.queue.give_back(rest)
        self._flush(pending)
        if outcome.kind == "halted":
            self.queue.abort()
            self.report(self.name, [outcome])
            self.lifecycle(self.name, "halted", None)

    def _flush(self, pending: list[Outcome]) -> None:
        if pending:
            self.queue.finish(o.seq for o in pending)
            self.report(self.name, pending)

    def _consume(self, index: int, item: Item) -> Outcome:
        message = item.message
        busy = self.busy[index] = Busy(time.time(), message.log_id, message.topic)
        try:
            return self.delivery.deliver(index, item, self.busy)
        except BaseException:  # the thread is about to die: _run names the message
            self._dying[index] = busy
            raise
        finally:
            self.busy[index] = None

    def _exit(self) -> None:
        with self._alive_lock:
            self._alive -= 1
            last = self._alive == 0
        if not last:
            return
        error = None
        if self._setup_error is None:
            try:
                self.consumer.instance.teardown()
            except Exception as exc:
                error = exc
                log.exception("consumer %s: teardown() failed", self.name)
        self.lifecycle(self.name, "stopped", error)
