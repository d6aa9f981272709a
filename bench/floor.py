"""The design's floor: a Twisted reactor that reads the SUB socket and hands each batch to one
worker thread, and nothing else.

``floor_main`` runs in its own process (``spawn``), like the baseline: the epoll reactor on the
main thread reads with `hub.transports.zeromq.input.receive`, exactly as the hub does, decodes each
envelope once with ``json.loads`` (the loop's decoder) and puts the batch in one
``queue.SimpleQueue`` per consumer; each consumer's worker thread (``floor:worker:<n>``) takes the
batches and counts them with the same `bench.tally.Tally` as the loop. No validation, routing,
log, metrics or stats.

It answers one question in the same run as the hub and the loop: what do the parts every hub
of this design must have (a reactor, a decode, and a thread hand-off per consumer) cost by
themselves? The hub's figures are then read against both: the loop (the practical limit) and
this floor (the limit of the architecture). Its handle is `bench.baseline.Baseline` running
``floor_main``.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from typing import Any

import zmq
from twisted.internet.interfaces import IReadDescriptor
from zope.interface import implementer

from bench.baseline import RCVHWM
from bench.tally import Tally
from bench.wire import STAMP
from hub.transports.zeromq.input import receive

BATCH = 250  # the hub's default zmq.batch_size


def floor_names(consumers: int) -> list[str]:
    """The receivers' names: "floor", or "floor0".. for a fan-out."""
    return ["floor"] if consumers == 1 else [f"floor{i}" for i in range(consumers)]


def floor_main(
    endpoint: str, expect: int, report: str, latency: bool, stop: Any, consumers: int = 1
) -> None:
    """Floor process entry point: receive until every worker has the last message, then wait
    for ``stop``."""
    from twisted.internet import epollreactor  # installed here, in the spawned process

    epollreactor.install()
    from twisted.internet import reactor as installed

    reactor: Any = installed
    handoffs = [Handoff(Tally(name, expect, report, latency)) for name in floor_names(consumers)]
    running = [len(handoffs)]

    def finished() -> None:  # reactor, once per worker
        running[0] -= 1
        if not running[0]:
            reactor.stop()

    for index, handoff in enumerate(handoffs):
        threading.Thread(
            target=handoff.run, args=(lambda: reactor.callFromThread(finished),),
            name=f"floor:worker:{index}", daemon=True,
        ).start()  # fmt: skip
    reader = Reader(endpoint, reactor, lambda batch: fan_out(batch, handoffs))
    reactor.callWhenRunning(reader.start)
    reactor.run()
    stop.wait()
    for handoff in handoffs:
        handoff.tally.close()
    reader.close()


def fan_out(batch: list[list[bytes]], handoffs: list[Handoff]) -> None:
    """Reactor: decode each envelope once (``json.loads``, as the loop does) and hand the
    batch to every worker."""
    loads = json.loads
    decoded = [loads(envelope) for _topic, envelope in batch]
    for handoff in handoffs:
        handoff.put(decoded)


class Handoff:
    """The queue between the reactor (``put``) and one worker thread (``run``): a
    ``queue.SimpleQueue`` of batches, the cheapest hand-off CPython has (``get`` blocks in C)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.batches: queue.SimpleQueue[list[dict[str, Any]]] = queue.SimpleQueue()

    def put(self, envelopes: list[dict[str, Any]]) -> None:
        """Reactor: hand decoded envelopes over (wakes the worker if it waits)."""
        self.batches.put(envelopes)

    def run(self, finished: Callable[[], None]) -> None:
        """Worker thread: count every envelope handed over; after the last message call
        ``finished``."""
        observe, tally, get = self.tally.observe, self.tally, self.batches.get
        while not tally.finished:
            for envelope in get():
                observe(*envelope["msg"][STAMP])
        finished()


@implementer(IReadDescriptor)
class Reader:
    """The hub's way of reading a SUB socket from the reactor (see
    `hub.transports.zeromq.input.ZmqInput`)."""

    def __init__(self, endpoint: str, reactor: Any, on_batch: Any) -> None:
        self.endpoint = endpoint
        self.reactor = reactor
        self.on_batch = on_batch
        self.socket: Any = None

    def start(self) -> None:
        self.socket = zmq.Context.instance().socket(zmq.SUB)
        self.socket.setsockopt(zmq.RCVHWM, RCVHWM)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SUBSCRIBE, b"")
        self.socket.connect(self.endpoint)
        self.reactor.addReader(self)
        self.doRead()

    def fileno(self) -> int:
        return int(self.socket.getsockopt(zmq.FD))

    def doRead(self) -> None:
        batch = receive(self.socket, BATCH)
        if batch:
            self.on_batch(batch)
        if len(batch) >= BATCH:
            self.reactor.callLater(0, self.doRead)

    def connectionLost(self, reason: object) -> None:
        pass

    def logPrefix(self) -> str:
        return "floor"

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
