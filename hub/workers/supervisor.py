"""Restarts dead worker threads (a consumer's, or a producer's) with backoff and reports crash
loops.

Runs on the reactor thread: ``on_death`` is delivered through ``reactor.callFromThread``;
restarts are scheduled with ``reactor.callLater``, so tests drive it with
``twisted.internet.task.Clock``.

The n-th death of a consumer's threads within ``WINDOW_S`` waits
``min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (n - 1))`` before the restart; from ``LOOP_AFTER``
deaths in the window the consumer is in a crash loop (logged once, shown in status as
``crash_loop`` until the window passes without a death).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

BASE_DELAY_S = 0.5
MAX_DELAY_S = 60.0
WINDOW_S = 300.0
LOOP_AFTER = 3


class Supervisor:
    """Death history and pending restarts, per consumer."""

    def __init__(
        self, clock: Any, restart: Callable[[str, int], None], what: str = "consumer"
    ) -> None:
        self.clock = clock  # an IReactorTime: seconds() and callLater()
        self.restart = restart
        self.what = what  # whose threads: "consumer" or "producer", for the log
        self.deaths: dict[str, deque[float]] = {}
        self.restarts: dict[str, int] = {}
        self.crash_loop: dict[str, bool] = {}
        self.pending: dict[tuple[str, int], Any] = {}

    def on_death(self, name: str, index: int, error: BaseException | None) -> float:
        """Thread ``index`` of ``name`` died: schedule its restart; return the delay."""
        now = self.clock.seconds()
        history = self.deaths.setdefault(name, deque())
        history.append(now)
        while history and history[0] < now - WINDOW_S:
            history.popleft()
        delay: float = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (len(history) - 1))
        if len(history) >= LOOP_AFTER and not self.crash_loop.get(name):
            self.crash_loop[name] = True
            log.error("%s %s: crash loop: %d worker deaths in %.0f s (last: %r); "
                      "restarting with backoff, now %.1f s", self.what, name, len(history),
                      WINDOW_S, error, delay)  # fmt: skip
        self.pending[(name, index)] = self.clock.callLater(delay, self._restart, name, index)
        return delay

    def _restart(self, name: str, index: int) -> None:
        self.pending.pop((name, index), None)
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.restart(name, index)

    def tick(self) -> None:
        """Clear crash loops whose window passed without a death."""
        now = self.clock.seconds()
        for name, history in self.deaths.items():
            if self.crash_loop.get(name) and (not history or history[-1] < now - WINDOW_S):
                self.crash_loop[name] = False
                log.info("%s %s: no worker death for %.0f s: crash loop over", self.what,
                         name, WINDOW_S)  # fmt: skip

    def restart_now(self, name: str) -> None:
        """Run pending restarts of ``name`` at once (shutdown: the threads see the abort)."""
        for key in [k for k in self.pending if k[0] == name]:
            call = self.pending.pop(key)
            if call.active():
                call.cancel()
            self.restart(*key)

    def cancel(self, name: str) -> None:
        """Drop pending restarts of ``name`` (a producer stopping: no new thread)."""
        for key in [k for k in self.pending if k[0] == name]:
            call = self.pending.pop(key)
            if call.active():
                call.cancel()

    def snapshot(self, name: str) -> dict[str, Any]:
        return {
            "worker_restarts": self.restarts.get(name, 0),
            "worker_deaths": len(self.deaths.get(name, ())),
            "crash_loop": bool(self.crash_loop.get(name)),
            "restarts_pending": sum(1 for k in self.pending if k[0] == name),
        }
