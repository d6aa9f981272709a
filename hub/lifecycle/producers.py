"""The running producers, by name: loading them, their threads, supervision, the stuck log.

Runs on the reactor thread (``load`` too: it is called from ``HubService.start``, before any
consumer thread exists; see `hub.plugins.moksha_producer` for why that matters). Each producer
is a `hub.workers.producer.ProducerThread` and its `hub.workers.producer_life.ProducerLife`; the
threads' reports come back through ``reactor.callFromThread``. A dead thread goes to its own
`hub.workers.supervisor.Supervisor` (restarted with backoff; a crash loop is logged and makes
/ready fail). A one-second timer has `hub.observe.stuck.StuckPolls` log each newly stuck
``poll()`` once, and clears crash loops that are over.

Order (`hub.lifecycle.service`): producers are loaded with the consumers at start-up (a broken
one fails the start), and started right after input opens, once every consumer is routed: what
they publish that comes back through the hub's own input finds its subscription and consumers.
At shutdown they stop first, before input closes and the consumers drain, so what they publish
in their last poll still reaches consumers. A poll in progress is waited for up to the deadline
given, then left behind on its (daemon) thread, logged. A reload applies no producer change:
``producers`` is a restart-only setting (`hub.lifecycle.reload_plan`), logged as ignored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from twisted.internet import defer

from hub.config import ProducerConfig
from hub.consumer import HubHandle
from hub.lifecycle.timers import Every, stopped
from hub.observe.stuck import StuckPolls
from hub.plugins.producers import LoadedProducer, load_producers
from hub.workers.life import within
from hub.workers.producer import ProducerEvent, ProducerReport, ProducerThread
from hub.workers.producer_life import ProducerLife
from hub.workers.supervisor import Supervisor

log = logging.getLogger(__name__)

CHECK_S = 1.0


class Producers:
    """Every producer's life, and how they are loaded, started, watched and stopped."""

    def __init__(
        self,
        reactor: Any,
        hub: HubHandle,
        *,
        thread_factory: Callable[..., threading.Thread] = threading.Thread,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.reactor = reactor  # callFromThread, callLater, seconds
        self.hub = hub
        self.thread_factory = thread_factory
        self.wall = wall
        self.supervisor = Supervisor(reactor, self._restart, what="producer")
        self.lives: dict[str, ProducerLife] = {}
        self.checking = Every(CHECK_S, self.check, clock=reactor, now=False)
        self.stopped: dict[str, defer.Deferred[None]] = {}
        self.stuck = StuckPolls(lambda: self, clock=wall)

    def __iter__(self) -> Iterator[ProducerLife]:
        return iter(list(self.lives.values()))

    def load(self, configs: Mapping[str, ProducerConfig], fedmsg: Mapping[str, Any]) -> None:
        """Load every enabled producer (may raise PluginLoadError); nothing starts yet."""
        for name, loaded in load_producers(configs, self.hub, fedmsg).items():
            self.lives[name] = ProducerLife(loaded, self._thread(loaded))

    def _thread(self, loaded: LoadedProducer) -> ProducerThread:
        return ProducerThread(loaded, self._events, thread_factory=self.thread_factory)

    def start(self) -> None:
        """Start every producer's thread and the stuck watch."""
        for life in self:
            self.stopped[life.name] = defer.Deferred()
            life.thread.start()
        if self.lives:
            self.checking.startService()
            log.info("producers started: %s", ", ".join(f"{life.name} (every "
                     f"{life.loaded.interval:g} s)" for life in self))  # fmt: skip

    async def stop(self, deadline_s: float) -> None:
        """Stop every producer after the poll in hand; wait for them up to ``deadline_s``."""
        await stopped(self.checking)
        for life in self:
            life.thread.stop()
            self.supervisor.cancel(life.name)
        waits = [self._stop(life, deadline_s) for life in self
                 if life.alive and life.name in self.stopped]  # fmt: skip
        await defer.DeferredList([defer.ensureDeferred(wait) for wait in waits])
        if self.lives:
            log.info("producers stopped: %s", ", ".join(life.name for life in self))

    async def _stop(self, life: ProducerLife, deadline_s: float) -> None:
        if not await within(self.reactor, self.stopped[life.name], deadline_s):
            log.warning("producer %s: poll() still running %.0f s after the stop; its thread "
                        "is left behind", life.name, deadline_s)  # fmt: skip

    # -- reports from the producers' threads -------------------------------------------------

    def _events(self, name: str, report: ProducerReport) -> None:
        self.reactor.callFromThread(self._on_report, name, report)  # producer -> reactor

    def _on_report(self, name: str, report: ProducerReport) -> None:
        life = self.lives.get(name)
        if life is None:
            return
        life.on_report(report)
        if report.event is ProducerEvent.DIED:
            self.supervisor.on_death(name, 0, report.error)
        if report.event in (ProducerEvent.DIED, ProducerEvent.STOPPED):
            done = self.stopped.get(name)
            if done is not None and not done.called and life.thread.stopping.is_set():
                done.callback(None)

    def _restart(self, name: str, index: int) -> None:
        life = self.lives.get(name)
        if life is not None and not life.thread.stopping.is_set():
            life.restarted()
            life.thread.restart()

    # -- what the tick, /status and /ready read ----------------------------------------------

    def check(self) -> None:
        """Log each newly stuck ``poll()`` once; clear crash loops that are over."""
        self.stuck.check()
        self.supervisor.tick()

    def snapshot(self) -> dict[str, Any]:
        """Every producer's figures, by name (the snapshot's ``producers`` section)."""
        now = self.wall()
        doc = {}
        for life in self:
            entry = life.snapshot(now)
            figures = getattr(life.loaded.instance, "figures", None)
            if callable(figures):
                entry.update(figures())
            supervision = self.supervisor.snapshot(life.name)
            entry["restarts"] = supervision["worker_restarts"]
            entry["crash_loop"] = supervision["crash_loop"]
            doc[life.name] = entry
        return doc

    def not_ready(self) -> list[str]:
        """Why the hub is not ready, for its producers: a crash loop, a stuck poll."""
        now = self.wall()
        reasons = [f"producer {life.name} is in a crash loop" for life in self
                   if self.supervisor.crash_loop.get(life.name)]  # fmt: skip
        reasons += [f"producer {life.name} stuck in poll() for {stuck:.0f} s" for life in self
                    if (stuck := life.stuck_for(now)) is not None]  # fmt: skip
        return reasons
