"""CURVE over real sockets: only publishers with an allowed key get into the SUB socket, only
allowed subscribers read the PUB socket, the others are refused and counted, and keys rotated
by a SIGHUP lose no message."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import zmq
import zmq.auth

from tests.integration.harness import (
    REPO,
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    sample_envelopes,
    wait_records,
    wait_until,
)
from tests.integration.servers.rabbitmq import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """Key pairs made by ``consumer-hub keygen``: the hub's, a, b and an intruder's."""
    directory = tmp_path / "keys"
    directory.mkdir()
    for name in ("hub", "a", "b", "intruder"):
        subprocess.run([sys.executable, "-m", "hub", "keygen", str(directory / name)],
                       check=True, cwd=REPO, capture_output=True)  # fmt: skip
    (tmp_path / "allowed").mkdir()
    shutil.copy(directory / "a.key", tmp_path / "allowed")
    return directory


def curve(keys: Path, allowed: Path) -> dict[str, object]:
    return {"curve": {"sub": {"secret_key": str(keys / "hub.key_secret"), "allow": [str(allowed)]}}}


def client(keys: Path, name: str) -> tuple[Path, Path]:
    return keys / f"{name}.key_secret", keys / "hub.key"


def refused(hub: HubProcess, cause: str) -> int:
    return int(hub.status()["hub"]["curve_refused"].get(cause, 0))


def test_only_a_publisher_with_an_allowed_key_gets_in(
    tmp_path: Path, keys: Path, hubs: list[HubProcess]
) -> None:
    """An allowed key gets everything in; another key and no CURVE get nothing in, each counted."""
    good = TestPublisher(curve=client(keys, "a"))
    intruder = TestPublisher(curve=client(keys, "intruder"))
    plain = TestPublisher()
    try:
        path = tmp_path / "got.jsonl"
        zmq = curve(keys, tmp_path / "allowed")
        config = hub_config(good.endpoint, {"r": recorder(path)}, zmq=zmq)
        config["endpoints"] += [intruder.endpoint, plain.endpoint]
        hub = HubProcess(tmp_path, config)
        hubs.append(hub.start())
        good.wait_subscribed()
        wait_until(lambda: refused(hub, "sub_unknown_key") and refused(hub, "sub_handshake"),
                   what="both intruders refused")  # fmt: skip
        samples = sample_envelopes()
        sent = [good.send(env) for env in samples[:40]]
        for env in samples[40:60]:  # dropped by their XPUB: no subscription ever reached them
            intruder.send(env)
            plain.send(env)
        records = wait_records(path, len(sent))
        assert [r["msg_id"] for r in records] == [e["msg_id"] for e in sent]
        assert not intruder.socket.poll(0) and not plain.socket.poll(0)  # no subscription came
        assert "sub: a peer on" in hub.log_text() and "CURVE on, 1 public key(s)" in hub.log_text()
        assert hub.stop() == 0
        assert len(read_all(path)) == len(sent)
    finally:
        for publisher in (good, intruder, plain):
            publisher.close()


def read_all(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if b'"message"' in line]


def test_keys_rotated_by_a_reload_lose_no_message(
    tmp_path: Path, keys: Path, hubs: list[HubProcess]
) -> None:
    """Keys added and removed by SIGHUP: the removed one is refused, no message is lost."""
    allowed = tmp_path / "allowed"
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    path = tmp_path / "got.jsonl"
    config = hub_config("bind:" + endpoint, {"r": recorder(path)}, zmq=curve(keys, allowed))
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    samples = iter(sample_envelopes())
    a = TestPublisher(curve=client(keys, "a"), connect=endpoint)
    b = a_again = None
    try:
        a.wait_subscribed()
        sent = [a.send(next(samples)) for _ in range(30)]
        shutil.copy(keys / "b.key", allowed)
        hub.signal(signal.SIGHUP)
        hub.wait_for_log(r"reload applied .*sub: 2 CURVE key\(s\) allowed")
        b = TestPublisher(curve=client(keys, "b"), connect=endpoint)
        b.wait_subscribed()
        sent += [b.send(next(samples)) for _ in range(30)]
        (allowed / "a.key").unlink()
        hub.signal(signal.SIGHUP)
        hub.wait_for_log(r"reload applied .*sub: 1 CURVE key\(s\) allowed")
        a_again = TestPublisher(curve=client(keys, "a"), connect=endpoint)
        wait_until(lambda: refused(hub, "sub_unknown_key"), what="a's key refused")
        sent += [b.send(next(samples)) for _ in range(30)]
        records = wait_records(path, len(sent))
        assert [r["msg_id"] for r in records] == [e["msg_id"] for e in sent]
        assert not a_again.socket.poll(0)  # refused: its subscription never came
        assert hub.stop() == 0
    finally:
        for publisher in (a, b, a_again):
            if publisher is not None:
                publisher.close()


def subscriber(context: zmq.Context, endpoint: str, keys: Path, name: str) -> zmq.Socket:
    """A SUB socket on the hub's PUB endpoint, a CURVE client with ``name``'s key."""
    sock = context.socket(zmq.SUB)
    public, secret = zmq.auth.load_certificate(keys / f"{name}.key_secret")
    sock.curve_publickey, sock.curve_secretkey = public, secret
    sock.curve_serverkey = zmq.auth.load_certificate(keys / "hub.key")[0]
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(endpoint)
    return sock


def test_the_pub_socket_serves_only_allowed_subscribers(
    tmp_path: Path, keys: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """hub.publish() reaches an allowed CURVE subscriber; another key is refused, reads nothing."""
    own = f"tcp://127.0.0.1:{free_port()}"
    allowed = tmp_path / "allowed"
    pub = {"secret_key": str(keys / "hub.key_secret"), "allow": [str(allowed)]}
    echo = {"class": "tests.plugins:Echo", "topics": ["org.test.*"]}
    config = hub_config(publisher.endpoint, {"echo": echo}, publish_endpoint=f"bind:{own}",
                        zmq={"curve": {"pub": pub}})  # fmt: skip
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed(["org.test."])
    context = zmq.Context()
    good, intruder = subscriber(context, own, keys, "a"), subscriber(context, own, keys, "intruder")
    try:
        wait_until(lambda: refused(hub, "pub_unknown_key"), what="the intruder refused")
        for n in range(150):  # until the allowed subscriber's subscription took hold
            publisher.send({"topic": "org.test.ping", "msg": {"n": n}})
            if good.poll(200):
                break
        echoed = orjson.loads(good.recv_multipart()[1])
        assert echoed["topic"] == "org.test.ping.echo"
        assert not intruder.poll(0)  # refused before any subscription: nothing to read
        assert hub.stop() == 0
    finally:
        good.close(0)
        intruder.close(0)
        context.term()
