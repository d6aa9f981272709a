"""The bench process's end of the reports that every ``Tally`` sends.

Runs in the bench process's main thread. One PULL socket bound to an ``ipc://`` path in the run's
temporary directory (no TCP port to collide with anyone else's tests).
"""

from __future__ import annotations

import json
import logging
import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

log = logging.getLogger(__name__)


class LossError(RuntimeError):
    """A receiver did not get every message of a run: the benchmark failed."""


@dataclass
class Done:
    """What one receiver reported when it saw the last message of a run."""

    name: str
    count: int
    missing: int
    disorder: int
    first_sent_ns: int
    last_ns: int
    samples: array[int] = field(default_factory=lambda: array("q"))
    cpu_s: float = 0.0  # the receiver's CPU time from its first message to its last (in process)

    @property
    def rate(self) -> float:
        """Messages a second, from the first message's send to the last one's consumption."""
        return self.count / max(self.last_ns - self.first_sent_ns, 1) * 1e9


class Collector:
    """Receives warm/progress/done reports; knows who is warm and who is done."""

    def __init__(self, directory: Path) -> None:
        self.endpoint = f"ipc://{directory / 'reports.sock'}"
        self._socket: zmq.SyncSocket = zmq.Context.instance().socket(zmq.PULL)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(self.endpoint)
        self.warm: set[str] = set()
        self.done: dict[str, Done] = {}
        self.progress: dict[str, int] = {}

    def close(self) -> None:
        """Unbind and close."""
        self._socket.close()

    def wait_warm(self, names: Iterable[str], alive: Callable[[], bool], timeout: float) -> None:
        """Block until every receiver in ``names`` has seen a warm-up message."""
        wanted = set(names)
        deadline = time.monotonic() + timeout
        while not wanted <= self.warm:
            if time.monotonic() > deadline or not alive():
                raise RuntimeError(f"no warm-up message reached {sorted(wanted - self.warm)}")
            self._receive(0.1)

    def wait_done(
        self, names: Iterable[str], expect: int, alive: Callable[[], bool], idle_timeout: float
    ) -> dict[str, Done]:
        """Block until every receiver reports done; raise ``LossError`` if one stalls or loses."""
        wanted = set(names)
        last_news = time.monotonic()
        while not wanted <= set(self.done):
            if self._receive(0.2):
                last_news = time.monotonic()
            elif time.monotonic() - last_news > idle_timeout or not alive():
                self._raise_stalled(wanted, expect, idle_timeout)
        results = {name: self.done[name] for name in sorted(wanted)}
        for done in results.values():
            _check_complete(done, expect)
        return results

    def _raise_stalled(self, wanted: set[str], expect: int, idle_timeout: float) -> None:
        late = sorted(wanted - set(self.done))
        counts = ", ".join(f"{n}: {self.progress.get(n, 0):,}+" for n in late)
        raise LossError(
            f"LOSS: no news for {idle_timeout:.0f} s and not done ({counts} of {expect:,})"
        )

    def _receive(self, timeout: float) -> bool:
        """Handle one report if one arrives within ``timeout`` seconds."""
        if not self._socket.poll(int(timeout * 1000)):
            return False
        frames = self._socket.recv_multipart()
        header: dict[str, Any] = json.loads(frames[0])
        name = header["name"]
        self.progress[name] = header["count"]
        if header["event"] == "warm":
            self.warm.add(name)
        elif header["event"] == "done":
            self.done[name] = _done_from(header, frames[1] if len(frames) > 1 else b"")
        return True


def _done_from(header: dict[str, Any], payload: bytes) -> Done:
    samples = array("q")
    samples.frombytes(payload)
    keys = ("name", "count", "missing", "disorder", "first_sent_ns", "last_ns")
    return Done(**{k: header[k] for k in keys}, samples=samples, cpu_s=header.get("cpu_s", 0.0))


def _check_complete(done: Done, expect: int) -> None:
    if done.count != expect or done.missing or done.disorder:
        raise LossError(
            f"LOSS: {done.name} got {done.count:,} of {expect:,} messages "
            f"({done.missing:,} missing, {done.disorder:,} out of order)"
        )
