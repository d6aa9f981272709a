"""The bridge consumer in a real hub, between a real ZeroMQ bus and a real RabbitMQ: fedmsg ->
AMQP and AMQP -> fedmsg keep topic, body, msg_id and time, and two facing bridges make no loop.

Runs in the pytest process; the private node is ``rabbitmq``. The hub bridges both ways on one
topic root and subscribes to its own PUB socket, so each carried message comes back to the other
bridge, which must drop it. Readiness: /ready, the ZeroMQ subscription handshake, and probes
sent until both PUB/SUB links carry them; never a sleep.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pika
import pytest
import zmq
from fedora_messaging import message as fm

from hub.transports.amqp.wire import encode
from hub.transports.base import BRIDGED
from tests.integration.amqp_hubs import started
from tests.integration.harness import HubProcess, TestPublisher, wait_until
from tests.integration.servers.rabbitmq import RabbitMQ, free_port

pytestmark = pytest.mark.integration
SENT_AT = dt.datetime(2026, 11, 30, 8, 15, 42, tzinfo=dt.UTC)


def bridging_hub(tmp_path: Path, rabbitmq: RabbitMQ, names: tuple[str, str], upstream: str,
                 own: str) -> HubProcess:  # fmt: skip
    """Bridges both ways on ``<root>.*``; its SUB reads ``upstream`` and its own PUB."""
    prefix, root = names
    bridge = {"class": "bridge", "topics": [f"{root}.*"]}
    config = {
        "endpoints": [upstream, own], "publish_endpoint": f"bind:{own}", "publish_to": "amqp",
        "amqp": {"url": rabbitmq.url, "queue_prefix": prefix},
        "status": {"host": "127.0.0.1", "port": 0}, "shutdown_timeout_s": 2,
        "state_dir": str(tmp_path / "state"),
        "consumers": {
            "to-rabbit": dict(bridge, source="zmq", config={"to": "amqp"}),
            "to-zmq": dict(bridge, source="amqp", config={"to": "zmq"}),
        },
    }  # fmt: skip
    return HubProcess(tmp_path, config)


class Capture:
    """A queue bound to every topic under the root: what reached the broker."""

    def __init__(self, rabbitmq: RabbitMQ, queue: str, root: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
        self.channel = self.connection.channel()
        self.queue = queue
        self.channel.queue_declare(queue, durable=True)
        self.channel.queue_bind(queue, "amq.topic", routing_key=f"{root}.#")

    def take(self) -> dict[str, tuple[Any, bytes]]:
        """Everything in the queue now (acked), by routing key."""
        got = {}
        while (one := self.channel.basic_get(self.queue, auto_ack=True))[0] is not None:
            method, properties, body = one
            got[method.routing_key] = (properties, body)
        return got


@pytest.fixture
def capture(rabbitmq: RabbitMQ, names: tuple[str, str]) -> Iterator[Capture]:
    """The test's capture queue, closed afterwards."""
    prefix, root = names
    capture = Capture(rabbitmq, f"{prefix}.capture", root)
    yield capture
    capture.connection.close()


def published(rabbitmq: RabbitMQ, topic: str, **fields: Any) -> str:
    """One fedora-messaging-format message, confirmed; its id."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    channel = connection.channel()
    channel.confirm_delivery()
    message = encode(topic, fields, sent_at=SENT_AT)
    channel.basic_publish("amq.topic", message.routing_key, message.body, message.properties)
    connection.close()
    return message.properties.message_id  # type: ignore[no-any-return]


def dropped(consumer: dict[str, Any]) -> int:
    """How many messages a consumer dropped on purpose (hub.Drop), from its /status entry."""
    return int(consumer["dropped"].get("consumer", 0))


def probe_until_linked(rabbitmq: RabbitMQ, hub: HubProcess, sub: zmq.Socket[bytes],
                       root: str) -> None:  # fmt: skip
    """AMQP probes until one reaches our SUB and one came back to the hub's (and was dropped)."""
    seen = False
    for n in itertools.count():
        published(rabbitmq, f"{root}.probe", n=n)
        seen = seen or bool(sub.poll(200))
        if seen and dropped(hub.status()["consumers"]["to-rabbit"]) >= 1:
            break
        assert n < 100, "the hub's PUB socket never reached both subscribers"
    while sub.poll(200):
        sub.recv_multipart()


def test_two_bridges_carry_fedmsg_to_amqp_and_back_keeping_id_and_time_without_a_loop(
    tmp_path: Path, rabbitmq: RabbitMQ, hubs: list[HubProcess], names: tuple[str, str],
    publisher: TestPublisher, capture: Capture,
) -> None:  # fmt: skip
    """A fedmsg message reaches RabbitMQ with its msg_id as message_id and its timestamp as
    sent-at (fedora-messaging validates it); an AMQP message reaches ZeroMQ subscribers with its
    id and time; each carried message is dropped by the facing bridge, never carried twice."""
    _, root = names
    own = f"tcp://127.0.0.1:{free_port()}"
    hub = started(bridging_hub(tmp_path, rabbitmq, names, publisher.endpoint, own), hubs)
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.connect(own)
    sub.subscribe(f"{root}.".encode())
    publisher.wait_subscribed([f"{root}."])
    probe_until_linked(rabbitmq, hub, sub, root)
    capture.take()

    fedmsg = publisher.send({"topic": f"{root}.z.done", "msg": {"build": 7},
                             "timestamp": SENT_AT.timestamp() + 0.5})  # fmt: skip
    amqp_id = published(rabbitmq, f"{root}.a.done", build=8)
    topic, payload = sub.recv_multipart()
    envelope = orjson.loads(payload)
    assert topic == f"{root}.a.done".encode() and envelope["msg"] == {"build": 8}
    assert envelope["msg_id"] == amqp_id and envelope["timestamp"] == SENT_AT.timestamp()
    assert envelope["headers"][BRIDGED] == "zmq"

    def settled() -> dict[str, Any] | None:
        status = hub.status()["consumers"]
        rabbit, back = status["to-rabbit"], status["to-zmq"]
        return status if dropped(back) == 1 and dropped(rabbit) == back["done"] else None

    status = wait_until(settled, 20, "each carried message dropped by the facing bridge")
    assert status["to-rabbit"]["done"] == 1, "only the upstream fedmsg message was carried"
    got = capture.take()
    assert set(got) == {f"{root}.z.done", f"{root}.a.done"}, "each message reached AMQP once"
    props, body = got[f"{root}.z.done"]
    theirs = fm.get_message(f"{root}.z.done", props, body)
    theirs.validate()
    assert (theirs.id, theirs.body) == (fedmsg["msg_id"], {"build": 7})
    assert props.headers["sent-at"] == SENT_AT.isoformat() and props.headers[BRIDGED] == "amqp"
    sub.close(linger=0)
    assert hub.stop() == 0
