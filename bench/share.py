"""Counting one consumer's messages over every hub that shares its queue.

Runs in the bench process's main thread. One PULL socket bound to an ``ipc://`` path in the
run's temporary directory; every `bench.consumers.SharedConsumer` (one per hub) sends one report
per message: ``[{"event": "seen", "name": <hub>}, seq, sent_ns, consume() start, end]``. A run
is complete when every sequence number 0..count-1 has been seen exactly once; a message seen
twice, or no news for ``idle_timeout`` seconds before the end, is a `LossError`.
"""

from __future__ import annotations

import json
import logging
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import zmq

from bench.collector import LossError
from bench.consumers import SEEN

log = logging.getLogger(__name__)


@dataclass
class Shared:
    """A shared run's outcome: over all hubs, and how many messages each hub took."""

    count: int
    first_sent_ns: int
    last_end_ns: int
    latencies: list[int]  # consume() start - send, sorted
    per_hub: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Messages a second: the first send to the last message's end of work, over all hubs."""
        return self.count / max(self.last_end_ns - self.first_sent_ns, 1) * 1e9


class ShareCollector:
    """Receives every hub's per-message reports; knows when the whole run is in."""

    def __init__(self, directory: Path) -> None:
        self.endpoint = f"ipc://{directory / 'shared.sock'}"
        self._socket: zmq.SyncSocket = zmq.Context.instance().socket(zmq.PULL)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(self.endpoint)

    def close(self) -> None:
        """Unbind and close."""
        self._socket.close()

    def wait_all(self, count: int, alive: Callable[[], bool], idle_timeout: float) -> Shared:
        """Block until seqs 0..count-1 are in, each once; else raise `LossError`."""
        seen = bytearray(count)
        sent, latencies, hubs = array("q", bytes(8 * count)), array("q"), Counter[str]()
        got, last_end, last_news = 0, 0, time.monotonic()
        while got < count:
            if not self._socket.poll(200):
                if time.monotonic() - last_news > idle_timeout or not alive():
                    raise LossError(f"LOSS: no news for {idle_timeout:.0f} s ({got:,} of "
                                    f"{count:,} messages, by hub: {dict(hubs)})")  # fmt: skip
                continue
            last_news = time.monotonic()
            header, payload = self._socket.recv_multipart()
            seq, sent_ns, started, ended = SEEN.unpack(payload)
            if not 0 <= seq < count or seen[seq]:
                raise LossError(f"LOSS: message {seq} delivered twice (or not of this run)")
            seen[seq], sent[seq] = 1, sent_ns
            latencies.append(started - sent_ns)
            hubs[json.loads(header)["name"]] += 1
            got, last_end = got + 1, max(last_end, ended)
        return Shared(count, sent[0], last_end, sorted(latencies), dict(hubs))
