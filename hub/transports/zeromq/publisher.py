"""The PUB socket behind ``hub.publish(topic, body)``.

``publish`` may be called from any thread (typically a consumer's worker): it builds and encodes
the envelope on the calling thread, then hands the frames to the reactor thread with
``reactor.callFromThread``, because ZeroMQ sockets must not be shared between threads. The socket
itself is opened, written and closed only on the reactor thread.
"""

from __future__ import annotations

import logging
from typing import Any

import zmq

from hub.config import HubConfig
from hub.errors import HubError
from hub.transports.zeromq.codec import Encoder
from hub.transports.zeromq.input import apply_options, attach

log = logging.getLogger(__name__)


class Publisher:
    """The hub's own PUB socket; a no-op-with-error when no ``publish_endpoint`` is set."""

    def __init__(self, reactor: Any, context: zmq.Context, config: HubConfig) -> None:
        self.reactor = reactor
        self.context = context
        self.config = config
        self.encoder = Encoder()
        self.socket: zmq.Socket | None = None
        self.sent = 0
        self.dropped = 0

    def start(self) -> None:
        """Open the PUB socket (reactor thread); bind or connect ``publish_endpoint``."""
        if self.config.publish_endpoint is None:
            return
        sock = self.context.socket(zmq.PUB)
        apply_options(sock, self.config)
        sock.setsockopt(zmq.SNDHWM, self.config.zmq.sndhwm)
        attach(sock, [self.config.publish_endpoint], role="publish")
        self.socket = sock

    def stop(self) -> None:
        if self.socket is not None:
            self.socket.close(linger=1000)
            self.socket = None

    def publish(self, topic: str, body: Any) -> None:
        """Send ``body`` on ``topic`` as a fedmsg message. Safe from any thread."""
        if self.config.publish_endpoint is None:
            raise HubError("hub.publish() needs publish_endpoint in the configuration")
        frames = self.encoder.encode(topic, body)
        self.reactor.callFromThread(self._send, frames)

    def _send(self, frames: list[bytes]) -> None:
        if self.socket is None:
            self.dropped += 1
            log.warning("publish: dropped a message on %r: the hub is stopping", frames[0])
            return
        try:
            self.socket.send_multipart(frames, zmq.NOBLOCK)
            self.sent += 1
        except zmq.Again:
            self.dropped += 1
            log.warning("publish: dropped a message on %r: send high-water mark reached", frames[0])
