"""The SUB socket, read on the reactor thread: frames in, nothing else.

Everything here runs on the reactor thread. `ZmqInput` is an ``IReadDescriptor`` on the
socket's file descriptor. ZeroMQ's FD is edge-triggered, so each wake-up drains until ``EAGAIN``
or ``batch_size`` messages, whichever comes first, and schedules itself again when it stopped
early. It hands each batch of raw frame lists on to ``on_batch``; it does no decoding or routing.
Bad input never raises out of ``on_batch`` (it is counted there); if anything else does, that
is a defect: input stops for good and ``on_failure`` is told, so the hub stops (exit 1, and
systemd restarts it) instead of running on without input, as Twisted would leave it.
`ConnectionMonitor` follows the socket's monitor events so ``connected`` tells whether any
upstream is connected (a bound endpoint counts as connected once bound; with CURVE, a peer
counts once its handshake succeeded, and each failed one is reported to
`hub.transports.zeromq.curve.Curve.refused`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import zmq
from twisted.internet.interfaces import IReadDescriptor
from zmq.utils.monitor import recv_monitor_message
from zope.interface import implementer

from hub.config import HubConfig
from hub.errors import EndpointError
from hub.transports.zeromq.curve import Curve

log = logging.getLogger(__name__)

Batch = list[list[bytes]]
HANDSHAKE_SUCCEEDED = int(zmq.EVENT_HANDSHAKE_SUCCEEDED)
HANDSHAKE_FAILED: dict[int, str] = {  # a failed handshake's event -> why it is counted
    int(zmq.EVENT_HANDSHAKE_FAILED_AUTH): "unknown_key",  # ZAP said no
    int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL): "handshake",  # no CURVE, or the wrong server key
    int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL): "handshake",
}


def apply_options(sock: zmq.SyncSocket, config: HubConfig) -> None:
    """Socket options shared by the SUB (and PUB) sockets."""
    z = config.zmq
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RECONNECT_IVL, z.reconnect_ivl_ms)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, z.reconnect_ivl_max_ms)
    sock.setsockopt(zmq.TCP_KEEPALIVE, 1 if z.tcp_keepalive else 0)
    sock.setsockopt(zmq.TCP_KEEPALIVE_IDLE, z.tcp_keepalive_idle_s)
    sock.setsockopt(zmq.TCP_KEEPALIVE_INTVL, z.tcp_keepalive_interval_s)
    sock.setsockopt(zmq.TCP_KEEPALIVE_CNT, z.tcp_keepalive_count)


def attach(sock: zmq.SyncSocket, endpoints: Iterable[str], role: str = "input") -> None:
    """Connect to each endpoint, or bind where it starts with ``bind:``; log as ``role``."""
    for endpoint in endpoints:
        bind = endpoint.startswith("bind:")
        address = endpoint.removeprefix("bind:")
        try:
            sock.bind(address) if bind else sock.connect(address)
        except zmq.ZMQError as exc:
            verb = "bind" if bind else "connect"
            raise EndpointError(f"cannot {verb} {address}: {exc}") from exc
        log.info("%s: %s %s", role, "bound" if bind else "connecting to", address)


def receive(sock: zmq.SyncSocket, limit: int) -> Batch:
    """Up to ``limit`` multipart messages, without blocking.

    Each part is read as a `zmq.Frame` (``copy=False``), whose ``more`` says whether another
    part follows, then copied to ``bytes``: cheaper than ``recv_multipart``, which asks
    ``getsockopt(RCVMORE)`` per part and converts the option through an ``Enum`` each time
    (2.7 -> 1.9 µs a two-part message; docs/benchmarks.md). The parts of a multipart message
    arrive together, so only the first ``recv`` can raise ``zmq.Again``. Parts past the third
    are counted but not copied (``b""``): the message is refused for its frame count anyway.
    """
    batch: Batch = []
    recv = sock.recv
    try:
        while len(batch) < limit:
            frame = recv(zmq.NOBLOCK, copy=False)
            frames = [frame.bytes]
            while frame.more:
                frame = recv(zmq.NOBLOCK, copy=False)
                frames.append(frame.bytes if len(frames) < 3 else b"")
            batch.append(frames)
    except zmq.Again:
        pass
    return batch


@implementer(IReadDescriptor)
class ZmqInput:
    """The hub's SUB socket: drain in batches, pause and resume on the router's word."""

    def __init__(
        self,
        reactor: Any,
        context: zmq.SyncContext,
        *,
        config: HubConfig,
        on_batch: Callable[[Batch], None],
        on_failure: Callable[[Exception], None],
        curve: Curve | None = None,
    ) -> None:
        self.reactor = reactor
        self.curve = curve
        self.context = context
        self.config = config
        self.on_batch = on_batch
        self.on_failure = on_failure
        self.failure: Exception | None = None
        self.socket: zmq.SyncSocket | None = None
        self.monitor: ConnectionMonitor | None = None
        self.paused = False
        self.subscribed: set[str] = set()

    def start(self, prefixes: Iterable[str]) -> None:
        """Open, subscribe, connect or bind, and start reading."""
        sock = self.socket = self.context.socket(zmq.SUB)
        apply_options(sock, self.config)
        sock.setsockopt(zmq.RCVHWM, self.config.zmq.rcvhwm)
        curve = self.curve
        refused = partial(curve.refused, "sub") if curve and curve.serve(sock, "sub") else None
        self.subscribe(prefixes)
        self.monitor = ConnectionMonitor(self.reactor, sock, self.config.endpoints, refused)
        self.monitor.start()
        attach(sock, self.config.endpoints)
        self.reactor.addReader(self)
        self.doRead()

    def subscribe(self, prefixes: Iterable[str]) -> None:
        """Make the upstream subscriptions exactly ``prefixes`` (start-up and reload)."""
        assert self.socket is not None
        wanted = set(prefixes)
        for prefix in sorted(wanted - self.subscribed):
            self.socket.setsockopt(zmq.SUBSCRIBE, prefix.encode("utf-8"))
        for prefix in sorted(self.subscribed - wanted):
            self.socket.setsockopt(zmq.UNSUBSCRIBE, prefix.encode("utf-8"))
        self.subscribed = wanted
        log.info("input: subscribed to %s", ", ".join(repr(p) for p in sorted(wanted)))

    def stop(self) -> None:
        """Stop reading and close the socket; nothing queued inside ZeroMQ is read after this."""
        if self.socket is None:
            return
        self.reactor.removeReader(self)
        if self.monitor is not None:
            self.monitor.stop()
        self.socket.close(linger=0)
        self.socket = None

    def pause(self) -> None:
        if not self.paused and self.socket is not None:
            self.paused = True
            self.reactor.removeReader(self)

    def resume(self) -> None:
        if self.paused and self.socket is not None and self.failure is None:
            self.paused = False
            self.reactor.addReader(self)
            self.doRead()  # edge-triggered: messages may already be waiting

    @property
    def connected(self) -> bool:
        return self.monitor is not None and self.monitor.connected

    def fileno(self) -> int:
        return self.socket.getsockopt(zmq.FD) if self.socket is not None else -1  # type: ignore[return-value]

    def doRead(self) -> None:
        sock = self.socket
        if sock is None or self.paused:
            return
        limit = self.config.zmq.batch_size
        batch = receive(sock, limit)
        if batch:
            try:
                self.on_batch(batch)
            except Exception as error:
                self._fail(error, len(batch))
                return
        if len(batch) >= limit and self.socket is not None and not self.paused:
            self.reactor.callLater(0, self.doRead)

    def _fail(self, error: Exception, count: int) -> None:
        """A defect downstream of the socket: every later batch would likely fail the same way,
        so stop reading for good and report it."""
        log.critical("input: handling a batch of %d message(s) failed; input stops and the hub "
                     "stops (exit 1); messages of this batch not yet delivered or written are "
                     "lost", count, exc_info=error)  # fmt: skip
        self.failure = error
        self.pause()
        self.on_failure(error)

    def connectionLost(self, reason: object) -> None:
        log.warning("input: socket lost: %s", reason)

    def logPrefix(self) -> str:
        return "zmq-input"


@implementer(IReadDescriptor)
class ConnectionMonitor:
    """Counts live upstream connections from the SUB socket's monitor events."""

    def __init__(
        self,
        reactor: Any,
        sock: zmq.SyncSocket,
        endpoints: Iterable[str],
        on_refused: Callable[[str, str], None] | None = None,
        role: str = "input",
    ) -> None:
        self.reactor = reactor
        self.role = role
        self.sock = sock
        self.bound = any(e.startswith("bind:") for e in endpoints)
        self.peers = 0
        self.on_refused = on_refused  # CURVE: (why, endpoint) of each failed handshake
        self.handshaken: set[str] = set()  # CURVE: endpoints whose handshake succeeded
        self.pipe: zmq.SyncSocket | None = None

    @property
    def connected(self) -> bool:
        if self.on_refused is not None:
            return self.bound or bool(self.handshaken)
        return self.bound or self.peers > 0

    def start(self) -> None:
        events = zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED
        if self.on_refused is not None:
            events |= HANDSHAKE_SUCCEEDED | sum(HANDSHAKE_FAILED)
        self.pipe = self.sock.get_monitor_socket(events)
        self.reactor.addReader(self)
        self.reactor.callLater(0, self.doRead)  # edge-triggered: catch what is already there

    def stop(self) -> None:
        if self.pipe is not None:
            self.reactor.removeReader(self)
            self.sock.disable_monitor()
            self.pipe.close(linger=0)
            self.pipe = None

    def fileno(self) -> int:
        return self.pipe.getsockopt(zmq.FD) if self.pipe is not None else -1  # type: ignore[return-value]

    def doRead(self) -> None:
        while self.pipe is not None:
            try:
                event = recv_monitor_message(self.pipe, zmq.NOBLOCK)
            except zmq.Again:
                return
            self._event(event["event"], event["endpoint"].decode("utf-8", "replace"))

    def _event(self, kind: int, endpoint: str) -> None:
        if kind == zmq.EVENT_CONNECTED:
            self.peers += 1
            log.info("%s: connected to %s", self.role, endpoint)
        elif kind == zmq.EVENT_DISCONNECTED:
            self.peers = max(0, self.peers - 1)
            self.handshaken.discard(endpoint)
            log.warning("%s: disconnected from %s", self.role, endpoint)
        elif kind == HANDSHAKE_SUCCEEDED:
            self.handshaken.add(endpoint)
        elif kind in HANDSHAKE_FAILED and self.on_refused is not None:
            self.on_refused(HANDSHAKE_FAILED[kind], endpoint)

    def connectionLost(self, reason: object) -> None:
        pass

    def logPrefix(self) -> str:
        return "zmq-monitor"
