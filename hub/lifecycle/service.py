"""The composition root: builds the hub's parts, hands each what it uses, owns start and stop.

Runs on the reactor thread. Start: open the durable state (`hub.storage.durable`; dead letters),
load plugins, open the publisher, start every consumer (`hub.lifecycle.consumers`), wait for each
``setup()`` and durable starting point, open input and status, start the producers
(`hub.lifecycle.producers`): "hub ready". Stop: producers first, then input; drain the consumers
(`hub.workers.life.ConsumerLife.drain`; what is left stays in the log), commit, close the rest.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import zmq
from twisted.internet import defer

from hub.config import ConsumerConfig, HubConfig
from hub.lifecycle.consumers import Consumers
from hub.lifecycle.intake import Intake
from hub.lifecycle.producers import Producers
from hub.lifecycle.security import Security
from hub.lifecycle.timers import Every, stopped
from hub.lifecycle.transports import Transports
from hub.observe.archive_raw import status_server
from hub.observe.prometheus import MetricsPage
from hub.observe.snapshot import Snapshotter
from hub.observe.stats import Stats
from hub.observe.statsd import StatsdSink
from hub.observe.stuck import StuckWatch
from hub.plugins.loader import LoadedConsumer, load_consumer, load_consumers
from hub.routing.enqueuer import Batch
from hub.routing.replay import DeadLetterReplay
from hub.routing.router import Route, Router
from hub.routing.topics import subscriptions
from hub.storage.deadletters import DeadLetterStore
from hub.storage.durable import Durable
from hub.transports.amqp.source import BrokerSource
from hub.workers.report import Report
from hub.workers.workqueue import WorkQueue

log = logging.getLogger(__name__)

# (700, 10, 10), or any threshold a window of young messages reaches, rescans it: see design.md
GC_THRESHOLDS = (100_000, 20, 100)
TICK_S = 1.0


class HubService:
    """The running hub."""

    def __init__(self, config: HubConfig, reactor: Any) -> None:
        self.config = config
        self.reactor = reactor
        self.context = zmq.Context()
        self.stats = Stats()
        self.durable = Durable(config, reactor.callFromThread)
        self.dead_letters = DeadLetterStore(self.durable.state_dir / "deadletters.sqlite")
        self.failed: defer.Deferred[None] = defer.Deferred()  # errback: a defect stopped input
        self.security = Security(config, reactor, self.context)  # may raise ConfigError
        self.transports = Transports(
            config, reactor, context=self.context, on_batch=self._on_batch,
            on_failure=self.failed.errback, security=self.security,
        )  # fmt: skip
        self.input = self.transports.zmq
        self.broker_queues = self.transports  # a reload's AMQP side (consume, cancel, release)
        self.publisher = self.transports.output
        self.router = Router()
        self.intake = Intake(config, reactor, router=self.router, durable=self.durable,
                             stats=self.stats, input=self.input, verifier=self.security.verifier,
                             on_failure=self.failed.errback)  # fmt: skip
        self.enqueuer = self.intake.enqueuer
        self.consumers = self._consumers()
        self.producers = Producers(reactor, self.publisher)
        self.snapshotter = self._snapshotter()
        self.stuck = StuckWatch(lambda: self.consumers)
        self.replay = self._replay()
        self.status = status_server(
            reactor, config, snapshot=self.snapshot, readiness=self.readiness
        )
        self.status.pages[b"metrics"] = MetricsPage(self.snapshot).render
        self.statsd = StatsdSink(reactor, config.statsd, snapshot=self.snapshot)
        self.committing = Every(
            config.backlog.commit_interval_s, self.durable.commit, clock=reactor
        )
        self.ticking = Every(TICK_S, self._tick, clock=reactor)
        self.status_port: int | None = None
        self.ready = False
        self._stopping: defer.Deferred[None] | None = None

    def _replay(self) -> DeadLetterReplay:
        return DeadLetterReplay(
            store=self.dead_letters,
            inject=self.enqueuer.inject,
            routed=lambda name: name in self.router.routes,
            replayed=self.stats.on_dead_letter_replayed,
        )

    def _broker_source(self, consumer: LoadedConsumer) -> BrokerSource:
        limit = self.config.max_message_bytes
        return self.transports.broker_source(consumer, counts=self.stats, max_message_bytes=limit)

    def _consumers(self) -> Consumers:
        return Consumers(
            reactor=self.reactor,
            durable=self.durable,
            dead_letters=self.dead_letters,
            retry=self.config.retry,
            on_report=self._on_report,
            input_open=lambda: self.ready,
            shares=lambda: len(self.config.enabled_consumers),
            broker=self._broker_source if self.config.amqp else None,
            on_halted=self.transports.halted,
        )

    def _snapshotter(self) -> Snapshotter:
        figures = [self.durable.hub_snapshot, self.publisher.figures, self.security.figures,
                   self.intake.figures]  # fmt: skip
        return Snapshotter(
            stats=self.stats,
            lives=lambda: self.consumers,
            log_end=lambda: self.durable.store.next_seq,
            input_connected=lambda: self.input_connected,
            paused_since=lambda: self.enqueuer.paused_since,
            hub_figures=figures,
            consumer_figures=[self.durable.snapshot, *self.consumers.figures()],
            reasons=[self._not_ready, self.producers.not_ready],
            sections={"producers": self.producers.snapshot},
        )

    # -- start -------------------------------------------------------------------------------

    def start(self) -> defer.Deferred[None]:
        """Start everything; the Deferred fires once the hub is ready, or fails with why."""
        self.snapshotter.mark_started(time.time())
        self.durable.open()
        self.dead_letters.open()
        self.stats.set_dead_letters(self.dead_letters.counts())
        config = self.config
        loaded = load_consumers(config.enabled_consumers, self.publisher, config.fedmsg)
        self.producers.load(config.enabled_producers, config.fedmsg)  # before any thread
        self.publisher.start()
        if not loaded:
            log.warning("no consumer is enabled: the hub will receive and count, nothing more")
        waits = [self.consumers.start(consumer) for consumer in loaded.values()]
        self.committing.startService()  # every spool exists: its first commit saves them all
        done = defer.gatherResults(waits, consumeErrors=True)
        opened = done.addCallback(lambda _: self._open())  # the same Deferred, retyped
        opened.addErrback(_first_failure)
        return opened

    def _open(self) -> None:
        self.set_routes({life.name: (life.loaded, life.queue) for life in self.consumers})
        zmq_topics = (t for c in self.consumers if _zmq(c.loaded) for t in c.loaded.topics)
        self.transports.start(subscriptions(zmq_topics))
        if self.config.status.enabled:
            self.status_port = self.status.start()
        self.ticking.startService()
        if self.config.statsd.enabled:
            self.statsd.start()
        gc.freeze()  # start-up objects live for ever: keep them out of every collection
        gc.set_threshold(*GC_THRESHOLDS)
        self.producers.start()  # every consumer routed, input open: see hub.lifecycle.producers
        self.ready = True
        names = [life.name for life in self.consumers]
        log.info("hub ready: %d consumer(s): %s", len(names), ", ".join(names))

    # -- what a reload (hub.lifecycle.reload) asks of the hub ---------------------------------

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stopping is not None

    def apply_config(self, config: HubConfig) -> None:
        """The configuration in force from now on (a reload's live part)."""
        self.config = config

    def log_writable(self) -> bool:
        """False while the durable log refuses a batch (already routed to the consumers)."""
        return self.enqueuer.unwritten is None

    def load_consumer(self, name: str, config: ConsumerConfig) -> LoadedConsumer:
        """A new instance of consumer ``name`` (may raise PluginLoadError)."""
        return load_consumer(name, config, self.publisher, self.config.fedmsg)

    def set_routes(self, routes: Mapping[str, tuple[LoadedConsumer, WorkQueue]]) -> None:
        """Route to exactly these consumers; subscribe upstream to what they want."""
        zmq_routes = {n: (c, q) for n, (c, q) in routes.items() if _zmq(c)}
        self.router.set_routes(
            {n: Route(n, c.matcher, self.consumers.spool(c, q)) for n, (c, q) in zmq_routes.items()}
        )
        if self.ready:  # else transports.start() subscribes
            topics = (t for c, _ in zmq_routes.values() for t in c.topics)
            self.transports.subscribe(subscriptions(topics))

    def forget_consumer(self, name: str) -> None:
        """Drop a stopped consumer and, unless a new instance took its route over, its cursor;
        what it left on disk is then dropped: counted and logged."""
        abandoned = self.consumers.forget(name, replaced=name in self.router.routes)
        if abandoned:  # a removed consumer's disk backlog: no instance will read it
            self.count_dropped(name, "removed", abandoned)
            log.error("consumer %s: removed with %d message(s) waiting on disk; they are "
                      "dropped", name, abandoned)  # fmt: skip

    def count_dropped(self, name: str, cause: str, count: int) -> None:
        self.stats.on_dropped(name, cause, count)

    def prepare_reload(self, config: HubConfig) -> Callable[[], list[str]]:
        """What every reload re-reads (`hub.lifecycle.security`); may raise ConfigError."""
        return self.security.prepare(config, self.intake.gate)

    # -- the reactor's side of the data path -------------------------------------------------

    def _on_batch(self, batch: Batch) -> None:
        self.intake.on_batch(batch)

    def _on_report(self, name: str, report: Report) -> None:
        self.stats.on_report(name, report, time.monotonic())

    def _tick(self) -> None:
        end = self.durable.store.next_seq
        backlogs = {life.name: life.backlog(end).total for life in self.consumers}
        self.stats.tick(time.monotonic(), backlogs)
        self.enqueuer.check_room()
        self.transports.refresh()
        self.consumers.supervisor.tick()
        self.stuck.check()
        self.replay.run()

    # -- stop --------------------------------------------------------------------------------

    def stop(self) -> defer.Deferred[None]:
        """Stop input, drain within ``shutdown_timeout_s``, tear down; idempotent."""
        if self._stopping is None:
            self._stopping = defer.ensureDeferred(self._stop())
        return self._stopping

    async def _stop(self) -> None:
        self.ready = False
        await self.producers.stop(self.config.shutdown_timeout_s)  # their last messages still flow
        await self.transports.stop_inputs()  # nothing new while the consumers drain
        await self.intake.settled()  # what the signature gate holds is routed (or refused)
        memory, total = self.backlog()
        log.info("stopping: input closed; draining the %d message(s) in memory for up to "
                 "%.0f s; backlog %d in all (what is left waits in the log for the next start)",
                 memory, self.config.shutdown_timeout_s, total)  # fmt: skip
        await self.consumers.drain_all(self.config.shutdown_timeout_s)
        await stopped(self.ticking)
        await self.transports.stop()  # what AMQP consumers left goes back to their queues
        self.security.stop()
        self.intake.stop()
        self.enqueuer.close()  # a batch the log refused: a last try, else counted as lost
        self.statsd.stop()  # one last flush: the final counts
        await stopped(self.committing)
        self.durable.close()
        self.dead_letters.close()
        await self.status.stop()
        self.context.destroy(linger=0)
        log.info("stopped")

    # -- what the status endpoint, the sinks and systemd read -------------------------------

    def backlog(self) -> tuple[int, int]:
        """(in memory, in all) of every consumer's backlog: the one definition."""
        return self.consumers.backlog()

    @property
    def input_connected(self) -> bool:
        return self.transports.connected

    def snapshot(self) -> dict[str, Any]:
        """Every figure of the hub, as one JSON-ready mapping (`Snapshotter`)."""
        return self.snapshotter.snapshot()

    def readiness(self) -> list[str]:
        """Why the hub is not ready ([] when it is)."""
        return self.snapshotter.not_ready(self.ready)

    def _not_ready(self) -> list[str]:
        looping = self.consumers.supervisor.crash_loop
        reasons = [f"consumer {c.name} is in a worker crash loop" for c in self.consumers
                   if looping.get(c.name)]  # fmt: skip
        if not self.log_writable():
            reasons.append("the durable log cannot be written (input paused)")
        return reasons


def _zmq(consumer: LoadedConsumer) -> bool:
    """True for a consumer fed from ZeroMQ (routed through the local log)."""
    return consumer.config.source != "amqp"


def _first_failure(failure: Any) -> Any:
    """gatherResults wraps errors in FirstError; hand on the original one."""
    return failure.value.subFailure if failure.check(defer.FirstError) else failure
