"""The archive benchmark's messages and their publisher (`bench.archive_runs`).

`archive_envelopes` is pure and runs wherever messages are built: in the publisher process for
the hub, on the bench process's main thread for datanommer's baseline. `archive_publish_main`
runs in a publisher process of its own (``spawn``); `ArchivePublisher`, its handle, runs on the
bench process's main thread.

The messages are the bundled real samples (``hub.data.load_samples()``), cycled, each with a
unique ``msg_id`` (``<tag>-<seq>``), a unique ``timestamp`` (1 ms apart) and an ``i`` numbered
per publishing identity, as `bench.wire` numbers them; the body is the sample's own, unstamped
(a ``"bench"`` key could change which schema class claims it, and so the work of naming its
users and packages).

Unlike `bench.publisher`, the warm-up messages are archived too, and so are counted: the first
``warmup`` messages of the run (one cycle of the samples, so every schema class the archive asks
is loaded and compiled before the timing), then ``count`` timed ones. Readiness is the hub's
subscription itself, seen on an XPUB socket. Protocol over the pipe: the child renders every
message, binds an ephemeral port and sends ``("port", port)``; once the hub's ``""``
subscription arrives it sends ``("subscribed",)``; on ``"warm"`` it sends the warm-up messages
and replies ``("warmed",)``; on ``"go"`` it sends the timed ones as fast as it can, replies
``("sent", first_ns, last_ns)`` and keeps its socket open until ``"stop"``. The send
high-water mark is above the run, so nothing is ever dropped.
"""

from __future__ import annotations

import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

import orjson
import zmq

from bench.publisher import HWM_MARGIN, PublisherProcess
from bench.wire import identity
from hub.data import load_samples

BASE_TIME = 1_700_000_000.0  # 2023-11-14: the first message's timestamp
STEP_S = 0.001
POLL_MS = 50


def archive_envelopes(count: int, tag: str) -> list[dict[str, Any]]:
    """``count`` envelopes: the samples cycled, each with its own msg_id, timestamp and i."""
    samples = load_samples()
    numbered: Counter[tuple[str, str, str]] = Counter()
    envelopes = []
    for seq in range(count):
        sample = samples[seq % len(samples)]
        key = identity(sample)
        numbered[key] += 1
        envelopes.append({**sample, "msg_id": f"{tag}-{seq}", "i": numbered[key],
                          "timestamp": BASE_TIME + seq * STEP_S})  # fmt: skip
    return envelopes


def archive_publish_main(conn: Connection, count: int, tag: str, warmup: int) -> None:
    """Publisher process entry point (see the module docstring for the protocol)."""
    envelopes = archive_envelopes(warmup + count, tag)
    frames = [(str(e["topic"]).encode(), orjson.dumps(e)) for e in envelopes]
    ctx = zmq.Context()
    sock = ctx.socket(zmq.XPUB)
    sock.setsockopt(zmq.SNDHWM, warmup + count + HWM_MARGIN)
    sock.setsockopt(zmq.LINGER, 0)
    conn.send(("port", sock.bind_to_random_port("tcp://127.0.0.1")))
    if _subscribed(conn, sock):
        conn.send(("subscribed",))
        if conn.recv() == "warm":
            _send(sock, frames[:warmup])
            conn.send(("warmed",))
            if conn.recv() == "go":
                conn.send(("sent", *_send(sock, frames[warmup:])))
                conn.recv()  # "stop"
    sock.close()
    ctx.term()


def _send(sock: zmq.SyncSocket, frames: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """Send every message, back to back; the first and last send times."""
    send = sock.send_multipart
    first_ns = time.monotonic_ns()
    for message in frames:
        send(message)
    return first_ns, time.monotonic_ns()


def _subscribed(conn: Connection, sock: zmq.SyncSocket) -> bool:
    """Wait for a subscription to everything (``""``); False if the parent says stop first."""
    while not conn.poll(0):
        if sock.poll(POLL_MS) and sock.recv() == b"\x01":
            return True
    return False


class ArchivePublisher(PublisherProcess):
    """The archive run's publisher process: renders ``warmup`` + ``count`` messages, binds,
    waits for the hub's subscription, sends the warm-up ones on `warm`, the rest on `go`."""

    label = "archive publisher"

    def __init__(self, count: int, tag: str, warmup: int) -> None:
        super().__init__(count)
        self.tag = tag
        self.warmup = warmup
        self.port = 0

    @property
    def endpoint(self) -> str:
        """Where the hub connects."""
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process and wait for its bound port (after it rendered the messages)."""
        args = (self.count, self.tag, self.warmup)
        self._spawn(archive_publish_main, args, "bench-archive-publisher")
        self.port = self._expect("port", 60)[1]

    def wait_subscribed(self, timeout: float) -> None:
        """Block until the hub has subscribed to every topic."""
        self._expect("subscribed", timeout)

    def warm(self, timeout: float) -> None:
        """Send the warm-up messages; return once they are handed to the socket."""
        assert self._conn is not None
        self._conn.send("warm")
        self._expect("warmed", timeout)
