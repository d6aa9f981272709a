"""The hub as a systemd service: readiness, live status, watchdog, reload, stopping.

Runs on the reactor thread. The SIGHUP handler installed by ``install_sighup`` runs on the main
thread between bytecodes and only hands over to the reactor with ``reactor.callFromThread``.

What systemd sees (sd_notify(3), through `hub.lifecycle.notify`):

- ``STATUS=starting ...`` at once; ``WATCHDOG=1`` every half ``WatchdogSec`` from the reactor;
- ``READY=1`` once every consumer has run ``setup()`` and the input is connected (while input
  waits for its upstream, ``EXTEND_TIMEOUT_USEC=`` keeps systemd from timing the start out);
- ``STATUS=`` with a one-line summary every ``STATUS_EVERY_S`` seconds;
- ``RELOADING=1`` then ``READY=1`` around a SIGHUP reload (`hub.lifecycle.reload`);
- ``STOPPING=1`` as shutdown begins.
"""

from __future__ import annotations

import logging
import signal
from typing import Any, Protocol

from twisted.internet import defer, task

from hub.config import HubConfig
from hub.lifecycle.notify import Notifier, WatchdogPinger, watchdog_interval
from hub.lifecycle.reload import Reloader, ReloadResult
from hub.lifecycle.timers import Every

log = logging.getLogger(__name__)

STATUS_EVERY_S = 5.0
CONNECT_POLL_S = 0.1
WAIT_NOTE_EVERY_S = 30.0
FIRST_NOTE_AFTER_S = 1.0  # say we are waiting only if input did not connect at once
BEHIND_AFTER_S = 5.0  # a consumer whose oldest queued message waited longer is "behind"


def status_line(snapshot: dict[str, Any]) -> str:
    """messages a second in, total backlog (the snapshot's, as everywhere), consumers behind
    (oldest message in memory older than ``BEHIND_AFTER_S``, or not running) and input paused."""
    hub, consumers = snapshot["hub"], snapshot["consumers"]
    behind = [
        name
        for name, c in consumers.items()
        if c["oldest_age_s"] > BEHIND_AFTER_S or c["state"] not in ("running", "starting")
    ]
    line = (
        f"{hub['received_per_s']:.0f} msg/s, backlog {hub['backlog']}, "
        f"{len(behind)} of {len(consumers)} consumers behind"
    )
    if behind:
        line += " (" + ", ".join(behind[:3]) + (", ..." if len(behind) > 3 else "") + ")"
    if hub["input_paused"]:
        line += ", input paused"
    return line


class Served(Protocol):
    """What systemd's side reads of the hub (`hub.lifecycle.service.HubService` provides it)."""

    config: HubConfig

    @property
    def stopping(self) -> bool: ...
    @property
    def input_connected(self) -> bool: ...
    def snapshot(self) -> dict[str, Any]: ...
    def backlog(self) -> tuple[int, int]: ...


class Daemon:
    """Drives `hub.lifecycle.notify` from the service's start, reload and stop."""

    def __init__(
        self, service: Served, reactor: Any, *, reloader: Reloader, notifier: Notifier
    ) -> None:
        self.service = service
        self.reactor = reactor
        self.reloader = reloader
        self.notifier = notifier
        self.pinger = WatchdogPinger(notifier, watchdog_interval(), reactor)
        self.status_loop = Every(STATUS_EVERY_S, self._send_status, clock=reactor, now=False)
        self.ready = False
        self.reload_when_ready = False  # a SIGHUP came while starting

    def start(self) -> None:
        """Open the notify socket and start the watchdog (before the service starts)."""
        self.notifier.start()
        self.notifier.status(f"starting: {len(self.service.config.enabled_consumers)} consumer(s)")
        self.pinger.start()

    @defer.inlineCallbacks
    def started(self, _: Any = None) -> Any:
        """After service.start(): wait for input, then READY=1 and periodic STATUS=."""
        next_note = self.reactor.seconds() + FIRST_NOTE_AFTER_S
        while not self.service.input_connected and not self.service.stopping:
            if self.reactor.seconds() >= next_note:
                next_note += WAIT_NOTE_EVERY_S
                endpoints = ", ".join(self.service.config.endpoints)
                log.info("waiting for input to connect to %s before READY=1", endpoints)
                self.notifier.status(f"waiting for input to connect to {endpoints}")
                self.notifier.send(f"EXTEND_TIMEOUT_USEC={int(2 * WAIT_NOTE_EVERY_S * 1e6)}")
            yield task.deferLater(self.reactor, CONNECT_POLL_S, lambda: None)
        if self.service.stopping:
            return
        self.ready = True
        self.notifier.ready(f"ready: {status_line(self.service.snapshot())}")
        self.status_loop.startService()
        if self.reload_when_ready:
            self.reload_when_ready = False
            self.reload()

    def _send_status(self) -> None:
        self.notifier.status(status_line(self.service.snapshot()))

    def reload(self) -> defer.Deferred[None] | None:
        """SIGHUP: RELOADING=1, apply the new config, READY=1 (with what happened)."""
        if self.service.stopping:
            log.warning("SIGHUP ignored: the hub is stopping")
            return None
        if not self.ready:
            log.info("SIGHUP during start-up: the configuration is reloaded once the hub is ready")
            self.reload_when_ready = True
            return None
        log.info("SIGHUP: reloading %s", self.reloader.config_path)
        self.notifier.reloading("reloading configuration")
        done = self.reloader.reload().addCallback(self._reloaded)  # the same Deferred, retyped
        done.addErrback(self._reload_failed)
        return done

    def _reloaded(self, result: ReloadResult) -> None:
        if not self.service.stopping:
            self.notifier.ready(f"{result.summary}; {status_line(self.service.snapshot())}")

    def _reload_failed(self, failure: Any) -> None:
        log.error("reload failed: %s", failure.getTraceback())
        if not self.service.stopping:
            self.notifier.ready(f"reload failed: {failure.getErrorMessage()}")

    def stopping(self) -> None:
        """Shutdown begins: STOPPING=1 (the watchdog keeps pinging while the queues drain)."""
        if self.status_loop.running:
            self.status_loop.stopService()
        memory, total = self.service.backlog()
        self.notifier.stopping(f"stopping: backlog {total}, draining the {memory} in memory")

    def stop(self) -> None:
        """The service has stopped: stop pinging and close the socket."""
        self.pinger.stop()
        self.notifier.stop()


def install_sighup(reactor: Any, daemon: Daemon) -> None:
    """SIGHUP -> ``daemon.reload`` on the reactor (main thread, before reactor.run)."""

    def handler(signum: int, frame: Any) -> None:
        reactor.callFromThread(daemon.reload)

    signal.signal(signal.SIGHUP, handler)
