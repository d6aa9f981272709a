"""``consumer-hub publish``, ``consumer-hub tail`` and ``hub.publish()`` over real sockets."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import orjson
import pytest
import zmq

from tests.integration.harness import (
    CLI_ENV,
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    wait_records,
)

pytestmark = pytest.mark.integration
ENV = CLI_ENV


def test_publish_command_reaches_a_running_hub(tmp_path: Path, hubs: list[HubProcess]) -> None:
    """`consumer-hub publish` waits for the hub's subscription, then the consumer gets it."""
    endpoint = f"ipc://{tmp_path}/in.sock"
    path = tmp_path / "r.jsonl"
    hub = HubProcess(tmp_path, hub_config(f"bind:{endpoint}", {"r": recorder(path)}))
    hubs.append(hub.start())
    result = subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(hub.config_path), "publish",
         "org.test.cli", '{"hello": "world"}'],
        capture_output=True, text=True, timeout=30, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"via {endpoint}" in result.stdout
    [record] = wait_records(path, 1)
    assert record["topic"] == "org.test.cli" and record["body"] == {"hello": "world"}


def test_publish_command_fails_clearly_without_a_subscriber(tmp_path: Path) -> None:
    """With nobody listening, publish exits 5 after its timeout instead of losing the message."""
    config = tmp_path / "hub.yaml"
    config.write_text(f"endpoints: ['bind:ipc://{tmp_path}/nobody.sock']\n")
    result = subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(config), "publish", "--timeout", "0.5",
         "org.test.x", "{}"],
        capture_output=True, text=True, timeout=30, env=ENV,
    )  # fmt: skip
    assert result.returncode == 5
    assert "no subscriber for 'org.test.x'" in result.stderr


