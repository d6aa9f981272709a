"""hub.transports.amqp.bindings against RabbitMQ's own routing: every table row, probed."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator

import pika
import pytest

from hub.routing.topics import TopicMatcher
from hub.transports.amqp.bindings import binding_for
from tests.integration.servers.rabbitmq import RabbitMQ
from tests.unit.transports.amqp.amqp_match import amqp_matches
from tests.unit.transports.amqp.test_bindings import TABLE

pytestmark = pytest.mark.integration
# What each kind of wildcard is filled with when probing: words, nothing, dots.
FILLERS = {"*": ("", "x", "x.y", "."), "?": ("x", "."), "[": ("x", "y", ".")}
_WILD = re.compile(r"\*+|\?|\[!?\]?[^\]]*\]")


def probes(glob: str) -> set[str]:
    """Topics near ``glob``: its wildcards filled each way, one word shorter, one longer."""
    out = {glob}
    for pick in range(4):
        filled = _WILD.sub(functools.partial(_fill, pick), glob)
        out |= {filled, filled.rsplit(".", 1)[0], f"{filled}.z"}
    return out


def _fill(pick: int, wildcard: re.Match[str]) -> str:
    """The ``pick``-th filler for this kind of wildcard (its last, if it has fewer)."""
    options = FILLERS[wildcard.group(0)[0]]
    return options[min(pick, len(options) - 1)]


def small_topics() -> Iterator[str]:
    """Every topic of up to four characters over a, b and the dot (empty words included)."""
    for length in range(5):
        yield from map("".join, itertools.product("ab.", repeat=length))


def test_rabbitmq_routes_each_table_key_as_the_table_says(rabbitmq: RabbitMQ) -> None:
    """Each key gets every topic its glob matches; an exact key no other; as the model says."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    channel = connection.channel()
    channel.exchange_declare("hubtest.bindings", "topic", auto_delete=True)
    rows = [(glob, binding_for(glob)) for glob, _key, _exact in TABLE]
    topics = set(small_topics()).union(*(probes(glob) for glob, _ in rows))
    for n, (_glob, binding) in enumerate(rows):
        channel.queue_declare(f"hubtest.bindings.{n}", exclusive=True)
        channel.queue_bind(f"hubtest.bindings.{n}", "hubtest.bindings", routing_key=binding.key)
    channel.confirm_delivery()
    for topic in sorted(topics):
        channel.basic_publish("hubtest.bindings", topic, topic.encode())
    for n, (glob, binding) in enumerate(rows):
        routed = _drain(channel, f"hubtest.bindings.{n}")
        wanted = {t for t in topics if TopicMatcher([glob]).matches(t)}
        assert wanted <= routed, (glob, binding.key, wanted - routed)
        assert routed == {t for t in topics if amqp_matches(binding.key, t)}, (glob, binding.key)
        if binding.exact:
            assert routed == wanted, (glob, binding.key, routed - wanted)
    connection.close()


def _drain(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str) -> set[str]:
    out: set[str] = set()
    while True:
        method, _props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.add(body.decode())
