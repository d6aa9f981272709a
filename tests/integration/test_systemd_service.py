"""A hub subprocess under a fake service manager: the sd_notify protocol and a live SIGHUP reload.

The test plays systemd: it binds the NOTIFY_SOCKET datagram socket, sets WATCHDOG_USEC, sends
SIGHUP and SIGTERM, and publishes fedmsg messages on its own PUB socket (an ephemeral port) that
the hub connects to. Recorder consumers write what they consumed to JSON-lines files.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
import zmq

from hub.codec import Encoder

pytestmark = pytest.mark.integration

DEADLINE_S = 30.0


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail naming ``what``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class NotifyLog:
    """The service manager's side of NOTIFY_SOCKET: every datagram, in order of arrival."""

    def __init__(self, path: Path) -> None:
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
        wait_until(lambda: self.count(key) >= nth, f"{key} #{nth} from the hub")


class Upstream:
    """The fedmsg publisher the hub connects to."""

    def __init__(self) -> None:
        self.context = zmq.Context()
        self.sock = self.context.socket(zmq.PUB)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.encoder = Encoder("test", "localhost")

    def send(self, topic: str, body: Any) -> None:
        self.sock.send_multipart(self.encoder.encode(topic, body))

    def close(self) -> None:
        self.sock.close()
        self.context.term()


def recorded(path: Path) -> list[Any]:
    """Events of a recorder file: 'setup', 'teardown', or the ``n`` of a test.seq message."""
    if not path.exists():
        return []
    out: list[Any] = []
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        if record["event"] != "message":
            out.append(record["event"])
        elif record["topic"] == "test.seq":
            out.append(record["body"]["n"])
    return out


def seqs(path: Path) -> list[int]:
    return [e for e in recorded(path) if isinstance(e, int)]