def test_tail_prints_matching_messages(tmp_path: Path, publisher: TestPublisher) -> None:
    """`consumer-hub tail --topic` prints matching messages and skips the others."""
    config = tmp_path / "hub.yaml"
    config.write_text(f"endpoints: ['{publisher.endpoint}']\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "--config", str(config), "tail", "--topic", "org.test.a*"],
        stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        publisher.wait_subscribed()
        publisher.send({"topic": "org.test.b", "msg": "skip me"})
        publisher.send({"topic": "org.test.a", "msg": "show me"})
        assert proc.stdout is not None
        line = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(10)
    topic, _, body = line.partition(" ")
    assert topic == "org.test.a" and orjson.loads(body)["msg"] == "show me"


def test_a_consumer_can_publish_through_the_hub(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """self.hub.publish() from a worker thread goes out on the hub's PUB socket."""
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    port = sub.bind_to_random_port("tcp://127.0.0.1")
    config = hub_config(
        publisher.endpoint,
        {"echo": {"class": "tests.plugins:Echo"}},
        publish_endpoint=f"tcp://127.0.0.1:{port}",
    )
    hubs.append(HubProcess(tmp_path, config).start())
    publisher.wait_subscribed(["org.test."])
    deadline = time.monotonic() + 20
    frames = None
    while frames is None and time.monotonic() < deadline:  # warm-up: until one echo arrives
        publisher.send({"topic": "org.test.ping", "msg": 1})
        if sub.poll(100):
            frames = sub.recv_multipart()
    sub.close(0)
    context.term()
    assert frames is not None, "no echo arrived"
    envelope = orjson.loads(frames[1])
    assert frames[0] == b"org.test.ping.echo"
    assert envelope["msg"] == {"echo": 1} and envelope["msg_id"] and envelope["i"] >= 1


class _Tail:
    """A `consumer-hub tail --json` subprocess; reader threads queue its stdout and stderr."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub", "tail", "--json", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, lines), daemon=True).start()

    @staticmethod
    def _read(stream: IO[str] | None, lines: queue.Queue[str]) -> None:
        assert stream is not None
        for line in stream:
            lines.put(line)

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until tail logs that its SUB socket is subscribed (its readiness line)."""
        deadline = time.monotonic() + timeout
        seen = []
        while "subscribed" not in (seen[-1] if seen else ""):
            try:
                seen.append(self.err.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"tail never said it was subscribed: {seen}") from None

    def lines(self, count: int, timeout: float = 20.0) -> list[str]:
        """The next ``count`` stdout lines."""
        return [self.out.get(timeout=timeout) for _ in range(count)]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def no_config(tmp_path: Path) -> dict[str, str]:
    """An environment whose configuration file does not exist, so any read of it fails."""
    return {**ENV, "CONSUMER_HUB_CONFIG": str(tmp_path / "absent" / "hub.yaml")}


@pytest.fixture
def tails() -> Iterator[list[_Tail]]:
    """Tail subprocesses a test started, stopped at its end."""
    started: list[_Tail] = []
    yield started
    for tail in started:
        tail.stop()


def _publish(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "hub", "publish", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30, env=env)


def test_publish_and_tail_round_trip_without_a_config(
    tmp_path: Path, no_config: dict[str, str], tails: list[_Tail]
) -> None:
    """With --endpoint, tail and publish read no config; publish sends an argument and stdin
    body; what tail --json records, publish --file sends again unchanged."""
    first, second = f"ipc://{tmp_path}/first.sock", f"ipc://{tmp_path}/second.sock"
    tails.append(recorder_tail := _Tail("--endpoint", f"bind:{first}", env=no_config))
    recorder_tail.wait_ready()
    sent = _publish(no_config, "--endpoint", first, "org.test.rt.a", '{"n": 1}')
    assert sent.returncode == 0, sent.stderr
    piped = _publish(no_config, "--endpoint", first, "org.test.rt.b", "-", stdin='{"n": [2]}')
    assert piped.returncode == 0, piped.stderr
    recorded = recorder_tail.lines(2)
    envelopes = [orjson.loads(line) for line in recorded]
    assert [(e["topic"], e["msg"]) for e in envelopes] == [
        ("org.test.rt.a", {"n": 1}),
        ("org.test.rt.b", {"n": [2]}),
    ]
    assert envelopes[0]["msg_id"] in sent.stdout
    record = tmp_path / "recorded.jsonl"
    record.write_text("".join(recorded))
    tails.append(replay_tail := _Tail("--endpoint", f"bind:{second}", env=no_config))
    replay_tail.wait_ready()
    again = _publish(no_config, "--endpoint", second, "--file", str(record))
    assert again.returncode == 0, again.stderr
    assert [orjson.loads(line) for line in replay_tail.lines(2)] == envelopes


def test_publish_file_from_stdin_with_topic_body_lines(
    tmp_path: Path, no_config: dict[str, str], tails: list[_Tail]
) -> None:
    """`publish -f -` reads {topic, body} lines from stdin; a tail that connects receives them
    in order, each in a new envelope."""
    endpoint = f"ipc://{tmp_path}/bus.sock"
    tails.append(tail := _Tail("--endpoint", endpoint, "--topic", "org.test.f.*", env=no_config))
    tail.wait_ready()
    lines = "".join(f'{{"topic": "org.test.f.{n}", "body": {n}}}\n' for n in range(50))
    result = _publish(no_config, "--endpoint", f"bind:{endpoint}", "-f", "-", stdin=lines)
    assert result.returncode == 0, result.stderr
    got = [orjson.loads(line) for line in tail.lines(50)]
    assert [(e["topic"], e["msg"]) for e in got] == [(f"org.test.f.{n}", n) for n in range(50)]
    assert len({e["msg_id"] for e in got}) == 50


def test_without_endpoint_the_missing_config_is_reported(no_config: dict[str, str]) -> None:
    """Without --endpoint, publish still needs the config, and says which file it could not read."""
    result = _publish(no_config, "org.test.x", "{}")
    assert result.returncode == 3
    assert "absent/hub.yaml: cannot read configuration" in result.stderr
