"""The RabbitMQ broker of the AMQP scenarios, and the queues each run declares and deletes.

Runs in the bench process's main thread. The broker is ``--amqp-url`` when given; otherwise a
private node (`tests.integration.servers.rabbitmq.RabbitMQ`: its own name, ports, epmd and
temporary directory; the system's node is never touched), started on first use and stopped by
`Broker.close`, which ``python -m bench`` calls in a ``finally``, so the node never outlives the
run, even on error.

Each run declares the queues it uses from the hub's own `QueueSpec` (the same arguments, the same
dead-letter queue and the same binding keys the hub declares), under a prefix of its own, bound
to a topic root of its own (``bench.r<pid>x<n>``), and deletes them afterwards: runs never see
each other's messages, nor anyone else's on a shared ``--amqp-url`` broker.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from typing import Any

import pika

from hub.transports.amqp.channel import QueueSpec

log = logging.getLogger(__name__)

EXCHANGE = "amq.topic"
PACKAGE = "rabbitmq-server"
_runs = itertools.count(1)


class Broker:
    """``url()`` of the broker: the given one, or a private node started on first call."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._node: Any = None  # tests.integration.servers.rabbitmq.RabbitMQ, once started

    def url(self) -> str:
        """The AMQP URL; starts the private node if there is no ``--amqp-url``."""
        if self._url is None:
            self._url = self._start_node()
        return self._url

    def _start_node(self) -> str:
        from tests.integration.servers.rabbitmq import RabbitMQ, find_scripts

        scripts = find_scripts()
        if scripts is None:
            raise RuntimeError(f"{PACKAGE} is not installed: apt-get install {PACKAGE}, "
                               "or give --amqp-url")  # fmt: skip
        self._node = RabbitMQ(scripts)
        try:
            self._node.start()
        except BaseException:
            self.close()
            raise
        log.warning("private RabbitMQ node %s answered after %.1f s", self._node.node,
                    self._node.startup_s)  # fmt: skip
        return str(self._node.url)

    def close(self) -> None:
        """Stop the private node, if one was started (idempotent)."""
        node, self._node = self._node, None
        if node is not None:
            node.stop()


def run_names() -> tuple[str, str]:
    """A queue prefix and a topic root no other run uses."""
    n = next(_runs)
    return f"bench-{os.getpid()}-{n}", f"bench.r{os.getpid()}x{n}"


def queue_spec(prefix: str, name: str, root: str, prefetch: int) -> QueueSpec:
    """The queue the hub declares for consumer ``name`` with topics ``[root.*]``."""
    return QueueSpec.for_consumer(prefix, name, [f"{root}.*"], prefetch=prefetch)


def connect(url: str) -> pika.BlockingConnection:
    """A blocking connection for the bench's own declarations and counts."""
    return pika.BlockingConnection(pika.URLParameters(url))


def declare(url: str, spec: QueueSpec) -> None:
    """Declare ``spec``'s dead-letter queue and queue and bind it, as the hub does."""
    connection = connect(url)
    try:
        channel = connection.channel()
        if spec.dead_letter_queue:
            channel.queue_declare(
                spec.dead_letter_queue, durable=True, arguments={"x-queue-type": spec.queue_type}
            )
        channel.queue_declare(spec.name, durable=True, arguments=spec.arguments())
        for key in spec.binding_keys:
            channel.queue_bind(spec.name, EXCHANGE, routing_key=key)
    finally:
        connection.close()


def delete(url: str, spec: QueueSpec) -> None:
    """Delete ``spec``'s queue and dead-letter queue (a failure is logged, not raised)."""
    try:
        connection = connect(url)
    except pika.exceptions.AMQPError as error:
        log.warning("cannot delete %s: %s", spec.name, error)
        return
    try:
        channel = connection.channel()
        for name in (spec.name, spec.dead_letter_queue):
            if name:
                channel.queue_delete(name)
    finally:
        connection.close()


def wait_ready(url: str, queue: str, count: int, timeout: float) -> None:
    """Block until ``queue`` holds ``count`` ready messages (publishes are not confirmed)."""
    connection = connect(url)
    try:
        channel = connection.channel()
        deadline = time.monotonic() + timeout
        while True:
            ready = channel.queue_declare(queue, passive=True).method.message_count
            if ready >= count:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{queue}: {ready:,} of {count:,} messages after {timeout:.0f} s"
                )
            connection.sleep(0.05)
    finally:
        connection.close()
