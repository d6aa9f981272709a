"""The PUB socket behind ``hub.publish(topic, body)``.

``publish`` may be called from any thread (typically a consumer's worker): it builds and encodes
the envelope on the calling thread, then hands the frames to the reactor thread with
``reactor.callFromThread``, because ZeroMQ sockets must not be shared between threads. The socket
itself is opened, written and closed only on the reactor thread.

Every publish is counted, as published or dropped (the hub stopping, or the send high-water
mark reached); ``figures`` reads both counts from any thread. A dropped publish is logged with
its topic, at most one line per ``DROP_LOG_EVERY_S`` (the next line says how many were not).

``forward`` (a bridge's ``hub.forward()``, on the reactor) sends a message on as it is and
fails its Deferred with `PublishFailed` instead of dropping, so the caller can try again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import zmq
from twisted.internet import defer

from hub.config import HubConfig
from hub.errors import HubError, PublishFailed
from hub.message import Message
from hub.transports.base import BRIDGED
from hub.transports.zeromq.codec import Encoder
from hub.transports.zeromq.curve import Curve
from hub.transports.zeromq.input import ConnectionMonitor, apply_options, attach

log = logging.getLogger(__name__)

DROP_LOG_EVERY_S = 10.0


class Publisher:
    """The hub's own PUB socket; a no-op-with-error when no ``publish_endpoint`` is set."""

    def __init__(
        self,
        reactor: Any,
        context: zmq.SyncContext,
        config: HubConfig,
        curve: Curve | None = None,
        sign: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.reactor = reactor
        self.context = context
        self.config = config
        self.curve = curve
        self.encoder = Encoder(sign=sign)  # hub.publish() signs when crypto.sign_messages
        self.socket: zmq.SyncSocket | None = None
        self.monitor: ConnectionMonitor | None = None  # with CURVE: refused subscribers counted
        self._lock = threading.Lock()  # guards the counts below
        self._sent = 0
        self._dropped = 0
        self._unlogged = 0  # drops not logged since the last drop line
        self._logged_at = -DROP_LOG_EVERY_S  # time.monotonic() of the last drop line

    def figures(self) -> dict[str, int]:
        """How many publishes went out and how many were dropped, so far (any thread)."""
        with self._lock:
            return {"published": self._sent, "publish_dropped": self._dropped}

    def start(self) -> None:
        """Open the PUB socket (reactor thread); bind or connect ``publish_endpoint``."""
        if self.config.publish_endpoint is None:
            return
        sock = self.context.socket(zmq.PUB)
        apply_options(sock, self.config)
        sock.setsockopt(zmq.SNDHWM, self.config.zmq.sndhwm)
        if self.curve is not None and self.curve.serve(sock, "pub"):
            refused = partial(self.curve.refused, "pub")
            endpoints = [self.config.publish_endpoint]
            self.monitor = ConnectionMonitor(self.reactor, sock, endpoints, refused, "publish")
            self.monitor.start()
        attach(sock, [self.config.publish_endpoint], role="publish")
        self.socket = sock

    def stop(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        if self.socket is not None:
            self.socket.close(linger=1000)
            self.socket = None

    def publish(self, topic: str, body: Any) -> None:
        """Send ``body`` on ``topic`` as a fedmsg message. Safe from any thread."""
        if self.config.publish_endpoint is None:
            raise HubError("hub.publish() needs publish_endpoint in the configuration")
        frames = self.encoder.encode(topic, body)
        self.reactor.callFromThread(self._send, frames)

    def forward(self, message: Message) -> defer.Deferred[None]:
        """Send ``message`` on as it is (reactor thread): fires once it is on the socket."""
        if self.socket is None:
            why = "no publish_endpoint" if self.config.publish_endpoint is None else "stopping"
            return defer.fail(PublishFailed(f"cannot send on ZeroMQ: {why}"))
        try:
            self.socket.send_multipart(self.encoder.forwarded(message, BRIDGED), zmq.NOBLOCK)
        except zmq.Again:
            return defer.fail(PublishFailed("the ZeroMQ send high-water mark is reached"))
        with self._lock:
            self._sent += 1
        return defer.succeed(None)

    def _send(self, frames: list[bytes]) -> None:
        if self.socket is None:
            self._drop(frames[0], "the hub is stopping")
            return
        try:
            self.socket.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            self._drop(frames[0], "send high-water mark reached")
            return
        with self._lock:
            self._sent += 1

    def _drop(self, topic: bytes, why: str) -> None:
        """Count a dropped publish; log it unless a drop was logged in the last
        ``DROP_LOG_EVERY_S``."""
        now = time.monotonic()
        with self._lock:
            self._dropped += 1
            if now - self._logged_at < DROP_LOG_EVERY_S:
                self._unlogged += 1
                return
            total, unlogged = self._dropped, self._unlogged
            self._unlogged, self._logged_at = 0, now
        log.warning("publish: dropped a message on %s: %s (%d publish(es) dropped so far, %d "
                    "of them not logged)", topic.decode("utf-8", "replace"), why, total,
                    unlogged)  # fmt: skip
