"""The life of a ``consumer-hub run`` process: start, signals, stop, exit code.

Runs on the main thread, which becomes the reactor thread once ``run()`` calls
``reactor.run()``. Signal handlers run on the main thread between bytecodes; they only hand
over to the reactor with ``reactor.callFromThread`` (which also wakes it), except a second
SIGTERM/SIGINT, which exits at once with `EXIT_FORCED`.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from twisted.python.failure import Failure

from hub.errors import HubError
from hub.lifecycle.daemon import Daemon, install_sighup
from hub.lifecycle.notify import Notifier
from hub.lifecycle.reload import Reloader
from hub.lifecycle.service import HubService

log = logging.getLogger(__name__)

EXIT_FORCED = 6
DUPLICATE_SIGNAL_S = 0.5  # a second signal sooner than this is the same kill, delivered twice


class Runner:
    """Runs one `HubService` under a `Daemon` until it is told to stop."""

    def __init__(self, service: HubService, reactor: Any, config_path: Path) -> None:
        self.service = service
        self.reactor = reactor
        self.daemon = Daemon(
            service, reactor, reloader=Reloader(service, config_path), notifier=Notifier()
        )
        self.exit_code = 0
        self._first_signal: float | None = None

    def run(self) -> int:
        """Start on the reactor, run until stopped; return the exit code."""
        faulthandler.enable(all_threads=True)  # a watchdog SIGABRT prints every thread's stack
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        install_sighup(self.reactor, self.daemon)
        self.reactor.callWhenRunning(self._start)
        self.reactor.run(installSignalHandlers=False)
        return self.exit_code

    def shutdown(self, code: int = 0) -> None:
        """Stop the hub (reactor thread); the first non-zero code is the exit code."""
        self.exit_code = self.exit_code or code
        self.daemon.stopping()
        self.service.stop().addBoth(self._stopped)

    def _start(self) -> None:
        self.service.failed.addErrback(self._failed)
        self.daemon.start()
        try:
            started = self.service.start()
        except Exception:  # a synchronous failure: plugin import, bind
            self._start_failed(Failure())
            return
        started.addCallback(self.daemon.started).addErrback(self._start_failed)

    def _start_failed(self, failure: Failure) -> None:
        error = failure.value
        log.error("start-up failed: %s", error, exc_info=not isinstance(error, HubError))
        self.shutdown(error.exit_code if isinstance(error, HubError) else 1)

    def _failed(self, failure: Failure) -> None:
        """The service hit a defect it cannot run on with (logged where it happened)."""
        self.shutdown(1)

    def _stopped(self, _: object) -> None:
        self.daemon.stop()
        self.reactor.stop()

    def _on_signal(self, signum: int, frame: Any) -> None:
        now = time.monotonic()
        if self._first_signal is None:
            self._first_signal = now
            self.reactor.callFromThread(self.shutdown)  # wakes the reactor
        elif now - self._first_signal > DUPLICATE_SIGNAL_S:  # a kill to pid and group: twice
            os.write(2, b"second signal: exiting at once\n")
            os._exit(EXIT_FORCED)
