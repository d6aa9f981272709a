"""The practical limit: a plain pyzmq SUB loop that receives and ``json.loads`` the same stream.

``baseline_main`` runs in its own process (``spawn``), single-threaded: ``recv_multipart``,
``json.loads`` of the envelope, then the same ``Tally`` bookkeeping a bench consumer does in the
hub. ``Baseline`` is its handle in the bench process's main thread; it has the same shape as
:class:`bench.hubproc.Hub` so a scenario can run either.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

import zmq

from bench.tally import Tally
from bench.wire import STAMP

log = logging.getLogger(__name__)

NAME = "baseline"
RCVHWM = 2_000_000


def baseline_main(endpoint: str, expect: int, report: str, latency: bool, stop: Any) -> None:
    """Baseline process entry point: receive until the last message, then wait for ``stop``.

    (It stays alive until told, so the bench can read its CPU time after the run.)
    """
    ctx = zmq.Context()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, RCVHWM)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(endpoint)
    tally = Tally(NAME, expect, report, latency)
    recv, loads, observe = sock.recv_multipart, json.loads, tally.observe
    while not tally.finished:
        _topic, envelope = recv()
        observe(*loads(envelope)["msg"][STAMP])
    stop.wait()
    tally.close()
    sock.close()
    ctx.term()


class Baseline:
    """Bench-side handle on one baseline process (or, with ``main`` and ``names``, on another
    receiver process of the same signature: `bench.floor`)."""

    def __init__(
        self, expect: int, report: str, latency: bool = False,
        main: Callable[..., None] = baseline_main, names: Sequence[str] = (NAME,),
    ) -> None:  # fmt: skip
        self.expect = expect
        self.report = report
        self.latency = latency
        self.main = main
        self.names = list(names)
        self._process: Any = None
        self._stop: Any = None

    def start(self, endpoint: str) -> None:
        """Start receiving from the publisher at ``endpoint``."""
        ctx = multiprocessing.get_context("spawn")
        self._stop = ctx.Event()
        args = (endpoint, self.expect, self.report, self.latency, self._stop)
        self._process = ctx.Process(target=self.main, args=args, name=f"bench-{self.names[0]}")
        self._process.start()

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int:
        """The process id (for CPU time)."""
        return int(self._process.pid)

    def stop(self) -> None:
        """Wait for the process to exit; kill it if it does not."""
        if self._process is None:
            return
        self._stop.set()
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
