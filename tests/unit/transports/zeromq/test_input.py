"""hub.transports.zeromq.input: batches are read off a real socket; a defect downstream stops input
for good."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import zmq

from hub.config import config_from_dict
from hub.transports.zeromq.input import Batch, ZmqInput


class Reactor:
    """What ZmqInput asks of the reactor: its set of readers, and later calls (kept, not run)."""

    def __init__(self) -> None:
        self.readers: set[Any] = set()
        self.later: list[Any] = []

    def addReader(self, reader: Any) -> None:
        self.readers.add(reader)

    def removeReader(self, reader: Any) -> None:
        self.readers.discard(reader)

    def callLater(self, delay: float, f: Any, *args: Any) -> None:
        self.later.append(f)


_names = itertools.count()


@pytest.fixture
def pair() -> Any:
    """A connected inproc PAIR: (the test's end, the end ZmqInput reads)."""
    ctx = zmq.Context.instance()
    ours, theirs = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    name = f"inproc://zmq-input-test-{next(_names)}"  # a closed socket frees its name lazily
    ours.bind(name)
    theirs.connect(name)
    yield ours, theirs
    ours.close(linger=0)
    theirs.close(linger=0)


def reading(sock: zmq.Socket, on_batch: Any, failures: list[Exception]) -> tuple[ZmqInput, Reactor]:
    reactor = Reactor()
    config = config_from_dict({"endpoints": ["tcp://a:1"], "zmq": {"batch_size": 3}})
    source = ZmqInput(
        reactor, zmq.Context.instance(), config=config, on_batch=on_batch,
        on_failure=failures.append,
    )  # fmt: skip
    source.socket = sock  # start() would connect a SUB socket; the reading is the same
    reactor.addReader(source)
    return source, reactor


def send(sock: zmq.Socket, peer: zmq.Socket, count: int) -> None:
    for n in range(count):
        sock.send_multipart([b"org.test", b'{"n": %d}' % n])
    assert peer.poll(5000), "the messages arrived"


def test_batches_are_drained_up_to_batch_size_and_the_rest_read_later(pair: Any) -> None:
    """Five messages, batch_size 3: one batch of 3 now, a read scheduled for the other 2."""
    ours, theirs = pair
    batches: list[Batch] = []
    source, reactor = reading(theirs, batches.append, [])
    send(ours, theirs, 5)
    source.doRead()
    assert [len(b) for b in batches] == [3] and reactor.later == [source.doRead]
    source.doRead()
    assert [len(b) for b in batches] == [3, 2]
    assert batches[1][1] == [b"org.test", b'{"n": 4}']


def test_a_batch_that_fails_downstream_stops_input_for_good_and_is_reported(
    pair: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception out of on_batch (a defect, not bad input) is logged as critical, reported
    through on_failure once, and input stays stopped: resume() and later reads do nothing."""
    ours, theirs = pair
    calls: list[Batch] = []
    failures: list[Exception] = []

    def broken(batch: Batch) -> None:
        calls.append(batch)
        raise ValueError("argument out of range")

    source, reactor = reading(theirs, broken, failures)
    send(ours, theirs, 2)
    source.doRead()
    assert len(calls) == 1 and [str(f) for f in failures] == ["argument out of range"]
    assert source not in reactor.readers and source.failure is failures[0]
    assert "handling a batch of 2 message(s) failed" in caplog.text
    send(ours, theirs, 1)
    source.resume()  # the router resuming after a disk pause must not restart it
    source.doRead()
    assert source not in reactor.readers and len(calls) == 1 and len(failures) == 1
