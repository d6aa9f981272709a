"""A consumer's dedicated, named worker threads: take a batch, consume each message, report.

Everything in `ConsumerWorkers` except ``start``/``restart``/``close``/``abort`` and ``busy``
(reactor) runs on the consumer's own threads (``consumer:<name>:<n>``), never on the reactor and
never on Twisted's shared thread pool; what a thread holds and is doing is in
`hub.workers.progress`. Thread 0 runs ``setup()`` before any thread takes a message; the last thread
to finish runs ``teardown()``. Results go back in batches through the ``report`` callable, which
the service binds to ``reactor.callFromThread``: the worker never touches reactor-owned state.

Each message goes through `hub.workers.delivery.Delivery` (retries, dead letters); with
``consume_batch()``, each batch goes through `hub.workers.batch.BatchCall` first, and what it
did not finish through `Delivery`, alone. A thread that dies (a ``BaseException`` escaped, e.g.
``SystemExit``) puts its unfinished messages back at the head of the queue and reports "died";
the supervisor (`hub.workers.supervisor`, reactor) calls ``restart`` after a backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from time import monotonic

from hub.observe.journal import log_fields
from hub.plugins.loader import LoadedConsumer
from hub.workers.batch import BatchCall, Called
from hub.workers.delivery import Delivery, Fate, Fresh, Outcome
from hub.workers.progress import Busy, Held
from hub.workers.report import Report
from hub.workers.seams import EventSink, LifeEvent, Source
from hub.workers.workqueue import Item

log = logging.getLogger(__name__)

REPORT_EVERY_S = 0.05
REPORT_EVERY_N = 256

__all__ = ["ConsumerWorkers", "EventSink", "LifeEvent", "Outcome", "Report", "Source"]


class ConsumerWorkers:
    """The thread(s) serving one consumer's source."""

    def __init__(  # noqa: PLR0913 - keyword-only narrow parts (what it uses)
        self,
        consumer: LoadedConsumer,
        spool: Source,
        *,
        delivery: Delivery,
        report: Callable[[str, Report], None],
        events: EventSink,
        batches: BatchCall | None = None,
        thread_factory: Callable[..., threading.Thread] = threading.Thread,
    ) -> None:
        self.consumer = consumer
        self.spool = spool
        self.queue = spool.queue
        self.delivery = delivery
        self.report = report  # (consumer name, Report), from a worker thread
        self.events = events  # called on this consumer's threads
        self.batches = batches  # the consumer's consume_batch(), when it has one
        self.thread_factory = thread_factory
        self.threads: list[threading.Thread] = []
        self.current: list[tuple[float, Item] | None] = []  # per thread: (started, item)
        self._dying: dict[int, Busy] = {}  # thread index -> the message it died on
        self.held: list[Held | None] = []  # per thread: taken from the queue, not yet started
        self._setup_done = threading.Event()
        self._setup_error: BaseException | None = None
        self._alive = 0
        self._alive_lock = threading.Lock()
        self._batch = batches.size if batches else 256 if consumer.config.threads == 1 else 1
        self.aborted = False

    @property
    def name(self) -> str:
        return self.consumer.name

    @property
    def busy(self) -> list[Busy | None]:
        """Per thread, what it is consuming (reactor: status, stuck watch, shutdown)."""
        return [Busy(*entry) if entry is not None else None for entry in self.current]

    def start(self) -> None:
        """Start the threads; thread 0 runs ``setup()`` first and reports "started"."""
        count = self.consumer.config.threads
        self.current = [None] * count
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
        self.aborted = True  # read by the worker before each message
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
            self.current[index] = None
            where = self._dying.pop(index, None)
            about = log_fields(self.name, *((where.topic, where.msg_id) if where else ()))
            log.critical("consumer %s: worker thread %d died in %s: %r", self.name, index,
                         f"consume() of {where.topic} (msg_id {where.msg_id})" if where
                         else "the worker loop", exc, extra=about)  # fmt: skip
            self.events(LifeEvent.DIED, index, exc)
            return
        self._exit()

    def _setup(self) -> None:
        try:
            self.consumer.instance.setup()
        except BaseException as exc:
            log.exception("consumer %s: setup() failed", self.name, extra=log_fields(self.name))
            self._setup_error = exc
        self._setup_done.set()
        self.events(LifeEvent.STARTED, 0, self._setup_error)

    def _loop(self, index: int) -> None:
        report = Report()
        consume = self._consume_each if self.batches is None else self._consume_together
        while batch := self.spool.take(self._batch):
            if (current := consume(index, batch, report)) is None:
                return
            report = current
            if not len(self.queue):  # idle next: counts go out now, not after the next batch
                report = self._flush(report)
        self._flush(report)

    def _consume_each(self, index: int, batch: list[Item], report: Report) -> Report | None:
        """Consume ``batch`` in order, a ``consume()`` per message; the report to go on with, None
        once the thread must stop (aborted or halted).

        The hot path of the hub: per message two clock readings, the thread's ``current`` slot,
        ``consume()`` and three appends to the report (`hub.workers.report`), all through local
        names and with no call of ours in between. Anything ``consume()`` raises goes to
        `_recover` (retries, drops, dead letters, halt); an abort to `_hand_back`.
        """
        held = self.held[index] = Held(batch)
        delivery = self.delivery
        consume, deaths, current = delivery.consume, delivery.deaths, self.current
        items, starts, ends = report.items, report.starts, report.ends
        for position, item in enumerate(batch):
            if self.aborted:  # the rest stays for the next start
                self._hand_back(index, batch[position:], report)
                return None
            held.position = position + 1
            start = monotonic()
            current[index] = (start, item)
            try:
                if deaths and item.seq in deaths:
                    raise Fresh  # it killed a thread before: the slow path counts attempts
                consume(item.message)
            except BaseException as exc:
                if not self._recover(index, batch[position:], report, exc, start):
                    return None
                end = monotonic()
            else:
                end = monotonic()
                items.append(item)
                starts.append(start)
                ends.append(end)
            current[index] = None
            if len(items) >= REPORT_EVERY_N or end - report.opened >= REPORT_EVERY_S:
                report = self._flush(report)
                items, starts, ends = report.items, report.starts, report.ends
        self.held[index] = None
        return report

    def _consume_together(self, index: int, batch: list[Item], report: Report) -> Report | None:
        """Fill ``batch`` up and hand it to ``consume_batch()`` (`hub.workers.batch`); then
        `_settle` it. None once the thread must stop."""
        assert self.batches is not None
        batch = self.batches.fill(batch)
        self.held[index] = Held(batch)
        called = self.batches.call(index, batch, self.current)
        if called.results is None:  # shut down while its outage was waited out
            self._hand_back(index, batch, report)
            return None
        if (settled := self._settle(index, called, report)) is None:
            return None
        return self._flush(settled)

    def _settle(self, index: int, called: Called, report: Report) -> Report | None:
        """The messages ``consume_batch()`` finished go into ``report`` as done; each other one
        then goes down the slow path alone (`_recover`), in order."""
        done, failed = called.split()
        report.add_done(done, called.start, called.end)
        rest = [item for item, _ in failed]
        held = self.held[index] = Held(rest)
        for position, (item, error) in enumerate(failed):
            if self.aborted:
                self._hand_back(index, rest[position:], report)
                return None
            held.position, start = position + 1, monotonic()
            self.current[index] = (start, item)
            if not self._recover(index, rest[position:], report, error, start):
                return None
            self.current[index] = None
        self.held[index] = None
        return report

    def _hand_back(self, index: int, rest: list[Item], report: Report) -> None:
        """Aborted: the messages not started go back to the queue, the report to the reactor."""
        self.held[index] = None
        self.queue.give_back(rest)
        self._flush(report)

    def _recover(
        self, index: int, rest: list[Item], report: Report, exc: BaseException, start: float
    ) -> bool:
        """The slow path for ``rest[0]``, whose ``consume()`` (started at ``start``) raised
        ``exc``: `Delivery` takes over and the outcome goes into ``report``. False when the
        thread must stop (halted, or shut down during a retry wait: `_stop_early`); if it is to
        die, it gives back what it holds first."""
        item = rest[0]
        try:
            outcome = self.delivery.recover(index, item, self.current, start, exc)
        except BaseException:  # the thread dies: hand back what it holds; _run names it
            self._dying[index] = Busy(*(self.current[index] or (start, item)))
            self.current[index] = None
            self.held[index] = None
            self._flush(report)
            self.queue.give_back(rest)
            raise
        if outcome.kind in (Fate.HALTED, Fate.INTERRUPTED):
            self._stop_early(index, outcome, rest, report)
            return False
        report.outcomes.append(outcome)
        return True

    def _stop_early(self, index: int, outcome: Outcome, rest: list[Item], report: Report) -> None:
        """Halted, or shut down during a retry wait: unfinished messages go back, in order (a
        message halted with ``Halt(requeue=False)`` is finished first)."""
        self.current[index] = None
        self.held[index] = None
        if outcome.finished:
            report.outcomes.append(outcome)  # finished and counted with the report
        self.queue.give_back(rest[1:] if outcome.finished else rest)
        self._flush(report)
        if outcome.kind == Fate.HALTED:
            self.queue.abort()
            if not outcome.finished:
                halted = Report()
                halted.outcomes.append(outcome)
                self.report(self.name, halted)
            self.events(LifeEvent.HALTED, index, None)

    def _flush(self, report: Report) -> Report:
        """Hand ``report`` to the reactor (if it holds anything); a fresh one to go on with."""
        if len(report):
            self.queue.finish(report.seqs())
            self.report(self.name, report)
            return Report()
        report.opened = monotonic()
        return report

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
        self.events(LifeEvent.STOPPED, -1, error)
