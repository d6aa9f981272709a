"""The running consumers, by name: each one's window, spool, delivery, threads and life.

Runs on the reactor thread. ``start`` builds one consumer's parts (its window in the one place a
window is built, `new_window`, whether at start-up or for a reload's changed consumer), starts
its threads and fires once its ``setup()`` returned *and* its starting point is on disk
(`hub.storage.durable.Durable.persist`): nothing is routed to a consumer before that. Its
threads' events come back through ``reactor.callFromThread`` and go to its
`hub.workers.life.ConsumerLife` (or, for a dead thread, to the `hub.workers.supervisor`); events
from an instance a reload replaced are ignored. Each consumer name has one `hub.counters.Counters`
for the life of the process, given to every instance of that name before its ``setup()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from twisted.internet import defer

from hub.config import RetryConfig
from hub.counters import Counters
from hub.plugins.loader import LoadedConsumer
from hub.storage.deadletters import DeadLetterStore
from hub.storage.durable import Durable
from hub.storage.spool import Spool
from hub.transports.amqp.source import BrokerSource
from hub.workers.batch import delivery_for
from hub.workers.delivery import DeadLetters
from hub.workers.life import ConsumerLife, Drained
from hub.workers.report import Report
from hub.workers.supervisor import Supervisor
from hub.workers.worker import ConsumerWorkers, EventSink, LifeEvent, Source
from hub.workers.workqueue import WorkQueue

log = logging.getLogger(__name__)


class Consumers:
    """Every running `ConsumerLife`, and how one is made, started and forgotten."""

    def __init__(  # noqa: PLR0913 - keyword-only narrow parts a life is made from
        self,
        *,
        reactor: Any,
        durable: Durable,
        dead_letters: DeadLetterStore,
        retry: RetryConfig,
        on_report: Callable[[str, Report], None],
        input_open: Callable[[], bool],
        shares: Callable[[], int],
        broker: Callable[[LoadedConsumer], BrokerSource] | None = None,
        on_halted: Callable[[str], None] = lambda name: None,
    ) -> None:
        self.reactor = reactor  # callFromThread, callLater, seconds
        self.durable = durable
        self.dead_letters = dead_letters
        self.retry = retry
        self.on_report = on_report  # (name, report) on the reactor
        self.input_open = input_open  # a consumer first seen while input is open starts at the end
        self.shares = shares  # how many consumers share the memory budget (the config in force)
        self.broker = broker  # an AMQP consumer's source (the broker keeps its backlog)
        self.on_halted = on_halted  # a consumer raised Halt (after its life says halted)
        self.supervisor = Supervisor(reactor, self._restart_thread)
        self.lives: dict[str, ConsumerLife] = {}
        self.counters: dict[str, Counters] = {}  # by name, never forgotten: totals only grow

    def counters_of(self, name: str) -> Counters:
        """The plugin counters of consumer ``name``, created on first use and kept across
        reloads (a replaced or removed-then-re-added instance's counts carry over)."""
        counters = self.counters.get(name)
        if counters is None:
            counters = self.counters[name] = Counters()
        return counters

    def __iter__(self) -> Iterator[ConsumerLife]:
        return iter(list(self.lives.values()))

    def __len__(self) -> int:
        return len(self.lives)

    def get(self, name: str) -> ConsumerLife | None:
        return self.lives.get(name)

    def figures(self) -> list[Callable[[str], dict[str, Any]]]:
        """Per-consumer figure providers for /status: the supervisor's, the plugins'."""
        return [self.supervisor.snapshot, self.plugin_figures]

    def plugin_figures(self, name: str) -> dict[str, Any]:
        """A consumer's kind, what its plugin counts itself (``figures()``, if it has one) and
        its ``self.counters`` totals (``counters``)."""
        life = self.lives.get(name)
        if life is None:
            return {}
        figures = getattr(life.loaded.instance, "figures", None)
        own = figures() if callable(figures) else {}
        return {"kind": str(life.loaded.kind), **own, "counters": self.counters_of(name).totals()}

    def new_window(self, consumer: LoadedConsumer) -> WorkQueue:
        """A consumer's in-memory window, bounded by count and by its share of the memory
        budget: the one place a window is built (start and reload)."""
        window = self.durable.window_bytes(self.shares())
        return WorkQueue(consumer.name, consumer.config.queue_size, bytes_bound=window)

    def spool(self, consumer: LoadedConsumer, queue: WorkQueue) -> Spool:
        """The spool in front of ``queue``, made once per queue (`Durable.spool_for`)."""
        if queue.spool is None:
            queue.spool = self.durable.spool_for(
                consumer.name, queue, consumer.matcher, input_open=self.input_open()
            )
        spool: Spool = queue.spool
        return spool

    def start(
        self, consumer: LoadedConsumer, queue: WorkQueue | None = None
    ) -> defer.Deferred[str]:
        """Start one consumer (on ``queue`` if given: a reload's pre-filled one); fires with
        its name once ``setup()`` returned and its starting point is on disk."""
        name = consumer.name
        consumer.instance.counters = self.counters_of(name)  # before setup(), on its thread
        source: Source
        dead_letters: DeadLetters
        if consumer.config.source == "amqp" and self.broker is not None:
            source = dead_letters = self.broker(consumer)  # dead letters stay on the broker
            queue = source.queue
        else:
            queue = queue if queue is not None else self.new_window(consumer)
            source, dead_letters = self.spool(consumer, queue), self.dead_letters
        delivery, batches = delivery_for(consumer, queue, self.retry, dead_letters)
        workers = ConsumerWorkers(
            consumer,
            source,
            delivery=delivery,
            report=self._report,
            events=self._events_of(queue),
            batches=batches,
        )
        life = ConsumerLife(
            loaded=consumer,
            queue=queue,
            workers=workers,
            clock=self.reactor,
            flush_restarts=lambda: self.supervisor.restart_now(name),
        )
        self.lives[name] = life
        started = life.start()
        started.addCallback(lambda _: self.durable.persist())
        started.addCallback(lambda _: name)
        return started

    def forget(self, name: str, *, replaced: bool) -> int:
        """Drop a stopped consumer (late events from its threads are ignored) and, unless a new
        instance took its place, its cursor; returns how many of its messages were still
        waiting on disk, now abandoned (0 when replaced)."""
        self.supervisor.restart_now(name)
        self.lives.pop(name, None)
        return self.durable.forget(name, replaced=replaced)

    async def drain_all(self, deadline_s: float) -> None:
        """Shutdown: drain every consumer to ``deadline_s`` at once; what is left stays in the
        log (or, for AMQP, goes back to the broker)."""
        await defer.DeferredList([defer.ensureDeferred(self._drain(c, deadline_s)) for c in self])

    async def _drain(self, life: ConsumerLife, deadline_s: float) -> None:
        if await life.drain(deadline_s) is not Drained.IN_TIME:
            left = life.backlog(self.durable.store.next_seq).total
            log.warning("consumer %s: shutdown deadline (%.0f s) reached; %d message(s) stay in "
                        "the backlog for the next start", life.name, deadline_s,
                        left)  # fmt: skip

    def backlog(self) -> tuple[int, int]:
        """(in memory, in all) of every consumer's backlog (`ConsumerLife.backlog`)."""
        end = self.durable.store.next_seq
        parts = [life.backlog(end) for life in self.lives.values()]
        return sum(p.memory for p in parts), sum(p.total for p in parts)

    def _restart_thread(self, name: str, index: int) -> None:
        life = self.lives.get(name)
        if life is not None:
            life.workers.restart(index)

    def _report(self, name: str, report: Report) -> None:
        self.reactor.callFromThread(self.on_report, name, report)  # worker -> reactor

    def _events_of(self, queue: WorkQueue) -> EventSink:
        def sink(event: LifeEvent, index: int, error: BaseException | None) -> None:
            self.reactor.callFromThread(self._on_event, queue, event, index, error)

        return sink

    def _on_event(
        self, queue: WorkQueue, event: LifeEvent, index: int, error: BaseException | None
    ) -> None:
        life = self.lives.get(queue.name)
        if life is None or life.queue is not queue:
            log.debug("consumer %s: %s from a replaced instance, ignored", queue.name,
                      event.value)  # fmt: skip
        elif event is LifeEvent.DIED:
            self.supervisor.on_death(life.name, index, error)
        else:
            life.on_event(event, error)
            if event is LifeEvent.HALTED:
                self.on_halted(life.name)
