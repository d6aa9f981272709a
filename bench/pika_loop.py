"""The AMQP baselines: a plain pika consumer loop on a queue of its own.

``select_main``, ``blocking_main`` and ``twisted_main`` each run in a process of their own
(``spawn``, through `bench.baseline.Baseline`), single-threaded: pika's ``SelectConnection``
(its own ioloop, callbacks), ``BlockingConnection`` (``basic_consume`` + ``start_consuming``,
what most plain consumers are) or the Twisted adapter the hub's protocol is built on
(``TwistedProtocolConnection``: pika reads each delivery, a Deferred per delivery from its
queue object, on the reactor thread; no hand-off, no hub code). Each sets
``basic_qos(prefetch_count=prefetch)`` as the hub does, and per delivery does what the hub's
path does around a counting consumer: ``json.loads`` of the body, the same `Tally` bookkeeping,
then ``basic_ack`` of that one delivery tag (no ``multiple``: the hub acks each message once
finished).

The queue is filled before the loop starts, so each is timed from its first delivery
(``from_arrival``) and reports its own CPU time over the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from typing import Any

import pika
from pika.adapters.twisted_connection import TwistedProtocolConnection
from twisted.internet import defer, endpoints

from bench.tally import Tally
from bench.wire import STAMP

log = logging.getLogger(__name__)

SELECT, BLOCKING, TWISTED = "pika-select", "pika-blocking", "pika-twisted"


def _tally(name: str, expect: int, report: str, latency: bool) -> Tally:
    return Tally(name, expect, report, latency, from_arrival=True)


def select_main(  # noqa: PLR0913 - Baseline's signature, then the queue's
    url: str, expect: int, report: str, latency: bool, stop: Any, *, queue: str, prefetch: int
) -> None:
    """pika ``SelectConnection`` loop until ``expect`` messages, then wait for ``stop``."""
    tally = _tally(SELECT, expect, report, latency)
    observe, loads = tally.observe, json.loads
    connection: pika.SelectConnection

    def on_message(channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        observe(*loads(body)[STAMP])
        channel.basic_ack(method.delivery_tag)
        if tally.finished:
            connection.close()

    def on_channel(channel: Any) -> None:
        channel.basic_qos(
            prefetch_count=prefetch, callback=lambda _: channel.basic_consume(queue, on_message)
        )

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_open_error_callback=lambda _c, error: log.error("cannot connect: %s", error),
        on_close_callback=lambda _c, _reason: connection.ioloop.stop(),
    )
    connection.ioloop.start()
    stop.wait()
    tally.close()


def blocking_main(  # noqa: PLR0913 - Baseline's signature, then the queue's
    url: str, expect: int, report: str, latency: bool, stop: Any, *, queue: str, prefetch: int
) -> None:
    """pika ``BlockingConnection`` loop until ``expect`` messages, then wait for ``stop``."""
    tally = _tally(BLOCKING, expect, report, latency)
    observe, loads = tally.observe, json.loads
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)

    def on_message(channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        observe(*loads(body)[STAMP])
        channel.basic_ack(method.delivery_tag)
        if tally.finished:
            channel.stop_consuming()

    channel.basic_consume(queue, on_message)
    channel.start_consuming()
    connection.close()
    stop.wait()
    tally.close()


def twisted_main(  # noqa: PLR0913 - Baseline's signature, then the queue's
    url: str, expect: int, report: str, latency: bool, stop: Any, *, queue: str, prefetch: int
) -> None:
    """pika's Twisted adapter on a reactor until ``expect`` messages, then wait for ``stop``."""
    from twisted.internet import reactor as installed  # installed in this process only

    reactor: Any = installed
    tally = _tally(TWISTED, expect, report, latency)
    params = pika.URLParameters(url)
    target = endpoints.TCP4ClientEndpoint(reactor, params.host, params.port)
    connected = endpoints.connectProtocol(target, TwistedProtocolConnection(params))
    connected.addCallback(_twisted_loop, tally, queue, prefetch)
    connected.addErrback(lambda failure: log.error("pika-twisted: %s", failure.value))
    connected.addBoth(lambda _: reactor.stop())
    reactor.run()
    stop.wait()
    tally.close()


@defer.inlineCallbacks
def _twisted_loop(
    connection: Any, tally: Tally, queue: str, prefetch: int
) -> Generator[Any, Any, None]:
    """Consume until the tally is finished: one ``source.get()`` Deferred per delivery."""
    observe, loads = tally.observe, json.loads
    yield connection.ready
    channel = yield connection.channel()
    yield channel.basic_qos(prefetch_count=prefetch)
    source, _tag = yield channel.basic_consume(queue, auto_ack=False)
    while not tally.finished:
        item = yield source.get()
        observe(*loads(item.body)[STAMP])
        channel.basic_ack(item.method.delivery_tag)
    yield connection.close()
