"""``consumer-hub publish`` and ``consumer-hub tail``: small ZeroMQ clients of the bus.

Runs on the main thread of a short-lived command, with blocking pyzmq calls (no reactor).

``publish`` uses an XPUB socket and waits until a subscriber's subscription to the topic has
arrived before sending: plain PUB would drop the message while the subscription is still in
flight (ZeroMQ's slow-joiner problem), and a fixed sleep would only make that less likely.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import orjson
import zmq

from hub.errors import DecodeError, EndpointError, HubError
from hub.routing.topics import TopicMatcher
from hub.transports.zeromq.codec import Encoder, decode
from hub.transports.zeromq.input import attach


def publish_one(endpoint: str, topic: str, body: Any, timeout_s: float = 5.0) -> dict[str, Any]:
    """Send one message to whoever subscribes at ``endpoint``; return the envelope sent.

    ``endpoint`` is connected to, or bound when it starts with ``bind:``.
    """
    context: zmq.SyncContext = zmq.Context.instance()
    sock = context.socket(zmq.XPUB)
    sock.setsockopt(zmq.LINGER, int(timeout_s * 1000))
    try:
        attach(sock, [endpoint])
        _wait_for_subscriber(sock, topic, timeout_s)
        envelope = Encoder().envelope(topic, body)
        sock.send_multipart([topic.encode("utf-8"), orjson.dumps(envelope)])
        return envelope
    finally:
        sock.close()


def _wait_for_subscriber(sock: zmq.SyncSocket, topic: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    wanted = topic.encode("utf-8")
    while (left := deadline - time.monotonic()) > 0:
        if not sock.poll(int(left * 1000), zmq.POLLIN):
            break
        frame = sock.recv()
        if frame[:1] == b"\x01" and wanted.startswith(frame[1:]):
            return
    raise EndpointError(f"no subscriber for {topic!r} reached us within {timeout_s:.0f} s")


def tail(
    endpoints: list[str],
    pattern: str,
    pretty: bool,
    out: TextIO = sys.stdout,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Print every message from ``endpoints`` whose topic matches ``pattern``; return count."""
    context: zmq.SyncContext = zmq.Context.instance()
    sock = context.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    attach(sock, endpoints)
    matcher = TopicMatcher([pattern])
    shown = 0
    try:
        while not stop():
            if not sock.poll(200):
                continue
            frames = sock.recv_multipart()
            try:
                message = decode(frames, 64 * 1024 * 1024, time.time())
            except DecodeError as exc:
                print(f"# bad message: {exc}", file=out, flush=True)
                continue
            if matcher.matches(message.topic):
                option = orjson.OPT_INDENT_2 if pretty else 0
                body = orjson.dumps(message.envelope, option=option).decode()
                print(f"{message.topic} {body}", file=out, flush=True)
                shown += 1
    finally:
        sock.close()
    return shown


def parse_body(text: str) -> Any:
    """The JSON body given on the command line."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise HubError(f"the message body is not valid JSON: {exc}") from None
