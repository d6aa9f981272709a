"""Interoperation with fedora-messaging itself, through the real broker, both directions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika
import pytest

from hub.transports.amqp.channel import QueueSpec
from hub.transports.amqp.connection import AmqpConnection
from hub.transports.amqp.wire import WARNING, About, decode, encode
from tests.integration.harness import REPO
from tests.integration.servers.rabbitmq import RabbitMQ
from tests.integration.transports.amqp.support import Deliveries, ReactorThread, wait_for

pytestmark = pytest.mark.integration
Connect = Callable[..., AmqpConnection]


def fm_peer(rabbitmq: RabbitMQ, tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run fedora-messaging (tests/.../fm_peer.py) against the node; return what it printed."""
    conf = tmp_path / "fedora-messaging.toml"
    conf.write_text(f'amqp_url = "{rabbitmq.url}"\n\n[client_properties]\napp = "hub tests"\n')
    env = dict(os.environ, FEDORA_MESSAGING_CONF=str(conf), PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.transports.amqp.fm_peer", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def test_a_message_published_by_fedora_messaging_arrives_intact(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    """The library's api.publish(): our consumer gets its topic, body, id and every header."""
    got = Deliveries()
    conn = connections(rabbitmq.url, [QueueSpec(f"{prefix}.q", (f"{prefix}.*.#",))], got)
    wait_for(lambda: reactor_thread.call(lambda: conn.connected), "consuming")
    body = {"agent": "ralph", "text": "héllo ✓", "list": [1, None, 2.5]}
    sent = fm_peer(rabbitmq, tmp_path, "publish", f"{prefix}.app.event", json.dumps(body))
    (delivery,) = got.take()
    message = decode(delivery.routing_key, delivery.properties, delivery.body, 1 << 20, 0.0)
    assert (message.topic, message.body) == (f"{prefix}.app.event", body)
    assert message.msg_id == sent["id"]
    assert message.envelope["headers"] == sent["headers"]
    assert message.envelope["headers"]["fedora_messaging_severity"] == WARNING
    assert message.timestamp is not None
    assert reactor_thread.call(conn.ack, delivery.tag, delivery.generation)


def test_what_we_publish_is_consumed_and_validated_by_fedora_messaging(
    rabbitmq: RabbitMQ, reactor_thread: ReactorThread, connections: Connect, prefix: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Our publish() with confirms; the library's api.consume() accepts and validates it."""
    queue = f"{prefix}.fm"
    blocking = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    blocking.channel().queue_declare(queue, durable=True)
    blocking.channel().queue_bind(queue, "amq.topic", routing_key=f"{prefix}.to-fm")
    blocking.close()
    conn = connections(rabbitmq.url, [], Deliveries())
    wait_for(lambda: reactor_thread.call(lambda: conn.connected), "connected")
    sent = encode(f"{prefix}.to-fm", {"badge": "🏅"}, about=About(usernames=["alice"]))
    reactor_thread.call(conn.publish, sent)
    seen = fm_peer(rabbitmq, tmp_path, "consume", queue)
    assert (seen["topic"], seen["body"], seen["id"]) == (
        f"{prefix}.to-fm",
        {"badge": "🏅"},
        sent.properties.message_id,
    )
    assert seen["class"] == "Message" and seen["severity"] == 20
    assert seen["headers"] == sent.properties.headers
    assert seen["headers"]["fedora_messaging_user_alice"] is True
