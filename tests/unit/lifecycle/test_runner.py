"""hub.lifecycle.runner: a defect the service reports stops the hub with exit code 1 (systemd
restarts it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock

from hub.config import config_from_dict
from hub.lifecycle.runner import Runner


class Service:
    """The parts of HubService the runner and the daemon use."""

    def __init__(self) -> None:
        self.config = config_from_dict({"endpoints": ["tcp://a:1"]})
        self.failed: defer.Deferred = defer.Deferred()
        self.consumers: dict[str, Any] = {}
        self.stopping = False
        self.stops = 0

    def start(self) -> defer.Deferred:
        return defer.Deferred()  # not ready yet: the failure comes first

    def backlog(self) -> tuple[int, int]:
        return 0, 0

    def stop(self) -> defer.Deferred:
        self.stopping = True
        self.stops += 1
        return defer.succeed(None)


class Reactor(Clock):
    """A clock that can be stopped."""

    stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_a_failed_service_stops_the_hub_with_exit_code_1(tmp_path: Path) -> None:
    """service.failed errbacks (input stopped on a defect): the hub stops, exit code 1."""
    service, reactor = Service(), Reactor()
    runner = Runner(service, reactor, tmp_path / "hub.yaml")  # type: ignore[arg-type]
    runner._start()
    assert not reactor.stopped
    service.failed.errback(ValueError("argument out of range"))
    assert service.stops == 1 and reactor.stopped and runner.exit_code == 1
