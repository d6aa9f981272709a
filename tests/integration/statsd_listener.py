"""A real statsd server stand-in for tests: a UDP socket on an ephemeral loopback port.

Runs a reader thread in the pytest process that keeps every datagram; tests read the parsed
lines and wait for values with a deadline (no fixed sleeps).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from tests.integration.harness import wait_until


class StatsdListener:
    """Collects statsd datagrams sent to ``127.0.0.1:port``."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.datagrams: list[bytes] = []
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> StatsdListener:
        self._thread.start()
        return self

    def _read(self) -> None:
        while self._running:
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.datagrams.append(data)

    def close(self) -> None:
        self._running = False
        self._thread.join(2)
        self.sock.close()

    def lines(self, since: int = 0) -> list[tuple[str, float, str]]:
        """(name, value, type) of every line in datagrams[since:], in arrival order."""
        with self._lock:
            grams = list(self.datagrams[since:])
        out = []
        for gram in grams:
            for line in gram.decode("ascii").split("\n"):
                name, rest = line.split(":", 1)
                value, kind = rest.split("|", 1)
                out.append((name, float(value), kind))
        return out

    def counter_total(self, name: str) -> float:
        """The sum of every delta sent for counter ``name``."""
        return sum(v for n, v, k in self.lines() if n == name and k == "c")

    def gauges(self, name: str, since: int = 0) -> list[float]:
        return [v for n, v, k in self.lines(since) if n == name and k == "g"]

    def next_gauge(self, name: str, timeout: float = 10.0) -> float:
        """The first value of gauge ``name`` received after this call."""
        mark = len(self.datagrams)
        found: Callable[[], Any] = lambda: self.gauges(name, mark)  # noqa: E731
        return wait_until(found, timeout, f"a statsd gauge {name}")[0]  # type: ignore[no-any-return]
