"""A hub subprocess under a fake service manager: the sd_notify protocol and a live SIGHUP reload.

The test plays systemd: it binds the NOTIFY_SOCKET datagram socket, sets WATCHDOG_USEC, sends
SIGHUP and SIGTERM. The core's harness supplies the hub subprocess and an XPUB publisher on an
ephemeral port whose subscription handshake replaces any sleep; recorder consumers write what
they consumed to JSON-lines files.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    complete_lines,
    hub_config,
    recorder,
    wait_records,
    wait_until,
)

pytestmark = pytest.mark.integration


class NotifyLog:
    """The service manager's side of NOTIFY_SOCKET: every datagram, in order of arrival."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.messages: list[dict[str, str]] = []

    def poll(self) -> list[dict[str, str]]:
        while True:
            try:
                data = self.sock.recv(4096).decode()
            except BlockingIOError:
                return self.messages
            self.messages.append(dict(line.split("=", 1) for line in data.split("\n")))

    def count(self, key: str) -> int:
        return sum(1 for m in self.poll() if key in m)

    def wait_for(self, key: str, nth: int = 1) -> None:
        wait_until(lambda: self.count(key) >= nth, 30, f"{key} #{nth} from the hub")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A NOTIFY_SOCKET (and a 1 s WATCHDOG_USEC) that hub subprocesses inherit."""
    log = NotifyLog(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(log.path))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    yield log
    log.close()


def start_hub(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], consumers: dict[str, Any]
) -> HubProcess:
    """A hub with its status endpoint off, started and subscribed to everything."""
    config = hub_config(publisher.endpoint, consumers, status={"enabled": False})
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start(wait_ready=False))
    publisher.wait_subscribed([""])
    return hub


def rewrite(hub: HubProcess, consumers: dict[str, Any]) -> None:
    """Atomically replace the hub's config file with new consumers."""
    config = dict(hub.config, consumers=consumers)
    tmp = hub.config_path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(config))
    tmp.replace(hub.config_path)


def recorded(path: Path) -> list[Any]:
    """A recorder file's events: 'setup', 'teardown', or the ``n`` of a test.seq message."""
    out: list[Any] = []
    for line in complete_lines(path):
        record = orjson.loads(line)
        if record["event"] != "message":
            out.append(record["event"])
        elif record["topic"] == "test.seq":
            out.append(record["body"]["n"])
    return out


def seqs(path: Path) -> list[int]:
    return [e for e in recorded(path) if isinstance(e, int)]


def publish(publisher: TestPublisher, numbers: range) -> None:
    for n in numbers:
        publisher.send({"topic": "test.seq", "msg": {"n": n}})


def kind(message: dict[str, str]) -> str:
    """The state a notification announces; STATUS when it only carries a status line."""
    for key in ("READY", "RELOADING", "STOPPING", "WATCHDOG", "EXTEND_TIMEOUT_USEC"):
        if key in message:
            return key
    return "STATUS"


def test_notify_protocol_in_order(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], notify: NotifyLog
) -> None:
    """READY, STATUS, WATCHDOG, RELOADING (+MONOTONIC_USEC) then READY, STOPPING, in order."""
    hub = start_hub(tmp_path, publisher, hubs, {"rec": recorder(tmp_path / "rec.jsonl")})
    notify.wait_for("READY")
    statuses = [kind(m) for m in notify.poll()].count("STATUS")
    wait_until(lambda: [kind(m) for m in notify.poll()].count("STATUS") > statuses, 30,
               "a periodic STATUS= after READY=1")  # fmt: skip
    notify.wait_for("WATCHDOG", notify.count("WATCHDOG") + 2)
    hub.signal(signal.SIGHUP)
    notify.wait_for("RELOADING")
    notify.wait_for("READY", 2)
    assert hub.stop() == 0, hub.log_text()
    kinds = [kind(m) for m in notify.poll()]
    ready, reloading, stopping = (kinds.index(k) for k in ("READY", "RELOADING", "STOPPING"))
    assert ready < reloading < kinds.index("READY", reloading) < stopping
    assert "STATUS" in kinds[ready:reloading] and "WATCHDOG" in kinds[ready:reloading]
    assert set(kinds[stopping + 1 :]) <= {"WATCHDOG"}, "only pings after STOPPING=1"
    assert kinds.count("READY") == 2 and kinds.count("RELOADING") == 1
    assert int(notify.messages[reloading]["MONOTONIC_USEC"]) > 0
    assert notify.messages[ready]["STATUS"].startswith("ready: ")
    assert "msg/s" in notify.messages[kinds.index("STATUS", ready)]["STATUS"]


