"""Timed loops as Twisted services: `Every` is a ``TimerService`` on a given clock.

Runs on the reactor thread. Twisted's ``TimerService`` always makes its first call when it
starts and uses the global reactor unless told otherwise; `Every` takes the clock it runs on
(so tests drive it with ``twisted.internet.task.Clock``) and whether the first call is at once
or one step later. ``stopService`` returns a Deferred that fires once a call in progress has
finished, as ``TimerService``'s does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.internet import TimerService
from twisted.application.service import Service
from twisted.internet.task import LoopingCall


class Every(TimerService):
    """Call ``call`` every ``step`` seconds on ``clock`` while the service runs."""

    def __init__(
        self, step: float, call: Callable[[], Any], *, clock: Any, now: bool = True
    ) -> None:
        # Twisted's __init__ is unannotated, and mypy's untyped_calls_exclude (pyproject.toml)
        # does not apply to calls through super()
        super().__init__(step, call)  # type: ignore[no-untyped-call]
        self.clock = clock
        self.now = now

    def startService(self) -> None:
        Service.startService(self)
        self._loop = LoopingCall(self.call[0])
        self._loop.clock = self.clock  # type: ignore[assignment] # never None here
        self._loopFinished = self._loop.start(self.step, now=self.now)
        self._loopFinished.addErrback(self._failed)


async def stopped(timer: TimerService) -> None:
    """Stop ``timer`` if it runs; returns once a call in progress has finished."""
    if timer.running:
        await timer.stopService()
