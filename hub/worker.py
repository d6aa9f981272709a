"""A consumer's dedicated, named worker threads: take a batch, consume each message, report.

Everything in `ConsumerWorkers` except ``start``/``close``/``abort``/``snapshot`` runs on the
consumer's own threads (``consumer:<name>:<n>``), never on the reactor and never on Twisted's
shared thread pool. Thread 0 runs ``setup()`` before any thread takes a message; the last thread
to finish runs ``teardown()``. Results go back in batches through the ``report`` callable, which
the service binds to ``reactor.callFromThread``: the worker never touches reactor-owned state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.errors import Drop, Halt, Retry
from hub.loader import LoadedConsumer
from hub.workqueue import Item, WorkQueue

log = logging.getLogger(__name__)

REPORT_EVERY_S = 0.05
REPORT_EVERY_N = 256


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: ``kind`` is done, failed, dropped or halted."""

    kind: str
    wait_s: float
    duration_s: float
    latency_s: float | None


@dataclass(frozen=True, slots=True)
class Busy:
    """What a worker thread is doing right now (read by the reactor for status)."""

    since: float  # time.time()
    msg_id: str
    topic: str


class ConsumerWorkers:
    """The thread(s) serving one consumer's queue."""

    def __init__(
        self,
        consumer: LoadedConsumer,
        queue: WorkQueue,
        report: Callable[[str, list[Outcome]], None],
        lifecycle: Callable[[str, str, BaseException | None], None],
        thread_factory: Callable[..., threading.Thread] = threading.Thread,
    ) -> None:
        self.consumer = consumer
        self.queue = queue
        self.report = report  # (consumer name, outcomes), from a worker thread
        self.lifecycle = lifecycle  # (consumer name, "started"|"stopped"|"halted", error)
        self.thread_factory = thread_factory
        self.threads: list[threading.Thread] = []
        self.busy: list[Busy | None] = []
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
        self._alive = count
        for index in range(count):
            thread = self.thread_factory(
                target=self._run, args=(index,), name=f"consumer:{self.name}:{index}", daemon=True
            )
            self.threads.append(thread)
            thread.start()

    def close(self) -> None:
        """Finish the backlog, then stop (graceful shutdown)."""
        self.queue.close()

    def abort(self) -> None:
        """Stop after the message in hand; the backlog stays in the queue."""
        self.queue.abort()
        self._setup_done.set()

    def _run(self, index: int) -> None:
        if index == 0:
            self._setup()
        self._setup_done.wait()
        try:
            if self._setup_error is None:
                self._loop(index)
        finally:
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
        while batch := self.queue.get_many(self._batch):
            for position, item in enumerate(batch):
                outcome = self._consume(index, item)
                pending.append(outcome)
                if outcome.kind == "halted":
                    self.queue.give_back(batch[position:])
                    self.queue.abort()
                    self.report(self.name, pending)
                    self.lifecycle(self.name, "halted", None)
                    return
            now = time.monotonic()
            if (
                len(pending) >= REPORT_EVERY_N
                or now - last_report >= REPORT_EVERY_S
                or not len(self.queue)
            ):
                self.report(self.name, pending)
                pending, last_report = [], now
        if pending:
            self.report(self.name, pending)

    def _consume(self, index: int, item: Item) -> Outcome:
        message = item.message
        start = time.monotonic()
        self.busy[index] = Busy(time.time(), message.log_id, message.topic)
        kind = "done"
        try:
            self.consumer.instance.consume(message)
        except Drop as exc:
            kind = "dropped"
            log.info("consumer %s dropped %s (msg_id %s): %s", self.name, message.topic,
                     message.log_id, exc.reason)  # fmt: skip
        except Halt as exc:
            kind = "halted"
            log.warning("consumer %s halted on %s (msg_id %s): %s", self.name, message.topic,
                        message.log_id, exc.reason)  # fmt: skip
        except Retry as exc:
            kind = "failed"
            log.warning("consumer %s asked to retry %s (msg_id %s); retries are not enabled",
                        self.name, message.topic, message.log_id)  # fmt: skip
            del exc
        except Exception:
            kind = "failed"
            log.exception("consumer %s failed on %s (msg_id %s)", self.name, message.topic,
                          message.log_id)  # fmt: skip
        end = time.monotonic()
        self.busy[index] = None
        sent = message.timestamp
        latency = time.time() - sent if sent is not None else None
        return Outcome(kind, start - item.enqueued_at, end - start, latency)

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
