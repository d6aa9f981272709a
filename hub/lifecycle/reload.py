"""Live reload: apply a new configuration to the running hub without losing or repeating a message.

Runs on the reactor thread (``Reloader.reload`` is called through ``reactor.callFromThread``
from the SIGHUP handler). Reading and validating the new config, and constructing new plugin
instances, happen here too, before anything running is touched: both are quick, and doing them
first means an invalid config or a broken plugin rejects the whole reload.

How each consumer is treated (by comparing old and new ``enabled_consumers``):

- unchanged: its threads, queue and route stay exactly as they are.
- removed (or disabled): its route goes at once, so it receives nothing more; its queue drains
  within ``shutdown_timeout_s``; what is left at the deadline is dropped, logged and counted.
- changed: its route switches at once to a fresh queue that fills while the old instance drains
  its backlog and runs ``teardown()``; then the new instance runs ``setup()`` and takes over the
  fresh queue. What the old one had not finished by the deadline moves to the head of the fresh
  queue, so nothing is lost, repeated or reordered, and the two never run at the same time.
- added (or enabled): its threads start and run ``setup()``; it joins the routes afterwards.

SUB subscriptions follow the routes. An AMQP consumer's queue is its route: a removed or
changed one stops consuming at once (``basic.cancel``), drains, and what it had not finished
goes back to the queue (never dropped: the broker keeps it); a new or changed one consumes once
its ``setup()`` returned, its changed topics' keys bound and its old ones unbound. A change of
``source``, or of an AMQP consumer's ``ordered``, is refused. Settings other than consumers and
``log_level`` (endpoints, sockets, producers, status, statsd, limits) need a restart; a reload
logs which of them it left alone. Every reload re-reads the CURVE public keys allowed in (the
files and directories ``zmq.curve.*.allow`` names: a key added to or removed from a directory
counts from the next handshake on), before anything is touched: one that cannot be read
rejects the reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from twisted.internet import defer, task
from twisted.python.failure import Failure

from hub.config import ConsumerConfig, HubConfig, load_config
from hub.errors import ConfigError, PluginLoadError
from hub.lifecycle.consumers import Consumers
from hub.lifecycle.reload_plan import (
    ConsumerDiff,
    diff_consumers,
    live_config,
    refuse_unreloadable,
    restart_only_changes,
)
from hub.observe.logsetup import set_level
from hub.plugins.loader import LoadedConsumer
from hub.workers.life import Drained
from hub.workers.workqueue import WorkQueue

log = logging.getLogger(__name__)


class ReloadResult(NamedTuple):
    """What a reload did, for the log and the STATUS= line."""

    applied: bool
    summary: str


class BrokerQueues(Protocol):
    """What a reload asks of the broker for AMQP consumers (`hub.lifecycle.transports`; each a
    no-op for a ZeroMQ consumer)."""

    def consume(self, consumer: str) -> defer.Deferred[Any]: ...
    def cancel(self, consumer: str) -> None: ...
    def release(self, consumer: str) -> int: ...


class Reloadable(Protocol):
    """What a reload asks of the hub (`hub.lifecycle.service.HubService` provides it)."""

    config: HubConfig  # the configuration in force (replaced through apply_config)
    reactor: Any  # its clock: callLater
    consumers: Consumers  # the running consumers: their lives, windows, start

    @property
    def broker_queues(self) -> BrokerQueues: ...  # AMQP consumers' queues
    @property
    def stopping(self) -> bool: ...
    def apply_config(self, config: HubConfig) -> None: ...
    def log_writable(self) -> bool: ...
    def load_consumer(self, name: str, config: ConsumerConfig) -> LoadedConsumer: ...
    def set_routes(self, routes: Mapping[str, tuple[LoadedConsumer, WorkQueue]]) -> None: ...
    def forget_consumer(self, name: str) -> None: ...
    def count_dropped(self, name: str, cause: str, count: int) -> None: ...
    def prepare_reload(self, config: HubConfig) -> Callable[[], list[str]]: ...


class Reloader:
    """Re-reads the config file and applies the difference to the running hub."""

    def __init__(
        self,
        service: Reloadable,
        config_path: Path | str,
        load: Callable[[Path | str], HubConfig] = load_config,
    ) -> None:
        self.service = service
        self.config_path = config_path
        self.load = load
        self.running = False  # a reload loop is under way
        self.again = False
        self._waiting: list[defer.Deferred[ReloadResult]] = []
        self._routes: dict[str, tuple[LoadedConsumer, WorkQueue]] = {}

    def reload(self) -> defer.Deferred[ReloadResult]:
        """Start a reload, or queue one more if one is running; fires with a `ReloadResult`.

        Each caller gets its own Deferred, fired with the result of the last reload the loop
        ran: a SIGHUP during a reload never hands another caller's callbacks its result."""
        mine: defer.Deferred[ReloadResult] = defer.Deferred()
        self._waiting.append(mine)
        if self.running:
            self.again = True
        else:
            self.running = True
            defer.ensureDeferred(self._reload_loop()).addBoth(self._settled)
        return mine

    def _settled(self, result: ReloadResult | Failure) -> None:
        """The reload loop ended (at once, for a rejected config): every caller gets its
        result."""
        self.running = False
        self.again = False
        waiting, self._waiting = self._waiting, []
        for caller in waiting:
            if isinstance(result, Failure):
                caller.errback(result)
            else:
                caller.callback(result)

    async def _reload_loop(self) -> ReloadResult:
        result = await self._reload_once()
        while self.again and not self.service.stopping:
            self.again = False
            result = await self._reload_once()
        return result

    async def _log_writable(self) -> bool:
        """Wait while the durable log refuses writes: the batch waiting to be written was routed
        to the running consumers' spools, so re-routing waits for it. False if the hub stops."""
        if not self.service.log_writable():
            log.warning("reload: waiting until the durable log can be written again (a refused "
                        "batch is routed to the running consumers)")  # fmt: skip
        while not self.service.log_writable():
            if self.service.stopping:
                return False
            await task.deferLater(self.service.reactor, 1.0, lambda: None)
        return True

    async def _reload_once(self) -> ReloadResult:
        old: HubConfig = self.service.config
        try:
            new = self.load(self.config_path)
            diff = diff_consumers(old.enabled_consumers, new.enabled_consumers)
            refuse_unreloadable(old, new, diff)
            rekey = self.service.prepare_reload(new)  # CURVE keys, CA and CRL: read now
            fresh = self._load_plugins(new, diff)
        except (ConfigError, PluginLoadError) as err:
            log.error("reload rejected, keeping the running configuration: %s", err)
            return ReloadResult(False, f"reload rejected: {err}")
        if not await self._log_writable():
            return ReloadResult(False, "reload abandoned: the hub is stopping")
        ignored = restart_only_changes(old, new)
        if ignored:
            log.warning("reload: changes to %s need a restart; ignored", ", ".join(ignored))
        set_level(new.log_level)
        self.service.apply_config(live_config(old, new))
        rekeyed = rekey()
        failed = await self._apply(diff, fresh)
        summary = "; ".join([_summary(diff, failed), *rekeyed])
        log.info("reload applied from %s: %s", new.source, summary)
        return ReloadResult(not failed, summary)

    def _load_plugins(self, new: HubConfig, diff: ConsumerDiff) -> dict[str, LoadedConsumer]:
        """Construct the new and changed consumers' instances (may raise PluginLoadError)."""
        configs = new.enabled_consumers
        return {
            name: self.service.load_consumer(name, configs[name])
            for name in (*diff.added, *diff.changed)
        }

    async def _apply(self, diff: ConsumerDiff, fresh: dict[str, LoadedConsumer]) -> list[str]:
        """Re-route, drain, restart; returns the names whose setup() failed."""
        svc = self.service
        queues = {n: svc.consumers.new_window(fresh[n]) for n in diff.changed}
        self._routes = {life.name: (life.loaded, life.queue) for life in svc.consumers}
        for name in diff.removed:
            del self._routes[name]
        for name in diff.changed:
            self._routes[name] = (fresh[name], queues[name])
        svc.set_routes(self._routes)
        for name in (*diff.removed, *diff.changed):
            svc.broker_queues.cancel(name)  # AMQP: nothing new reaches the old instance
        results = await defer.gatherResults(
            [
                *(defer.ensureDeferred(self._start_added(fresh[n])) for n in diff.added),
                *(defer.ensureDeferred(self._restart(fresh[n], queues[n])) for n in diff.changed),
                *(defer.ensureDeferred(self._drain(n, None)) for n in diff.removed),
            ],
            consumeErrors=True,
        )
        return [name for name in results if name]

    async def _start_added(self, loaded: LoadedConsumer) -> str:
        """Start a new consumer; route to it once its setup() ran. Returns its name on failure."""
        if not await self._start(loaded, None):
            return loaded.name
        life = self.service.consumers.get(loaded.name)
        assert life is not None  # started just now, on the reactor
        self._routes[loaded.name] = (loaded, life.queue)
        self.service.set_routes(self._routes)
        return ""

    async def _restart(self, loaded: LoadedConsumer, queue: WorkQueue) -> str:
        """Drain the old instance, then start the new one on ``queue``; its name on failure."""
        await self._drain(loaded.name, queue)
        if self.service.stopping:
            _drop(self.service, loaded.name, queue.drain_remaining(), "stopping during reload")
            return ""
        return "" if await self._start(loaded, queue) else loaded.name

    async def _start(self, loaded: LoadedConsumer, queue: WorkQueue | None) -> bool:
        """Start ``loaded``'s workers and wait for setup(); on failure forget it."""
        name = loaded.name
        if self.service.stopping:
            return False
        try:
            await self.service.consumers.start(loaded, queue)
        except PluginLoadError as err:
            log.error("reload: consumer %s not started: %s", name, err)
            failed = self.service.consumers.get(name)
            if failed is not None:
                await failed.stopped
            self.service.forget_consumer(name)
            if self._routes.pop(name, None) is not None:
                self.service.set_routes(self._routes)
            self.service.broker_queues.release(name)
            if queue is not None:
                _drop(self.service, name, queue.drain_remaining(), "its setup() failed")
            return False
        await self.service.broker_queues.consume(name)
        log.info("reload: consumer %s started", name)
        return True

    async def _drain(self, name: str, successor: WorkQueue | None) -> str:
        """Let ``name`` finish its window and tear down (`hub.workers.life.ConsumerLife.drain`),
        then hand what is left to ``successor``, or drop it (counted) when there is none."""
        svc = self.service
        life = svc.consumers.get(name)
        assert life is not None  # running: the reload found it in the running config
        timeout = svc.config.shutdown_timeout_s
        log.info("reload: draining consumer %s (%d in memory)", name, len(life.queue))
        if await life.drain(timeout) is not Drained.IN_TIME:
            log.warning("reload: consumer %s did not drain in %.0f s; stopped it", name, timeout)
        returned = svc.broker_queues.release(name) if life.loaded.config.source == "amqp" else 0
        if returned:
            log.info("reload: consumer %s: %d unfinished message(s) returned to its queue", name,
                     returned)  # fmt: skip
        left = life.queue.drain_remaining()
        if left and successor is not None:
            successor.give_back(left)
            log.warning("reload: consumer %s: %d unfinished message(s) go to its new instance",
                        name, len(left))  # fmt: skip
        elif left:
            _drop(svc, name, left, "its consumer was removed")
        svc.forget_consumer(name)
        return ""


def _drop(service: Reloadable, name: str, items: list[Any], why: str) -> None:
    """Count and log messages that no consumer instance will process."""
    if items:
        service.count_dropped(name, "reload", len(items))
        log.error("consumer %s: %d queued message(s) dropped (%s)", name, len(items), why)


def _summary(diff: ConsumerDiff, failed: list[str]) -> str:
    parts = [
        f"{label} {', '.join(names)}"
        for label, names in (
            ("added", diff.added),
            ("removed", diff.removed),
            ("restarted", diff.changed),
            ("failed", tuple(failed)),
        )
        if names
    ]
    return "; ".join(parts) or "no consumer changed"
