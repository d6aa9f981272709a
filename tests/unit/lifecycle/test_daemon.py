"""hub.lifecycle.daemon: a SIGHUP while the hub starts is applied once it is ready, not lost."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock

from hub.config import config_from_dict
from hub.lifecycle.daemon import Daemon
from hub.lifecycle.reload import ReloadResult


class Service:
    """What systemd's side reads of the hub."""

    def __init__(self) -> None:
        self.config = config_from_dict({"endpoints": ["tcp://a:1"]})
        self.stopping = False
        self.input_connected = True

    def snapshot(self) -> dict[str, Any]:
        hub = {"received_per_s": 0.0, "backlog": 0, "input_paused": False}
        return {"hub": hub, "consumers": {}}

    def backlog(self) -> tuple[int, int]:
        return 0, 0


class Reloader:
    config_path = "hub.yaml"

    def __init__(self) -> None:
        self.calls = 0

    def reload(self) -> defer.Deferred[ReloadResult]:
        self.calls += 1
        return defer.succeed(ReloadResult(True, "no consumer changed"))


class Notifier:
    enabled = False

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.sent.append(name)


def test_a_sighup_during_start_up_is_applied_once_ready() -> None:
    """reload() before READY=1 does not reload at once (and is not dropped): it runs right
    after READY=1, once."""
    reloader = Reloader()
    daemon = Daemon(Service(), Clock(), reloader=reloader, notifier=Notifier())  # type: ignore[arg-type]
    assert daemon.reload() is None and reloader.calls == 0
    daemon.started()
    assert daemon.ready and reloader.calls == 1
    daemon.reload()
    assert reloader.calls == 2
