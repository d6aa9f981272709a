"""``consumer-hub publish`` and ``consumer-hub tail``: small ZeroMQ clients of the bus.

Runs on the main thread of a short-lived command, with blocking pyzmq calls (no reactor).

`Publisher` uses an XPUB socket and sends a message only once a subscriber's subscription
covering its topic has arrived: plain PUB would drop the message while the subscription is still
in flight (ZeroMQ's slow-joiner problem), and a fixed sleep would only make that less likely.
With ``XPUB_NODROP`` a subscriber that is slow to read makes ``send`` wait (up to the timeout)
instead of dropping, so a file of many messages arrives whole.

`tail` prints ``TOPIC JSON`` lines, or with ``as_json`` one envelope per line (its ``topic``
always set): the JSON-lines format `hub.cli.bus` reads back with ``publish --file``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TextIO

import orjson
import zmq

from hub.errors import DecodeError, EndpointError
from hub.routing.topics import TopicMatcher
from hub.transports.zeromq.codec import Encoder, decode, encode_envelope
from hub.transports.zeromq.input import attach

log = logging.getLogger(__name__)


class Publisher:
    """One XPUB socket on ``endpoint`` (connected, or bound with ``bind:``); a context manager."""

    def __init__(self, endpoint: str, timeout_s: float = 5.0) -> None:
        self.timeout_s = timeout_s
        self.prefixes: set[bytes] = set()  # the subscriptions that reached us, still active
        context: zmq.SyncContext = zmq.Context.instance()
        self.sock = context.socket(zmq.XPUB)
        self.sock.setsockopt(zmq.LINGER, int(timeout_s * 1000))
        self.sock.setsockopt(zmq.XPUB_NODROP, 1)
        self.sock.setsockopt(zmq.SNDTIMEO, int(timeout_s * 1000))
        try:
            attach(self.sock, [endpoint], "publish")
        except EndpointError:
            self.sock.close(0)
            raise

    def send(self, envelope: dict[str, Any]) -> None:
        """Send ``envelope`` once a subscriber wants its topic; `EndpointError` on time-out."""
        topic = str(envelope["topic"])
        self._wait_for_subscriber(topic)
        try:
            self.sock.send_multipart(encode_envelope(envelope))
        except zmq.Again:
            wait = f"{self.timeout_s:g} s"
            raise EndpointError(f"the subscriber did not take {topic!r} within {wait}") from None

    def _wait_for_subscriber(self, topic: str) -> None:
        wanted = topic.encode("utf-8")
        deadline = time.monotonic() + self.timeout_s
        while not any(wanted.startswith(prefix) for prefix in self.prefixes):
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(int(left * 1000), zmq.POLLIN):
                raise EndpointError(
                    f"no subscriber for {topic!r} reached us within {self.timeout_s:g} s"
                )
            frame = self.sock.recv()
            if frame[:1] == b"\x01":
                self.prefixes.add(frame[1:])
            elif frame[:1] == b"\x00":
                self.prefixes.discard(frame[1:])

    def close(self) -> None:
        """Close the socket; what is queued still goes out for up to the timeout (LINGER)."""
        self.sock.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def publish_one(endpoint: str, topic: str, body: Any, timeout_s: float = 5.0) -> dict[str, Any]:
    """Send one message to whoever subscribes at ``endpoint``; return the envelope sent."""
    envelope = Encoder().envelope(topic, body)
    with Publisher(endpoint, timeout_s) as publisher:
        publisher.send(envelope)
    return envelope


def tail(
    endpoints: Iterable[str],
    pattern: str,
    render: Callable[[str, dict[str, Any]], str],
    out: TextIO = sys.stdout,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Print every message from ``endpoints`` whose topic matches ``pattern``, as ``render``
    makes it a line; return the count. Logs "subscribed" (stderr) once the socket is set up."""
    context: zmq.SyncContext = zmq.Context.instance()
    sock = context.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    try:
        attach(sock, endpoints, "tail")
        log.info("tail: subscribed to topics matching %r", pattern)
        return _print_messages(sock, TopicMatcher([pattern]), render, out, stop)
    finally:
        sock.close()


def _print_messages(
    sock: zmq.SyncSocket,
    matcher: TopicMatcher,
    render: Callable[[str, dict[str, Any]], str],
    out: TextIO,
    stop: Callable[[], bool],
) -> int:
    shown = 0
    while not stop():
        if not sock.poll(200):
            continue
        frames = sock.recv_multipart()
        try:
            message = decode(frames, 64 * 1024 * 1024, time.time())
        except DecodeError as exc:
            print(f"# bad message: {exc}", file=sys.stderr, flush=True)
            continue
        if matcher.matches(message.topic):
            print(render(message.topic, message.envelope), file=out, flush=True)
            shown += 1
    return shown


def render_line(pretty: bool) -> Callable[[str, dict[str, Any]], str]:
    """``TOPIC JSON``, the JSON indented when ``pretty``."""
    option = orjson.OPT_INDENT_2 if pretty else 0
    return lambda topic, envelope: f"{topic} {orjson.dumps(envelope, option=option).decode()}"


def render_json(topic: str, envelope: dict[str, Any]) -> str:
    """One envelope as one JSON line, with its ``topic`` (an envelope may leave it out)."""
    return orjson.dumps({**envelope, "topic": topic}).decode()
