"""Input paused for more than one reason at once: paused while any reason holds it.

Runs on the reactor thread. The enqueuer pauses input when the log's disk budget is spent or a
write failed (``disk``); the signature gate when too many messages wait to be checked
(``signatures``). Each gets its own `Holder`; the input resumes only once neither holds it.
"""

from __future__ import annotations

from typing import Protocol


class Pausable(Protocol):
    """The input whose reading is paused and resumed."""

    def pause(self) -> None: ...
    def resume(self) -> None: ...


class Holds:
    """The reasons holding the input paused."""

    def __init__(self, input: Pausable) -> None:
        self.input = input
        self.held: set[str] = set()

    def holder(self, reason: str) -> Holder:
        return Holder(self, reason)

    def hold(self, reason: str) -> None:
        if not self.held:
            self.input.pause()
        self.held.add(reason)

    def release(self, reason: str) -> None:
        if reason in self.held:
            self.held.discard(reason)
            if not self.held:
                self.input.resume()


class Holder:
    """One reason's ``pause`` and ``resume`` (a `Pausable` for whoever has that reason)."""

    def __init__(self, holds: Holds, reason: str) -> None:
        self.holds = holds
        self.reason = reason

    def pause(self) -> None:
        self.holds.hold(self.reason)

    def resume(self) -> None:
        self.holds.release(self.reason)
