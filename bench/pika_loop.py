"""The AMQP baselines: a plain pika consumer loop on a queue of its own.

``select_main`` and ``blocking_main`` each run in a process of their own (``spawn``, through
`bench.baseline.Baseline`), single-threaded: pika's ``SelectConnection`` (its own ioloop,
callbacks) or ``BlockingConnection`` (``basic_consume`` + ``start_consuming``, what most plain
consumers are). Both set ``basic_qos(prefetch_count=prefetch)`` as the hub does, and per
delivery do what the hub's path does before and after a counting consumer: ``json.loads`` of the
body, the same `Tally` bookkeeping, then ``basic_ack`` of that one delivery tag (no
``multiple``: the hub acks each message once finished).

The queue is filled before the loop starts, so each is timed from its first delivery
(``from_arrival``) and reports its own CPU time over the run.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pika

from bench.tally import Tally
from bench.wire import STAMP

log = logging.getLogger(__name__)

SELECT, BLOCKING = "pika-select", "pika-blocking"


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
