"""Publishing the stamped samples to RabbitMQ in fedora-messaging's wire format.

``publish`` runs wherever it is called: on the bench process's main thread to fill a queue
before a throughput run, and in the live publisher process (``publisher_main``, started with
``spawn``) for the scale-out runs. `LivePublisher` is that process's handle, on the bench
process's main thread.

Each message: routing key ``<root>.<sample topic>``; properties from
`hub.transports.amqp.wire.encode` (content type, encoding, delivery mode 2, headers with
``sent-at`` and severity), built once per sample, with a ``message_id`` of its own; the body is
the sample's ``msg`` with ``"bench": [seq, time.monotonic_ns()]`` first (`bench.wire`). Publishes
are not confirmed one by one (that would time the publisher, not the consumer): a fill waits for
the queue's ready count instead (`bench.broker.wait_ready`).

Live protocol over a ``multiprocessing`` pipe: the child connects and sends ``("ready",)``,
waits for ``"go"``, publishes ``count`` messages (paced to ``rate`` a second if non-zero, as
`bench.publisher` paces), replies ``("sent", first_ns, last_ns)`` and exits.
"""

from __future__ import annotations

import copy
import logging
import time
from multiprocessing.connection import Connection
from typing import Any

import pika

from bench.publisher import PublisherProcess, wait_until
from bench.wire import amqp_templates
from hub.transports.amqp.wire import encode

log = logging.getLogger(__name__)

EXCHANGE = "amq.topic"


def publish(channel: Any, root: str, count: int, rate: float = 0.0) -> tuple[int, int]:
    """Publish ``count`` stamped samples on ``channel``; the first and last send times."""
    templates = amqp_templates()
    keys = [f"{root}.{t.topic}" for t in templates]
    props = [encode(key, {}).properties for key in keys]
    n_templates, period_ns = len(templates), 1e9 / rate if rate else 0.0
    send = channel.basic_publish
    start = time.monotonic_ns()
    for seq in range(count):
        if period_ns:
            wait_until(start + int(seq * period_ns))
        i = seq % n_templates
        properties = copy.copy(props[i])
        properties.message_id = f"bench-{seq}"
        send(EXCHANGE, keys[i], templates[i].body % (seq, time.monotonic_ns()), properties)
    return start, time.monotonic_ns()


def publisher_main(conn: Connection, url: str, root: str, count: int, rate: float) -> None:
    """Live publisher process entry point (see the module docstring for the protocol)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    conn.send(("ready",))
    if conn.recv() == "go":
        first_ns, last_ns = publish(channel, root, count, rate)
        connection.process_data_events(0)
        conn.send(("sent", first_ns, last_ns))
    connection.close()


class LivePublisher(PublisherProcess):
    """Bench-side handle on one live AMQP publisher process."""

    label = "AMQP publisher"
    stop_when_sent = False  # the child exits after "sent"

    def __init__(self, url: str, root: str, count: int, rate: float = 0.0) -> None:
        super().__init__(count)
        self.args = (url, root, count, rate)

    def start(self) -> None:
        """Start the process and wait until it is connected."""
        self._spawn(publisher_main, self.args, "bench-amqp-publisher")
        self._expect("ready", 30)