def test_sighup_reload_adds_removes_restarts_without_loss(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], notify: NotifyLog
) -> None:
    """A reload while messages flow adds, removes, reconfigures; nothing lost or repeated."""
    files = {name: tmp_path / f"{name}.jsonl" for name in ("keep", "gone", "changed", "new")}
    before = {n: recorder(files[n]) for n in ("keep", "gone")}
    before["changed"] = recorder(files["changed"], delay_s=0.001)  # still has a backlog at reload
    hub = start_hub(tmp_path, publisher, hubs, before)
    notify.wait_for("READY")
    publish(publisher, range(0, 1000))
    wait_records(files["keep"], 300)
    after = {
        "keep": before["keep"],
        "changed": recorder(files["changed"], delay_s=0.0005),
        "new": recorder(files["new"]),
    }
    rewrite(hub, after)
    hub.signal(signal.SIGHUP)
    publish(publisher, range(1000, 2000))  # while the reload runs
    notify.wait_for("READY", 2)
    publish(publisher, range(2000, 3000))
    for name in ("keep", "changed", "new"):
        wait_until(lambda n=name: seqs(files[n])[-1:] == [2999], 30, f"{name} to get #2999")
    assert hub.stop() == 0, hub.log_text()

    assert seqs(files["keep"]) == list(range(3000)), "unchanged consumer lost or repeated"
    assert recorded(files["keep"]).count("setup") == 1, "unchanged consumer was restarted"
    assert seqs(files["changed"]) == list(range(3000)), "reconfigured consumer lost or repeated"
    assert recorded(files["changed"]).count("setup") == 2
    gone = seqs(files["gone"])
    assert recorded(files["gone"])[-1] == "teardown" and gone == list(range(len(gone)))
    assert len(gone) >= 300
    new = seqs(files["new"])
    assert new == list(range(new[0], 3000)) and new[0] <= 2000
    hub.wait_for_log("reload applied")


def test_invalid_config_is_rejected_and_running_one_stays(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], notify: NotifyLog
) -> None:
    """A broken config on SIGHUP logs 'reload rejected', keeps consumers, and READY=1 follows."""
    path = tmp_path / "rec.jsonl"
    hub = start_hub(tmp_path, publisher, hubs, {"rec": recorder(path)})
    notify.wait_for("READY")
    hub.config_path.write_text("endpoints: []\nconsumers: {rec: {class: nope}}\n")
    hub.signal(signal.SIGHUP)
    notify.wait_for("READY", 2)
    publish(publisher, range(10))
    wait_until(lambda: seqs(path) == list(range(10)), 30, "the running consumer to go on")
    assert hub.stop() == 0
    hub.wait_for_log("reload rejected, keeping the running configuration")
    after_reload = [m for m in notify.poll() if "READY" in m][1]
    assert after_reload["STATUS"].startswith("reload rejected: ")
    assert recorded(path).count("setup") == 1


def test_the_backlog_is_one_figure_in_status_the_status_line_and_the_stop_log(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], notify: NotifyLog
) -> None:
    """With a backlog mostly on disk, STATUS=, the stop log and STOPPING= give the number
    /status gives: window, what a worker holds and disk alike."""
    allow, done = tmp_path / "allow", tmp_path / "gate.txt"
    allow.write_text("0")
    gate = {"class": "tests.gate:Gate", "queue_size": 20,
            "config": {"allow": str(allow), "path": str(done)}}  # fmt: skip
    config = hub_config(publisher.endpoint, {"gate": gate}, shutdown_timeout_s=0.5)
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed([""])
    publish(publisher, range(1000))

    def frozen() -> Any:
        status = hub.status()
        gate = status["consumers"]["gate"]
        busy = [w for w in gate["workers"] if w["state"] == "busy"]
        return status if status["hub"]["received"] == 1000 and busy else None

    status = wait_until(frozen, 30, "1000 received, one in consume()")
    backlog = status["hub"]["backlog"]
    assert backlog == status["consumers"]["gate"]["backlog"] == 999
    assert status["consumers"]["gate"]["backlog_disk"] > 0, "the backlog spilled to disk"
    wait_until(lambda: any(f"backlog {backlog}," in m.get("STATUS", "") for m in notify.poll()),
               30, f"a STATUS= line with backlog {backlog}")  # fmt: skip
    hub.signal(signal.SIGTERM)
    assert hub.wait(30) == 0
    assert f"backlog {backlog} in all" in hub.log_text()
    stopping = [m for m in notify.poll() if "STOPPING" in m]
    assert stopping[0]["STATUS"].startswith(f"stopping: backlog {backlog},")
