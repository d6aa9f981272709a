"""Wires the hub together and owns the order of start and stop.

Runs on the reactor thread. Start: open the durable state (`hub.storage.durable`: log, cursors; dead
letters), load plugins, open the publisher, start every consumer's threads (each resuming at its
cursor) and wait for each ``setup()``, then open input and the status endpoint ("hub ready").
Stop: close input first, let each consumer drain its in-memory window until the shutdown
deadline, then stop the rest after the message in hand (it stays in the log for the next start),
wait for ``teardown()``, commit the cursors, close the rest.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Mapping
from typing import Any

import zmq
from twisted.internet import defer
from twisted.internet.task import LoopingCall

from hub.config import HubConfig
from hub.lifecycle.upkeep import Upkeep
from hub.observe.prometheus import MetricsPage
from hub.observe.snapshot import consumer_snapshot, hub_snapshot, not_ready
from hub.observe.stats import Stats
from hub.observe.statsd import StatsdSink
from hub.observe.status import StatusServer
from hub.plugins.loader import LoadedConsumer, load_consumers
from hub.routing.badinput import BadInputLog
from hub.routing.router import Route, Router
from hub.routing.topics import subscriptions
from hub.storage.deadletters import DeadLetterStore
from hub.storage.durable import Durable
from hub.transports.zeromq.gaps import GapTracker
from hub.transports.zeromq.input import ZmqInput
from hub.transports.zeromq.publisher import Publisher
from hub.workers.delivery import Delivery
from hub.workers.life import ConsumerLife, Drained
from hub.workers.supervisor import Supervisor
from hub.workers.worker import ConsumerWorkers, EventSink, LifeEvent, Report
from hub.workers.workqueue import WorkQueue

log = logging.getLogger(__name__)

# (700, 10, 10), or any threshold a window of young messages reaches, rescans it: see design.md
GC_THRESHOLDS = (100_000, 20, 100)


class HubService:
    """The running hub."""

    def __init__(self, config: HubConfig, reactor: Any) -> None:
        self.config = config
        self.reactor = reactor
        self.context = zmq.Context()
        self.stats = Stats()
        self.durable = Durable(config, reactor.callFromThread)
        self.dead_letters = DeadLetterStore(self.durable.state_dir / "deadletters.sqlite")
        self.supervisor = Supervisor(reactor, self._restart_thread)
        self.publisher = Publisher(reactor, self.context, config)
        self.failed: defer.Deferred = defer.Deferred()  # errback: a defect stopped input
        self.input = ZmqInput(reactor, self.context, config, self._on_batch, self.failed.errback)
        self.router = Router(
            self.stats,
            BadInputLog(reactor.seconds),
            config.max_message_bytes,
            time.monotonic,
            self.input.pause,
            self.input.resume,
            self.durable.store,
            self.durable.max_disk_bytes,
            GapTracker(self.stats, lambda: self.input.subscribed) if config.upstream_gaps else None,
        )
        self.status = StatusServer(reactor, config.status, self.snapshot, self.readiness)
        self.status.pages[b"metrics"] = MetricsPage(self.snapshot).render
        self.statsd = StatsdSink(reactor, config.statsd, self.snapshot)
        self.status_port: int | None = None
        self.consumers: dict[str, ConsumerLife] = {}
        self.upkeep = Upkeep(self)
        self.ticker = LoopingCall(self._tick)
        self.started_at = time.time()
        self.ready = False
        self._stopping: defer.Deferred | None = None

    # -- start -------------------------------------------------------------------------------

    def start(self) -> defer.Deferred:
        """Start everything; the Deferred fires once the hub is ready, or fails with why."""
        self.started_at = time.time()
        self.durable.open()
        self.dead_letters.open()
        self.upkeep.start()
        loaded = load_consumers(self.config.enabled_consumers, self.publisher)
        self.publisher.start()
        if not loaded:
            log.warning("no consumer is enabled: the hub will receive and count, nothing more")
        waits = [self.start_consumer(consumer) for consumer in loaded.values()]
        done = defer.gatherResults(waits, consumeErrors=True)
        done.addCallback(lambda _: self._open())
        done.addErrback(_first_failure)
        return done

    def new_window(self, consumer: LoadedConsumer) -> WorkQueue:
        """A consumer's in-memory window, bounded by count and by its share of the memory
        budget: the one place a window is built (start and reload)."""
        window = self.durable.window_bytes(len(self.config.enabled_consumers))
        return WorkQueue(consumer.name, consumer.config.queue_size, bytes_bound=window)

    def start_consumer(
        self, consumer: LoadedConsumer, queue: WorkQueue | None = None
    ) -> defer.Deferred:
        """Start one consumer's threads (on ``queue`` if given: a reload's pre-filled one);
        the Deferred fires once its ``setup()`` returned and its starting point is on disk."""
        name = consumer.name
        queue = queue if queue is not None else self.new_window(consumer)
        spool = self._spool(name, consumer, queue)
        delivery = Delivery(name, consumer.instance.consume, config=self.config.retry,
                            dead_letters=self.dead_letters)  # fmt: skip
        workers = ConsumerWorkers(consumer, spool, delivery=delivery, report=self._report,
                                  events=self._events_of(queue))  # fmt: skip
        life = ConsumerLife(
            loaded=consumer,
            queue=queue,
            workers=workers,
            clock=self.reactor,
            flush_restarts=lambda: self.supervisor.restart_now(name),
        )
        self.consumers[name] = life
        started = life.start()
        started.addCallback(lambda _: self.durable.persist())
        started.addCallback(lambda _: name)
        return started

    def _open(self) -> None:
        self.set_routes({n: (rt.loaded, rt.queue) for n, rt in self.consumers.items()})
        self.input.start(
            subscriptions(t for rt in self.consumers.values() for t in rt.loaded.topics)
        )
        if self.config.status.enabled:
            self.status_port = self.status.start()
        self.ticker.start(1.0, now=True)
        if self.config.statsd.enabled:
            self.statsd.start()
        gc.freeze()  # start-up objects live for ever: keep them out of every collection
        gc.set_threshold(*GC_THRESHOLDS)
        self.ready = True
        log.info("hub ready: %d consumer(s): %s", len(self.consumers), ", ".join(self.consumers))

    # -- reload (hub.reload drives these) ----------------------------------------------------

    def set_routes(self, routes: Mapping[str, tuple[LoadedConsumer, WorkQueue]]) -> None:
        """Route to exactly these consumers; subscribe upstream to what they want."""
        self.router.set_routes(
            {n: Route(n, c.matcher, self._spool(n, c, q)) for n, (c, q) in routes.items()}
        )
        if self.input.socket is not None:  # else input.start() subscribes
            self.input.subscribe(subscriptions(t for c, _ in routes.values() for t in c.topics))

    def when_stopped(self, name: str) -> defer.Deferred:
        """Fires once ``name``'s threads have exited (after teardown())."""
        return self.consumers[name].stopped

    def _spool(self, name: str, consumer: LoadedConsumer, queue: WorkQueue) -> Any:
        """The spool in front of ``queue``, made once per queue (see
        `hub.storage.durable.spool_for`)."""
        if queue.spool is None:
            queue.spool = self.durable.spool_for(
                name, queue, consumer.matcher, input_open=self.input.socket is not None
            )
        return queue.spool

    def _restart_thread(self, name: str, index: int) -> None:
        runtime = self.consumers.get(name)
        if runtime is not None:
            runtime.workers.restart(index)

    def forget_consumer(self, name: str) -> None:
        """Drop a stopped consumer (late events from its threads are ignored) and its cursor,
        unless a new instance took its route over."""
        self.supervisor.restart_now(name)
        abandoned = self.durable.forget(name, replaced=name in self.router.routes)
        if abandoned:  # a removed consumer's disk backlog: no instance will read it
            self.stats.on_dropped(name, "removed", abandoned)
            log.error("consumer %s: removed with %d message(s) waiting on disk; they are "
                      "dropped", name, abandoned)  # fmt: skip
        self.consumers.pop(name, None)

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stopping is not None

    # -- events from worker threads (delivered on the reactor) ---------------------------------

    def _report(self, name: str, report: Report) -> None:
        self.reactor.callFromThread(self._on_report, name, report)

    def _on_report(self, name: str, report: Report) -> None:
        self.stats.on_report(name, report, time.monotonic())
        self.upkeep.on_outcomes(name, report.outcomes)

    def _events_of(self, queue: WorkQueue) -> EventSink:
        def sink(event: LifeEvent, index: int, error: BaseException | None) -> None:
            self.reactor.callFromThread(self._on_event, queue, event, index, error)

        return sink

    def _on_event(
        self, queue: WorkQueue, event: LifeEvent, index: int, error: BaseException | None
    ) -> None:
        life = self.consumers.get(queue.name)
        if life is None or life.queue is not queue:
            log.debug("consumer %s: %s from a replaced instance, ignored", queue.name,
                      event.value)  # fmt: skip
        elif event is LifeEvent.DIED:
            self.supervisor.on_death(life.name, index, error)
        else:
            life.on_event(event, error)

    def _on_batch(self, batch: list[list[bytes]]) -> None:
        self.router.on_batch(batch)

    def _tick(self) -> None:
        end = self.durable.store.next_seq
        backlogs = {name: life.backlog(end).total for name, life in self.consumers.items()}
        self.stats.tick(time.monotonic(), backlogs)
        self.upkeep.tick()

    # -- stop --------------------------------------------------------------------------------

    def stop(self) -> defer.Deferred:
        """Stop input, drain within ``shutdown_timeout_s``, tear down; idempotent."""
        if self._stopping is None:
            self._stopping = self._stop()
        return self._stopping

    @defer.inlineCallbacks
    def _stop(self) -> Any:
        self.ready = False
        self.input.stop()
        memory, total = self.backlog()
        log.info("stopping: input closed; draining the %d message(s) in memory for up to "
                 "%.0f s; backlog %d in all (what is left waits in the log for the next start)",
                 memory, self.config.shutdown_timeout_s, total)  # fmt: skip
        drains = [self._drain_for_stop(life) for life in self.consumers.values()]
        yield defer.DeferredList(drains)
        if self.ticker.running:
            self.ticker.stop()
        self.router.close()  # a batch the log refused: a last try, else counted as lost
        self.statsd.stop()  # one last flush: the final counts
        self.upkeep.stop()
        self.durable.close()
        self.dead_letters.close()
        yield self.status.stop()
        self.publisher.stop()
        self.context.destroy(linger=0)
        log.info("stopped")

    def _drain_for_stop(self, life: ConsumerLife) -> defer.Deferred:
        """Drain ``life`` to the shutdown deadline; what is left stays in the log."""

        async def drain() -> None:
            if await life.drain(self.config.shutdown_timeout_s) is not Drained.IN_TIME:
                left = life.backlog(self.durable.store.next_seq).total
                log.warning("consumer %s: shutdown deadline (%.0f s) reached; %d message(s) stay "
                            "in the backlog for the next start", life.name,
                            self.config.shutdown_timeout_s, left)  # fmt: skip

        return defer.ensureDeferred(drain())

    # -- what the status endpoint and sinks read ---------------------------------------------

    def backlog(self) -> tuple[int, int]:
        """(in memory, in all) of every consumer's backlog (`ConsumerLife.backlog`)."""
        end = self.durable.store.next_seq
        parts = [life.backlog(end) for life in self.consumers.values()]
        return sum(p.memory for p in parts), sum(p.total for p in parts)

    def snapshot(self) -> dict[str, Any]:
        """Every figure of the hub, as one JSON-ready mapping."""
        now = time.time()
        hub = hub_snapshot(
            self.stats, self.started_at, self.input.connected, self.router.paused_since, now
        )
        end = self.durable.store.next_seq
        consumers = {
            name: consumer_snapshot(life, self.stats, now, end)
            for name, life in self.consumers.items()
        }
        self.upkeep.add_to_snapshot(hub, consumers)
        hub["backlog"] = sum(c["backlog"] for c in consumers.values())
        return {"hub": hub, "consumers": consumers}

    def readiness(self) -> list[str]:
        """Why the hub is not ready ([] when it is)."""
        reasons = not_ready(self.ready, self.input.connected, self.consumers, time.time())
        return reasons + self.upkeep.not_ready()


def _first_failure(failure: Any) -> Any:
    """gatherResults wraps errors in FirstError; hand on the original one."""
    return failure.value.subFailure if failure.check(defer.FirstError) else failure