def recorder(path: Path, **config: Any) -> dict[str, Any]:
    return {"class": "recorder", "config": {"path": str(path), **config}}


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A PUB socket on an ephemeral port."""
    up = Upstream()
    yield up
    up.close()


class Hub:
    """A `consumer-hub run` subprocess with its config file and notify socket."""

    def __init__(self, tmp: Path, upstream: Upstream, consumers: dict[str, Any]) -> None:
        self.tmp = tmp
        self.config = tmp / "hub.yaml"
        self.upstream = upstream
        self.notify = NotifyLog(tmp / "notify.sock")
        self.write_config(consumers)
        env = dict(os.environ, NOTIFY_SOCKET=str(tmp / "notify.sock"), WATCHDOG_USEC="1000000")
        env.pop("JOURNAL_STREAM", None)
        self.stderr = (tmp / "hub.stderr").open("wb")
        cmd = [sys.executable, "-m", "hub.cli", "--config", str(self.config), "run"]
        self.proc = subprocess.Popen(cmd, env=env, stderr=self.stderr, stdout=self.stderr)

    def write_config(self, consumers: dict[str, Any]) -> None:
        config = {
            "endpoints": [f"tcp://127.0.0.1:{self.upstream.port}"],
            "status": {"enabled": False},
            "shutdown_timeout_s": 20,
            "consumers": consumers,
        }
        tmp = self.config.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(config))
        tmp.replace(self.config)

    def handshake(self, probe_file: Path) -> None:
        """Publish probes until one reaches a consumer: the subscription is then in place."""
        self.notify.wait_for("READY")

        def probed() -> bool:
            self.upstream.send("test.probe", {})
            return probe_file.exists() and b"test.probe" in probe_file.read_bytes()

        wait_until(probed, "a probe message to reach the hub")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=DEADLINE_S)
        self.stderr.close()
        return code

    def log(self) -> str:
        return (self.tmp / "hub.stderr").read_text(errors="replace")


@pytest.fixture
def make_hub(tmp_path: Path, upstream: Upstream) -> Iterator[Callable[[dict[str, Any]], Hub]]:
    """Start hubs; kill any still running at the end of the test."""
    hubs: list[Hub] = []

    def make(consumers: dict[str, Any]) -> Hub:
        hubs.append(Hub(tmp_path, upstream, consumers))
        return hubs[-1]

    yield make
    for hub in hubs:
        if hub.proc.poll() is None:
            hub.proc.kill()
            hub.proc.wait()


def kind(message: dict[str, str]) -> str:
    """The state a notification announces; STATUS when it only carries a status line."""
    for key in ("READY", "RELOADING", "STOPPING", "WATCHDOG", "EXTEND_TIMEOUT_USEC"):
        if key in message:
            return key
    return "STATUS"


def test_notify_protocol_in_order(tmp_path: Path, make_hub: Callable[..., Hub]) -> None:
    """READY, STATUS, WATCHDOG, RELOADING (+MONOTONIC_USEC) then READY, STOPPING, in order."""
    hub = make_hub({"rec": recorder(tmp_path / "rec.jsonl")})
    hub.handshake(tmp_path / "rec.jsonl")
    statuses = [kind(m) for m in hub.notify.poll()].count("STATUS")
    wait_until(lambda: [kind(m) for m in hub.notify.poll()].count("STATUS") > statuses,
               "a periodic STATUS= after READY=1")  # fmt: skip
    hub.notify.wait_for("WATCHDOG", hub.notify.count("WATCHDOG") + 2)
    hub.proc.send_signal(signal.SIGHUP)
    hub.notify.wait_for("RELOADING")
    hub.notify.wait_for("READY", 2)
    assert hub.stop() == 0, hub.log()
    kinds = [kind(m) for m in hub.notify.poll()]
    ready, reloading, stopping = (kinds.index(k) for k in ("READY", "RELOADING", "STOPPING"))
    assert ready < reloading < kinds.index("READY", reloading) < stopping
    assert "STATUS" in kinds[ready:reloading] and "WATCHDOG" in kinds[ready:reloading]
    assert set(kinds[stopping + 1 :]) <= {"WATCHDOG"}, "only pings after STOPPING=1"
    assert kinds.count("READY") == 2 and kinds.count("RELOADING") == 1
    assert int(hub.notify.messages[reloading]["MONOTONIC_USEC"]) > 0
    assert hub.notify.messages[ready]["STATUS"].startswith("ready: ")
    assert "msg/s" in hub.notify.messages[kinds.index("STATUS", ready)]["STATUS"]


def _publish(upstream: Upstream, numbers: range) -> None:
    for n in numbers:
        upstream.send("test.seq", {"n": n})


def test_sighup_reload_adds_removes_restarts_without_loss(
    tmp_path: Path, make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    """While messages flow, a reload adds, removes and reconfigures consumers; the unchanged
    one is untouched, and no consumer loses or repeats a message."""
    files = {name: tmp_path / f"{name}.jsonl" for name in ("keep", "gone", "changed", "new")}
    before = {n: recorder(files[n]) for n in ("keep", "gone", "changed")}
    hub = make_hub(before)
    hub.handshake(files["keep"])
    _publish(upstream, range(0, 1000))
    wait_until(lambda: len(seqs(files["keep"])) >= 300, "keep to consume 300 messages")
    after = {
        "keep": before["keep"],
        "changed": recorder(files["changed"], delay_s=0.0005),
        "new": recorder(files["new"]),
    }
    hub.write_config(after)
    hub.proc.send_signal(signal.SIGHUP)
    _publish(upstream, range(1000, 2000))  # while the reload runs
    hub.notify.wait_for("READY", 2)
    _publish(upstream, range(2000, 3000))
    for name in ("keep", "changed", "new"):
        wait_until(lambda n=name: seqs(files[n])[-1:] == [2999], f"{name} to reach message 2999")
    assert hub.stop() == 0, hub.log()

    assert seqs(files["keep"]) == list(range(3000)), "unchanged consumer lost or repeated"
    assert recorded(files["keep"]).count("setup") == 1, "unchanged consumer was restarted"
    assert seqs(files["changed"]) == list(range(3000)), "reconfigured consumer lost or repeated"
    assert recorded(files["changed"]).count("setup") == 2
    gone = recorded(files["gone"])
    assert gone[-1] == "teardown" and seqs(files["gone"]) == list(range(len(seqs(files["gone"]))))
    assert len(seqs(files["gone"])) >= 300
    new = seqs(files["new"])
    assert new == list(range(new[0], 3000)) and new[0] <= 2000
    assert "reload applied" in hub.log()


def test_invalid_config_is_rejected_and_running_one_stays(
    tmp_path: Path, make_hub: Callable[..., Hub], upstream: Upstream
) -> None:
    """A broken config on SIGHUP logs 'reload rejected', keeps consumers, and READY=1 follows."""
    path = tmp_path / "rec.jsonl"
    hub = make_hub({"rec": recorder(path)})
    hub.handshake(path)
    hub.config.write_text("endpoints: []\nconsumers: {rec: {class: nope}}\n")
    hub.proc.send_signal(signal.SIGHUP)
    hub.notify.wait_for("READY", 2)
    _publish(upstream, range(10))
    wait_until(lambda: seqs(path) == list(range(10)), "the running consumer to go on")
    assert hub.stop() == 0
    assert "reload rejected, keeping the running configuration" in hub.log()
    after_reload = [m for m in hub.notify.poll() if "READY" in m][1]
    assert after_reload["STATUS"].startswith("reload rejected: ")
    assert recorded(path).count("setup") == 1
