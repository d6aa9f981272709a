"""hub.transports.zeromq.publisher: every publish counted as published or dropped, drops logged
with their topic (rate-limited), the counts readable through figures(); forward() as it is."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest
import zmq

from hub.config import config_from_dict
from hub.errors import PublishFailed
from hub.message import Message
from hub.transports.base import BRIDGED
from hub.transports.zeromq.publisher import Publisher


class Reactor:
    """callFromThread runs the call at once, on the test's thread."""

    def callFromThread(self, f: Any, *args: Any) -> None:
        f(*args)


class FullSocket:
    """A PUB socket at its send high-water mark."""

    def send_multipart(self, frames: list[bytes], flags: int) -> None:
        raise zmq.Again()


def publisher() -> Publisher:
    config = config_from_dict({"endpoints": ["tcp://a:1"], "publish_endpoint": "tcp://b:2"})
    return Publisher(Reactor(), zmq.Context.instance(), config)


def test_figures_count_sent_and_dropped_publishes(caplog: pytest.LogCaptureFixture) -> None:
    """Sent publishes count as published; those the stopping hub or a full socket refused as
    publish_dropped; only the first drop of a burst is logged, naming its topic."""
    pub = publisher()
    sock = zmq.Context.instance().socket(zmq.PUB)
    sock.bind("inproc://publisher-test")
    pub.socket = sock  # start() would attach to publish_endpoint; the sending is the same
    assert pub.figures() == {"published": 0, "publish_dropped": 0}
    pub.publish("org.x.a", {"n": 1})
    pub.socket = FullSocket()  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, "hub.transports.zeromq.publisher"):
        pub.publish("org.x.b", {"n": 2})
        pub.socket = None
        pub.publish("org.x.c", {"n": 3})
    sock.close(linger=0)
    assert pub.figures() == {"published": 1, "publish_dropped": 2}
    (line,) = caplog.messages
    assert "org.x.b" in line and "high-water mark" in line


def test_forward_sends_the_envelope_as_it_is_and_fails_instead_of_dropping() -> None:
    """forward(): the SUB side gets the message's own msg_id, timestamp and i with the bridge
    marker; at the high-water mark or while stopping the Deferred fails with PublishFailed and
    nothing is counted as dropped."""
    pub = publisher()
    sock = zmq.Context.instance().socket(zmq.PUB)
    sock.bind("inproc://publisher-forward")
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect("inproc://publisher-forward")
    sub.subscribe(b"")
    sock.send(b"probe")
    while not sub.poll(10):  # until the subscription took hold
        sock.send(b"probe")
    while sub.poll(0):
        sub.recv_multipart()
    pub.socket = sock
    envelope = {"topic": "org.x.a", "msg": {"n": 1}, "msg_id": "2026-abc", "timestamp": 12.5,
                "i": 7, "headers": {"h": 1}}  # fmt: skip
    taken = []
    pub.forward(Message("org.x.a", envelope)).addCallback(taken.append)
    topic, payload = sub.recv_multipart()
    sent = orjson.loads(payload)
    assert topic == b"org.x.a" and taken == [None]
    assert {k: sent[k] for k in envelope} == {**envelope, "headers": {"h": 1, BRIDGED: "zmq"}}
    failures: list[Any] = []
    pub.socket = FullSocket()  # type: ignore[assignment]
    pub.forward(Message("org.x.a", envelope)).addErrback(failures.append)
    pub.socket = None
    pub.forward(Message("org.x.a", envelope)).addErrback(failures.append)
    sock.close(linger=0)
    sub.close(linger=0)
    assert [f.check(PublishFailed) for f in failures] == [PublishFailed, PublishFailed]
    assert "high-water mark" in str(failures[0].value) and "stopping" in str(failures[1].value)
    assert pub.figures() == {"published": 1, "publish_dropped": 0}
