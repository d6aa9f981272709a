"""A producer's dedicated, named thread: ``setup()``, then ``poll()`` on its schedule, then
``teardown()``.

``start``/``restart``/``stop`` run on the reactor; everything else on the producer's own thread
(``producer:<name>``), never on the reactor and never in Twisted's shared thread pool. The thread
owns only its schedule; what happens is reported as `ProducerReport`s through ``events``, which
the service binds to ``reactor.callFromThread`` (`hub.workers.producer_life` keeps the figures).

The schedule is start to start: poll ``k`` is due at ``first + k * interval``. A poll that ends
after the next one was due is an *overrun*: the next starts right away and the schedule goes on
from there. Waiting is ``Event.wait``, so ``stop()`` ends a wait at once; a poll in progress is
never interrupted. An ``Exception`` from ``poll()`` is logged with the producer's name and
traceback and reported as a failed poll; the schedule goes on. A ``BaseException`` (or any
error from ``setup()``) ends the thread: it is reported as DIED and the supervisor
(`hub.workers.supervisor`) calls ``restart`` after a backoff; ``setup()`` runs again if it had
not returned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from hub.plugins.producers import LoadedProducer

log = logging.getLogger(__name__)


class ProducerEvent(Enum):
    """What a producer's thread reports (`hub.workers.producer_life.ProducerLife` reads it)."""

    STARTED = "started"  # setup() returned
    POLLING = "polling"  # a poll() began
    POLLED = "polled"  # a poll() ended (error: the Exception it raised)
    DIED = "died"  # the thread died (error: why); the supervisor restarts it
    STOPPED = "stopped"  # teardown() returned; the thread ends


@dataclass(frozen=True)
class ProducerReport:
    """One event of a producer's thread, with what the reactor needs to know about it."""

    event: ProducerEvent
    at: float  # time.time() when it happened
    next_at: float | None = None  # time.time() of the next scheduled poll
    duration_s: float = 0.0  # POLLED: how long poll() ran
    overrun: bool = False  # POLLED: it ended after the next poll was due
    error: BaseException | None = None


EventSink = Callable[[str, ProducerReport], None]  # (producer name, report), on its thread


class ProducerThread:
    """Runs one producer's ``setup``/``poll``/``teardown`` on its own thread."""

    def __init__(
        self,
        producer: LoadedProducer,
        events: EventSink,
        *,
        thread_factory: Callable[..., threading.Thread] = threading.Thread,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.producer = producer
        self.events = events
        self.thread_factory = thread_factory
        self.clock = clock
        self.wall = wall
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.set_up = False  # written by the producer's thread; the next one reads it

    @property
    def name(self) -> str:
        return self.producer.name

    def start(self) -> None:
        """Start the thread (reactor)."""
        self.thread = self.thread_factory(
            target=self._run, name=f"producer:{self.name}", daemon=True
        )
        self.thread.start()

    def restart(self) -> None:
        """Replace the thread after it died (reactor, on the supervisor's word)."""
        if not self.stopping.is_set():
            log.info("producer %s: restarting its thread", self.name)
            self.start()

    def stop(self) -> None:
        """Ask the thread to end after the poll in progress, if any (reactor)."""
        self.stopping.set()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s; True when asked to stop (the producer's thread)."""
        return self.stopping.wait(timeout)

    def _report(self, event: ProducerEvent, *, next_at: float | None = None,
                duration_s: float = 0.0, overrun: bool = False,
                error: BaseException | None = None) -> None:  # fmt: skip
        report = ProducerReport(event, self.wall(), next_at, duration_s, overrun, error)
        self.events(self.name, report)

    def _run(self) -> None:
        try:
            first = not self.set_up
            if first:
                self.producer.instance.setup()
                self.set_up = True
            self._loop(announce=first)
        except BaseException as exc:  # the thread dies; the supervisor restarts it
            log.critical("producer %s: its thread died: %r", self.name, exc, exc_info=exc)
            self._report(ProducerEvent.DIED, error=exc)
            return
        self._teardown()
        self._report(ProducerEvent.STOPPED)

    def _loop(self, announce: bool) -> None:
        interval = self.producer.interval
        due = self.clock() + (0.0 if self.producer.now else interval)
        if announce:
            self._report(ProducerEvent.STARTED, next_at=self.wall() + (due - self.clock()))
        while not self.wait(max(0.0, due - self.clock())):
            started = self.clock()
            self._report(ProducerEvent.POLLING)
            error = self._poll()
            ended = self.clock()
            due += interval
            overrun = ended > due
            if overrun:
                due = ended  # the next starts right away; the schedule goes on from there
            self._report(ProducerEvent.POLLED, next_at=self.wall() + (due - ended),
                         duration_s=ended - started, overrun=overrun, error=error)  # fmt: skip

    def _poll(self) -> Exception | None:
        try:
            self.producer.instance.poll()
        except Exception as exc:
            log.exception("producer %s: poll() failed", self.name)
            return exc
        return None

    def _teardown(self) -> None:
        try:
            self.producer.instance.teardown()
        except Exception:
            log.exception("producer %s: teardown() failed", self.name)
