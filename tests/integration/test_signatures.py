"""fedmsg signatures end to end through a hub subprocess, with the real fedmsg library on the
other side: what fedmsg signs gets in, what the hub signs fedmsg accepts, and a tampered body,
a wrong signer, a revoked certificate and an unsigned message are each refused by cause."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest
import zmq

from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    read_records,
    recorder,
    wait_until,
)
from tests.integration.servers.rabbitmq import free_port
from tests.x509_ca import TestCA, real_fedmsg_crypto

pytestmark = pytest.mark.integration

TOPIC = "org.fedoraproject.prod.bodhi.update.comment"


SERIAL = itertools.count(1)


def envelope(name: str) -> dict[str, Any]:
    """A complete envelope (msg_id and i set: the publisher adds nothing after signing)."""
    return {"topic": TOPIC, "msg": {"comment": {"text": f"ünïcode {name}", "karma": 1.5}},
            "timestamp": 1700000000.25, "msg_id": name, "i": next(SERIAL),
            "username": "bodhi"}  # fmt: skip


class Signers:
    """fedmsg.crypto.sign with each certificate of a test CA."""

    def __init__(self, ca: TestCA) -> None:
        self.ca = ca
        self.fedmsg = real_fedmsg_crypto()

    def sign(self, certname: str, env: dict[str, Any]) -> dict[str, Any]:
        config = self.ca.fedmsg_config(certname=certname)
        return self.fedmsg.sign(copy.deepcopy(env), **config)  # type: ignore[no-any-return]


def start_hub(tmp_path: Path, ca: TestCA, publisher: TestPublisher, own: str) -> HubProcess:
    crypto = {"validate_signatures": True, "ca_cert_location": str(ca.ca_path),
              "crl_location": str(ca.crl_path), "routing_policy": {TOPIC: ["bodhi01", "revoked01"]},
              "sign_messages": True, "ssldir": str(ca.ssldir), "certname": "hub01"}  # fmt: skip
    consumers = {"r": recorder(tmp_path / "got.jsonl", topics=[TOPIC]),
                 "echo": {"class": "tests.plugins:Echo", "topics": [TOPIC]}}  # fmt: skip
    config = hub_config(publisher.endpoint, consumers, publish_endpoint=f"bind:{own}",
                        crypto=crypto)  # fmt: skip
    return HubProcess(tmp_path, config).start()


def test_fedmsg_signatures_through_a_hub(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """fedmsg-signed messages get in, hub-signed echoes pass fedmsg, four bad kinds are refused."""
    ca = TestCA(tmp_path / "pki")
    for name in ("bodhi01", "intruder01", "revoked01", "hub01"):
        ca.issue(name)
    ca.revoke("revoked01")
    signers = Signers(ca)
    own = f"tcp://127.0.0.1:{free_port()}"
    hub = start_hub(tmp_path, ca, publisher, own)
    hubs.append(hub)
    publisher.wait_subscribed([TOPIC])
    echoes = Echoes(own)
    try:
        for n in range(150):  # until the echo subscriber's subscription took hold
            publisher.send(signers.sign("bodhi01", envelope(f"probe-{n}")))
            if echoes.poll(0.2):
                break
        good = [signers.sign("bodhi01", envelope(f"good-{n}")) for n in range(5)]
        tampered = signers.sign("bodhi01", envelope("tampered"))
        tampered["msg"]["comment"]["karma"] = -1
        bad = [envelope("unsigned"), tampered, signers.sign("intruder01", envelope("intruder")),
               signers.sign("revoked01", envelope("revoked"))]  # fmt: skip
        for message in [m for pair in zip(good, [*bad, None], strict=True) for m in pair if m]:
            publisher.send(message)
        wait_until(lambda: [r for r in read_records(tmp_path / "got.jsonl")
                            if r["msg_id"] == "good-4"], what="the last good message")  # fmt: skip
        got = [r["msg_id"] for r in read_records(tmp_path / "got.jsonl")]
        assert [m for m in got if not m.startswith("probe-")] == [m["msg_id"] for m in good]
        status = wait_until(lambda: s if (s := hub.status()["hub"])["signatures_refused"] else None)
        assert status["signatures_refused"] == {"unsigned": 1, "bad_signature": 1,
                                                "not_allowed": 1, "revoked": 1}  # fmt: skip
        log = hub.log_text()
        assert f"refused msg_id intruder on {TOPIC} from intruder01 (not_allowed)" in log
        assert f"refused msg_id revoked on {TOPIC} from revoked01 (revoked)" in log
        echoes.check_signed_by_the_hub(ca, signers, {m["msg_id"] for m in good})
    finally:
        echoes.close()
    assert hub.stop() == 0


class Echoes:
    """A SUB socket on the hub's publish endpoint: what ``hub.publish()`` sent."""

    def __init__(self, endpoint: str) -> None:
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.SUBSCRIBE, b"")
        self.socket.connect(endpoint)
        self.seen: list[dict[str, Any]] = []

    def poll(self, seconds: float) -> bool:
        while self.socket.poll(int(seconds * 1000)):
            self.seen.append(orjson.loads(self.socket.recv_multipart()[1]))
            seconds = 0
        return bool(self.seen)

    def check_signed_by_the_hub(self, ca: TestCA, signers: Signers, wanted: set[str]) -> None:
        """Every wanted echo arrives and passes fedmsg.crypto.validate as signed by hub01; the
        same envelope with its body changed does not."""

        def origins() -> set[str]:
            self.poll(0.05)
            return {e["msg"]["echo"]["comment"]["text"].split()[-1] for e in self.seen}

        wait_until(lambda: wanted <= origins(), what="every echo")
        policy = {f"{TOPIC}.echo": ["hub01"]}
        config = ca.fedmsg_config(routing_policy=policy, routing_nitpicky=True)
        for echo in self.seen:
            assert echo["crypto"] == "x509"
            assert signers.fedmsg.validate(copy.deepcopy(echo), **config) is True
        changed = copy.deepcopy(self.seen[-1])
        changed["msg"]["echo"]["comment"]["karma"] = 0
        assert signers.fedmsg.validate(changed, **config) is False

    def close(self) -> None:
        self.socket.close(0)
        self.context.term()
