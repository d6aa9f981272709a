"""hub.transports.zeromq.publisher: every publish counted as published or dropped, drops logged
with their topic (rate-limited), the counts readable through figures()."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import zmq

from hub.config import config_from_dict
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
