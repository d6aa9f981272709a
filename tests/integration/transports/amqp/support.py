"""Helpers for the AMQP integration tests: a reactor thread, collected deliveries, a TCP proxy.

The tests run on pytest's main thread; the Twisted reactor runs in a `ReactorThread` (started
once per session) and every call into `AmqpConnection` goes through `ReactorThread.call`, which
runs it on the reactor and waits, with a deadline, for its result (a Deferred's included).
Deliveries are put on a thread-safe queue that the test reads with a deadline, and the broker's
side is read with ``rabbitmqctl`` (`tests.integration.servers.rabbitmq.RabbitMQ.queues`), so no
test waits by sleeping.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import pika
from twisted.internet import defer
from twisted.protocols import portforward

from hub.transports.amqp.channel import Delivery
from hub.transports.amqp.wire import Encoded

TIMEOUT_S = 20.0


class ReactorThread:
    """The global Twisted reactor, running in a daemon thread for the session."""

    def __init__(self) -> None:
        from twisted.internet import reactor

        self.reactor: Any = reactor
        self.thread = threading.Thread(target=self._run, daemon=True, name="reactor")

    def _run(self) -> None:
        self.reactor.run(installSignalHandlers=False)

    def start(self) -> ReactorThread:
        self.thread.start()
        self.call(lambda: None)  # returns once the reactor runs calls
        return self

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = TIMEOUT_S) -> Any:
        """Run ``fn(*args)`` on the reactor; return its result (waiting for a Deferred's)."""
        done: queue.Queue[tuple[bool, Any]] = queue.Queue()

        def run() -> None:
            d = defer.maybeDeferred(fn, *args)
            d.addCallbacks(lambda r: done.put((True, r)), lambda f: done.put((False, f)))

        self.reactor.callFromThread(run)
        ok, result = done.get(timeout=timeout)
        if not ok:
            result.raiseException()
        return result

    def stop(self) -> None:
        self.reactor.callFromThread(self.reactor.stop)
        self.thread.join(10)


class Deliveries:
    """``on_delivery`` for a test: deliveries queued for the test thread to take in order."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Delivery] = queue.Queue()

    def __call__(self, delivery: Delivery) -> None:
        self.queue.put(delivery)

    def take(self, count: int = 1, timeout: float = TIMEOUT_S) -> list[Delivery]:
        """The next ``count`` deliveries; fail if they do not all come within ``timeout``."""
        deadline = time.monotonic() + timeout
        out = []
        for _ in range(count):
            try:
                out.append(self.queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"{len(out)} of {count} deliveries came") from None
        return out

    def pending(self) -> int:
        return self.queue.qsize()


def publish(url: str, *messages: Encoded, exchange: str = "amq.topic") -> None:
    """Publish with a blocking pika connection and publisher confirms (the test's publisher)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for message in messages:
            channel.basic_publish(
                exchange, message.routing_key, message.body, message.properties, mandatory=True
            )
    finally:
        connection.close()


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT_S) -> Any:
    """Poll ``predicate`` until truthy (its value is returned); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return result


class _TrackedServer(portforward.ProxyServer):
    def connectionMade(self) -> None:
        self.factory.servers.add(self)  # type: ignore[attr-defined]
        super().connectionMade()

    def connectionLost(self, reason: Any = None) -> None:
        self.factory.servers.discard(self)  # type: ignore[attr-defined]
        super().connectionLost(reason)


class Proxy(portforward.ProxyFactory):
    """A loopback TCP proxy to the broker whose connections a test can cut abruptly."""

    protocol = _TrackedServer

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        self.servers: set[_TrackedServer] = set()

    def cut(self) -> int:
        """Abort every proxied connection at both ends (no AMQP close): a network failure."""
        servers = list(self.servers)
        for server in servers:
            for end in (server, server.peer):
                transport: Any = end and end.transport
                if transport is not None:
                    transport.abortConnection()
        return len(servers)
