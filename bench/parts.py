"""The design floor taken apart: each of its two costs alone, for ``--only parts``.

The floor (`bench.floor`) is a reactor that reads the socket plus one thread hand-off. These
receivers each keep one half of it, so a run can say which half costs what against the plain
loop (`bench.baseline`), at the same offered load:

- ``reactor_main`` ("reactor"): the floor's Twisted reactor and reader, the tally called on the
  reactor thread: the event-driven read without a hand-off;
- ``poll_main`` ("poll"): a bare ``select.epoll`` on the socket's edge-triggered FD and the
  same non-blocking `hub.transports.zeromq.input.receive`, no Twisted: is it Twisted, or reading
  from an event loop at all?
- ``handoff_main`` ("handoff"): the loop's blocking ``recv_multipart`` on a reader thread,
  each message handed to a worker thread through the floor's ``queue.SimpleQueue``: the hand-off
  without the reactor;
- ``epoll_floor_main`` ("epoll-floor"): the bare ``epoll`` read and the same hand-off: the floor
  without Twisted.

Each runs in its own process (``spawn``), like the baseline, and is driven through
`bench.baseline.Baseline`. Nothing here is used by the hub.
"""

from __future__ import annotations

import json
import select
import threading
from typing import Any

import zmq

from bench.baseline import RCVHWM
from bench.floor import BATCH, Handoff, Reader
from bench.tally import Tally
from bench.wire import STAMP
from hub.transports.zeromq.input import receive


def subscriber(endpoint: str) -> zmq.Socket:
    """A SUB socket set up as the loop's and the floor's."""
    sock: zmq.Socket = zmq.Context.instance().socket(zmq.SUB)
    sock.setsockopt(zmq.RCVHWM, RCVHWM)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.connect(endpoint)
    return sock


def reactor_main(endpoint: str, expect: int, report: str, latency: bool, stop: Any) -> None:
    """The floor's reactor and reader; decode and tally on the reactor thread."""
    from twisted.internet import epollreactor  # installed here, in the spawned process

    epollreactor.install()
    from twisted.internet import reactor as installed

    reactor: Any = installed
    tally = Tally("reactor", expect, report, latency)
    observe, loads = tally.observe, json.loads

    def on_batch(batch: list[list[bytes]]) -> None:
        for _topic, envelope in batch:
            observe(*loads(envelope)["msg"][STAMP])
        if tally.finished:
            reactor.stop()

    reader = Reader(endpoint, reactor, on_batch)
    reactor.callWhenRunning(reader.start)
    reactor.run()
    stop.wait()
    tally.close()
    reader.close()


def poll_main(endpoint: str, expect: int, report: str, latency: bool, stop: Any) -> None:
    """``epoll`` on the socket's FD, drain with ``receive`` on each wake-up, tally inline."""
    sock = subscriber(endpoint)
    tally = Tally("poll", expect, report, latency)
    observe, loads = tally.observe, json.loads
    poller = select.epoll()
    poller.register(int(sock.getsockopt(zmq.FD)), select.EPOLLIN | select.EPOLLET)
    while True:
        for _topic, envelope in receive(sock, BATCH):  # edge-triggered: drain, then wait
            observe(*loads(envelope)["msg"][STAMP])
        if tally.finished:
            break
        poller.poll()
    stop.wait()
    tally.close()
    poller.close()
    sock.close()


def start_worker(handoff: Handoff) -> threading.Event:
    """Start the worker thread of ``handoff``; the Event is set once it has the last message."""
    done = threading.Event()
    threading.Thread(target=handoff.run, args=(done.set,), name="parts:worker", daemon=True).start()
    return done


def handoff_main(endpoint: str, expect: int, report: str, latency: bool, stop: Any) -> None:
    """A reader thread blocking in ``recv_multipart`` (as the loop does) hands each decoded
    message to one worker thread (as the floor does)."""
    sock = subscriber(endpoint)
    handoff = Handoff(Tally("handoff", expect, report, latency))
    done = start_worker(handoff)
    sock.setsockopt(zmq.RCVTIMEO, 100)  # to notice the worker is done; the wait is libzmq's
    recv, loads, put = sock.recv_multipart, json.loads, handoff.put
    while not done.is_set():
        try:
            _topic, envelope = recv()
        except zmq.Again:
            continue
        put([loads(envelope)])
    stop.wait()
    handoff.tally.close()
    sock.close()


def epoll_floor_main(endpoint: str, expect: int, report: str, latency: bool, stop: Any) -> None:
    """The bare ``epoll`` read of ``poll_main``, each batch decoded and handed to one worker
    thread through the floor's ``Handoff``."""
    sock = subscriber(endpoint)
    handoff = Handoff(Tally("epoll-floor", expect, report, latency))
    done = start_worker(handoff)
    loads, put = json.loads, handoff.put
    poller = select.epoll()
    poller.register(int(sock.getsockopt(zmq.FD)), select.EPOLLIN | select.EPOLLET)
    while not done.is_set():
        batch = receive(sock, BATCH)  # edge-triggered: drain, then wait
        if batch:
            put([loads(envelope) for _topic, envelope in batch])
        poller.poll(0.1)  # to notice the worker is done
    stop.wait()
    handoff.tally.close()
    poller.close()
    sock.close()
