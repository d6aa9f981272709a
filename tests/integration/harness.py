"""Real-socket helpers for integration tests: a hub subprocess, an XPUB publisher, records.

Runs in the pytest process. The hub runs as a real subprocess (``python -m hub``); a reader
thread collects its stderr lines so tests can wait for log lines with a deadline. The publisher
is an XPUB socket: it receives the hub's subscriptions, so ``wait_subscribed`` is an exact
readiness handshake (nothing published after it is dropped for lack of a subscription) and no
test needs a fixed sleep.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import yaml
import zmq
import zmq.auth

from hub.cli import statushttp
from hub.data import load_samples

REPO = Path(__file__).resolve().parents[2]
# the environment a CLI subprocess runs in: this checkout's hub, nothing of the caller's
CLI_ENV = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class TestPublisher:
    """An XPUB socket bound on an ephemeral loopback port, or connected to ``connect``; a CURVE
    client with ``curve`` (its own key file and the hub's): its subscriptions arrive once the
    handshake succeeded, so ``wait_subscribed`` is the readiness handshake there too."""

    __test__ = False  # not a pytest class

    def __init__(self, curve: tuple[Path, Path] | None = None, connect: str | None = None) -> None:
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.XPUB)
        self.socket.setsockopt(zmq.LINGER, 2000)
        self.socket.setsockopt(zmq.SNDHWM, 0)
        if curve is not None:
            public, secret = zmq.auth.load_certificate(curve[0])
            self.socket.curve_publickey, self.socket.curve_secretkey = public, secret
            self.socket.curve_serverkey = zmq.auth.load_certificate(curve[1])[0]
        if connect is not None:
            self.socket.connect(connect)
            self.endpoint = connect
        else:
            port = self.socket.bind_to_random_port("tcp://127.0.0.1")
            self.endpoint = f"tcp://127.0.0.1:{port}"
        self.subscriptions: set[bytes] = set()
        self.counter = 0

    def wait_subscribed(self, prefixes: Iterable[str] = ("",), timeout: float = 20.0) -> None:
        """Block until the subscriber has subscribed to every prefix in ``prefixes``."""
        wanted = {p.encode() for p in prefixes}
        deadline = time.monotonic() + timeout
        while not wanted <= self.subscriptions:
            left = deadline - time.monotonic()
            if left <= 0 or not self.socket.poll(int(left * 1000)):
                raise AssertionError(f"no subscription to {wanted - self.subscriptions}")
            frame = self.socket.recv()
            if frame[:1] == b"\x01":
                self.subscriptions.add(frame[1:])

    def send_raw(self, frames: list[bytes]) -> None:
        self.socket.send_multipart(frames)

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Send ``envelope`` (given a fresh msg_id and i when it has none); return it."""
        self.counter += 1
        envelope = dict(envelope)
        envelope.setdefault("msg_id", f"test-{os.getpid()}-{self.counter}")
        envelope.setdefault("i", self.counter)
        self.send_raw([envelope["topic"].encode(), orjson.dumps(envelope)])
        return envelope

    def close(self) -> None:
        self.socket.close()
        self.context.term()


def sample_envelopes() -> list[dict[str, Any]]:
    """The bundled samples, each with a unique msg_id (some samples have none)."""
    out = []
    for n, sample in enumerate(load_samples()):
        env = dict(sample)
        env["msg_id"] = f"sample-{n}"
        out.append(env)
    return out


class HubProcess:
    """A ``consumer-hub run`` subprocess with a config written to ``tmp_path``."""

    def __init__(self, tmp_path: Path, config: dict[str, Any], name: str = "hub") -> None:
        self.tmp_path = tmp_path
        self.config = config
        self.config_path = tmp_path / f"{name}.yaml"
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self.status_url: str | None = None  # http://host:port or unix:SOCKET
        self.token: str | None = None  # sent by get() as a bearer token when set
        self._reader: threading.Thread | None = None

    def write_config(self) -> Path:
        self.config.setdefault("state_dir", str(self.tmp_path / "state"))  # never the system one
        self.config_path.write_text(yaml.safe_dump(self.config))
        return self.config_path

    def start(
        self, wait_ready: bool = True, args: Iterable[str] = (), path: Iterable[Path] = ()
    ) -> HubProcess:
        """Run the hub (``path``: directories put before the repo on ``PYTHONPATH``)."""
        self.write_config()
        pythonpath = os.pathsep.join([*map(str, path), str(REPO)])
        env = dict(os.environ, PYTHONPATH=pythonpath, PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "hub", "--config", str(self.config_path), "run", *args]
        self.proc = subprocess.Popen(
            cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_ready:
            self.wait_for_log("hub ready")
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            found = re.search(r"status endpoint listening on ((?:http|unix):\S+)", line)
            if found:
                self.status_url = found.group(1)

    def log_text(self) -> str:
        return "\n".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = 20.0) -> str:
        """Wait for a stderr line matching ``pattern``; fail early if the hub exits."""

        def found() -> str | None:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            if self.proc is not None and self.proc.poll() is not None:
                self._reader.join(2) if self._reader else None
                raise AssertionError(f"hub exited ({self.proc.returncode}):\n{self.log_text()}")
            return None

        return wait_until(found, timeout, f"log line {pattern!r}")  # type: ignore[no-any-return]

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        """GET ``path`` of the status endpoint (TCP or unix socket), with ``token`` or ours."""
        assert self.status_url, "the hub has no status endpoint"
        url = self.status_url + (":" if self.status_url.startswith("unix:") else "") + path
        return statushttp.get(url, 5.0, token or self.token)

    def status(self) -> dict[str, Any]:
        code, body = self.get("/status")
        assert code == 200, body
        return json.loads(body)  # type: ignore[no-any-return]

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout)
        if self._reader:
            self._reader.join(5)
        return code

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait for the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def hub_config(endpoint: str, consumers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A minimal hub config connecting to ``endpoint``, status on an ephemeral port."""
    config: dict[str, Any] = {
        "endpoints": [endpoint],
        "status": {"host": "127.0.0.1", "port": 0},
        "shutdown_timeout_s": 20,
        "consumers": consumers,
        "retry": {"initial_delay_s": 0.01, "max_delay_s": 0.05},  # failures settle fast
    }
    config.update(extra)
    return config


def recorder(path: Path, topics: list[str] | None = None, **config: Any) -> dict[str, Any]:
    """The config of a RecorderConsumer writing to ``path``."""
    entry: dict[str, Any] = {"class": "recorder", "config": {"path": str(path), **config}}
    if topics is not None:
        entry["topics"] = topics
    return entry


def complete_lines(path: Path) -> list[bytes]:
    """The complete (newline-terminated) lines of a file another process is appending to."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return [line for line in data[: data.rfind(b"\n") + 1].split(b"\n") if line.strip()]


def read_records(path: Path, event: str = "message") -> list[dict[str, Any]]:
    """The records a RecorderConsumer wrote (only complete lines)."""
    records = (orjson.loads(line) for line in complete_lines(path))
    return [r for r in records if r.get("event") == event]


def wait_records(path: Path, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Wait until the recorder at ``path`` has at least ``count`` message records."""
    return wait_until(  # type: ignore[no-any-return]
        lambda: r if len(r := read_records(path)) >= count else None,
        timeout,
        f"{count} records in {path.name} (have {len(read_records(path))})",
    )
