"""Small fakes shared by unit tests. Runs in the pytest process."""

from __future__ import annotations


class Input:
    """An input that records ``pause()`` and ``resume()`` (what `hub.routing.holds` drives)."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def pause(self) -> None:
        self.events.append("pause")

    def resume(self) -> None:
        self.events.append("resume")
