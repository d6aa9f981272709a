"""``consumer-hub publish``, ``consumer-hub tail`` and ``hub.publish()`` over real sockets."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import zmq

from tests.integration.harness import (
    REPO,
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    wait_records,
)

pytestmark = pytest.mark.integration
ENV = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}


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
