"""The benchmark publisher: a separate process that sends stamped real samples on a PUB socket.

``publish_main`` runs in the publisher process (started with the ``spawn`` method, so it shares
nothing with the bench). ``Publisher`` is its handle and runs in the bench process's main thread.

Protocol over a ``multiprocessing`` pipe: the child binds an ephemeral TCP port and sends
``("port", port)``; it then sends warm-up messages (``seq == -1``) every few milliseconds until
the parent says ``"go"``; then it sends ``count`` messages, cycling the samples, as fast as it can
(``rate == 0``) or paced to ``rate`` messages a second, replies ``("sent", first_ns, last_ns)``,
and keeps its socket open until ``"stop"`` so that nothing queued is discarded.

The send high-water mark is set above the whole run, so a PUB socket never drops a message
silently: if the receiver falls behind, the messages wait in this process's memory.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

import zmq

from bench.wire import WARMUP_SEQ, Template, make_templates

log = logging.getLogger(__name__)

WARMUP_INTERVAL_S = 0.005
HWM_MARGIN = 100_000


def publish_main(conn: Connection, count: int, rate: float) -> None:
    """Publisher process entry point (see the module docstring for the protocol)."""
    templates = make_templates()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUB)
    sock.setsockopt(zmq.SNDHWM, count + HWM_MARGIN)
    sock.setsockopt(zmq.LINGER, 0)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    conn.send(("port", port))
    if _warm_up(conn, sock, templates[0]) == "go":
        first_ns, last_ns = _send_run(sock, templates, count, rate)
        conn.send(("sent", first_ns, last_ns))
        conn.recv()  # "stop"
    sock.close()
    ctx.term()


def _warm_up(conn: Connection, sock: zmq.SyncSocket, template: Template) -> str:
    """Send warm-up messages until the parent says "go" (or "stop"); return what it said."""
    while not conn.poll(WARMUP_INTERVAL_S):
        sock.send_multipart(template.frames(WARMUP_SEQ, time.monotonic_ns()))
    return str(conn.recv())


def _send_run(
    sock: zmq.SyncSocket, templates: list[Template], count: int, rate: float
) -> tuple[int, int]:
    """Send ``count`` messages, paced to ``rate`` a second if non-zero; return first/last times."""
    send = sock.send_multipart
    n_templates = len(templates)
    start = time.monotonic_ns()
    period_ns = 1e9 / rate if rate else 0.0
    for seq in range(count):
        if period_ns:
            wait_until(start + int(seq * period_ns))
        send(templates[seq % n_templates].frames(seq, time.monotonic_ns()))
    return start, time.monotonic_ns()


def wait_until(due_ns: int) -> None:
    """Sleep until ``due_ns``; if the sleep overshoots, the caller catches up back to back."""
    delay = due_ns - time.monotonic_ns()
    if delay > 0:
        time.sleep(delay / 1e9)


class PublisherProcess:
    """Bench-side handle on one publisher process (one per measured run), on the bench
    process's main thread: it spawns the child, then speaks the pipe protocol."""

    label = "publisher"
    stop_when_sent = True  # send "stop" even after "sent" (the child waits for it to close)

    def __init__(self, count: int) -> None:
        self.count = count
        self.first_ns = 0
        self.last_ns = 0
        self._conn: Connection | None = None
        self._process: Any = None

    def _spawn(self, target: Any, args: tuple[Any, ...], name: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=target, args=(child, *args), name=name)
        self._process.start()

    def go(self) -> None:
        """End the warm-up and start the timed run."""
        assert self._conn is not None
        self._conn.send("go")

    def wait_sent(self, timeout: float) -> None:
        """Wait until every message has been handed to the transport's socket."""
        _, self.first_ns, self.last_ns = self._expect("sent", timeout)

    @property
    def send_rate(self) -> float:
        """Messages a second the publisher achieved (an upper bound for any receiver)."""
        return self.count / max(self.last_ns - self.first_ns, 1) * 1e9

    def stop(self) -> None:
        """Let the process close its socket and exit (it is killed if it does not)."""
        alive = self._conn is not None and self._process.is_alive()
        if alive and (self.stop_when_sent or not self.last_ns):
            assert self._conn is not None
            self._conn.send("stop")
        if self._process is not None:
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()

    def _expect(self, kind: str, timeout: float) -> tuple[Any, ...]:
        assert self._conn is not None
        if not self._conn.poll(timeout):
            raise RuntimeError(f"{self.label}: no {kind!r} reply within {timeout:.0f} s")
        reply = self._conn.recv()
        if reply[0] != kind:
            raise RuntimeError(f"{self.label}: expected {kind!r}, got {reply!r}")
        return tuple(reply)


class Publisher(PublisherProcess):
    """The ZeroMQ publisher process: binds an ephemeral port, warms up, sends the run."""

    def __init__(self, count: int, rate: float = 0.0) -> None:
        super().__init__(count)
        self.rate = rate
        self.port = 0

    @property
    def endpoint(self) -> str:
        """Where a subscriber connects."""
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process and wait for its bound port."""
        self._spawn(publish_main, (self.count, self.rate), "bench-publisher")
        self.port = self._expect("port", 30)[1]
